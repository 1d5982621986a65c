"""Several OS processes on one sandbox file, as the dashboard, CLI commands and tests do.

Each test starts real processes with ``together.run_together`` (fresh interpreters that share
nothing with this one but the file), lines them up so they act at once, and collects what each
saw as JSON. The workers are functions of this module, which each child imports by name.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
from together import Gate, run_together

from connector.sandbox import DEMO_API_KEY, SANDBOX_URL, Sandbox, SeedSpec

TOO_MANY = {"message": "Too Many Requests"}
SECOND_ENTRY = {"message": "Could not create SubscriberSeries"}


def api(sandbox: Sandbox) -> httpx.Client:
    return httpx.Client(
        transport=sandbox.transport(),
        base_url=SANDBOX_URL + "/api/3",
        headers={"Api-Token": DEMO_API_KEY},
    )


# -- opening a fresh file at once ------------------------------------------------------------


def open_fresh(gate: Gate, path: str, index: int) -> dict[str, str | int]:
    gate()
    with Sandbox(path) as sandbox, api(sandbox) as client:
        # Written right after opening: a late seeder must not wipe it.
        synced = client.post("/contact/sync", json={"contact": {"email": f"p{index}@example.com"}})
        lists = client.get("/lists").json()["meta"]["total"]
    return {"synced": synced.status_code, "lists": lists}


def test_processes_opening_a_fresh_file_at_once_seed_it_once(tmp_path: Path) -> None:
    db = tmp_path / "fresh" / "sandbox.db"
    seed = SeedSpec()
    results = run_together(open_fresh, [(str(db), index) for index in range(6)])
    assert results == [{"synced": 201, "lists": str(seed.lists)}] * 6

    with Sandbox(db) as sandbox, api(sandbox) as client:
        assert client.get("/lists").json()["meta"]["total"] == str(seed.lists)
        assert client.get("/automations").json()["meta"]["total"] == str(seed.automations)
        emails = {
            c["email"] for c in client.get("/contacts", params={"limit": 100}).json()["contacts"]
        }
    assert len(emails) == seed.contacts + 6
    assert {f"p{index}@example.com" for index in range(6)} <= emails
    with closing(sqlite3.connect(db)) as raw:
        ids = [row[0] for row in raw.execute("SELECT id FROM lists ORDER BY id")]
        seeds = raw.execute("SELECT count(*) FROM sandbox_meta WHERE key = 'seed'").fetchone()
    assert ids == list(range(1, seed.lists + 1))
    assert seeds == (1,)


# -- one request budget per account ----------------------------------------------------------

BURST = 3  # requests fired back to back
PAUSE = 0.05  # seconds between bursts
FIRING = 1.6  # seconds each process keeps firing: more than one window


def fire_bursts(gate: Gate, path: str) -> dict[str, Any]:
    with Sandbox(path, rate_limit=5) as sandbox, api(sandbox) as client:
        gate()
        statuses: list[int] = []
        refused: list[tuple[int, str | None, Any]] = []
        stop = time.monotonic() + FIRING
        while time.monotonic() < stop:
            for _ in range(BURST):
                response = client.get("/users/me")
                statuses.append(response.status_code)
                if response.status_code != 200:
                    refused.append(
                        (response.status_code, response.headers.get("Retry-After"), response.json())
                    )
            time.sleep(PAUSE)
        return {
            "ok": statuses.count(200),
            "refused": refused,
            "arrivals": sandbox.arrivals(),
            "stats": sandbox.stats(),
        }


def test_processes_share_one_budget_per_account(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    Sandbox(db).close()  # the account exists before the traffic starts
    results = run_together(fire_bursts, [(str(db),)] * 3)

    arrivals = sorted(at for result in results for at in result["arrivals"])
    # Any 6 consecutive admissions, whichever processes they came from, span at least the 1 s
    # window: no sliding second ever held more than 5.
    spans = [later - earlier for earlier, later in zip(arrivals, arrivals[5:], strict=False)]
    assert spans and min(spans) >= 1.0, spans
    for result in results:
        stats = result["stats"]
        assert stats["admitted"] == result["ok"] == len(result["arrivals"])
        assert stats["refused"] == len(result["refused"]) > 0
        assert stats["requests"] == stats["admitted"] + stats["refused"]
        assert {(status, retry, body == TOO_MANY) for status, retry, body in result["refused"]} == {
            (429, "1", True)
        }


# -- a single-entry automation, entered from several processes at once -----------------------


def enroll_all(gate: Gate, path: str, contacts: list[str], automation: str) -> list[Any]:
    with Sandbox(path) as sandbox, api(sandbox) as client:
        gate()
        answers = []
        for contact in contacts:
            body = {"contactAutomation": {"contact": contact, "automation": automation}}
            response = client.post("/contactAutomations", json=body)
            answers.append((contact, response.status_code, response.json()))
        return answers


def test_single_entry_holds_across_processes(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    with Sandbox(db) as sandbox, api(sandbox) as client:
        automations = client.get("/automations", params={"limit": 100}).json()["automations"]
        single = next(a for a in automations if a["multientry"] == "0")
        contacts = [
            client.post(
                "/contact/sync", json={"contact": {"email": f"race{n}@example.com"}}
            ).json()["contact"]["id"]
            for n in range(4)
        ]
    workers = 4
    results = run_together(enroll_all, [(str(db), contacts, single["id"])] * workers)

    answers = [answer for result in results for answer in result]
    for contact in contacts:
        statuses = sorted(status for who, status, _ in answers if who == contact)
        assert statuses == [201] + [403] * (workers - 1), (contact, statuses)
    assert all(body == SECOND_ENTRY for _, status, body in answers if status == 403)
    with Sandbox(db) as sandbox, api(sandbox) as client:
        for contact in contacts:
            runs = client.get(f"/contacts/{contact}/contactAutomations").json()
            assert [run["automation"] for run in runs["contactAutomations"]] == [single["id"]]
        after = client.get("/automations", params={"limit": 100}).json()["automations"]
    entered = next(a["entered"] for a in after if a["id"] == single["id"])
    assert int(entered) == int(single["entered"]) + len(contacts)
