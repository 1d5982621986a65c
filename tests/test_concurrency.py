"""Many at once on one data file: browser sessions (threads), CLI commands and workers
(processes), one ActiveCampaign account behind a loopback sandbox server that answers 429 past
5 requests per second, as a live account does.

* never twice: 8 threads and 4 processes enroll one contact in one multi-entry automation;
* one budget per account: 4 processes fetch at once and the server refuses nothing;
* a fresh data file opened by 6 commands at once;
* a CLI command killed while its contact sync hangs: the run's whole plan is in the log, and a
  worker finishes list, automation and tag exactly once, as one clean run would have.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from together import REPO, Gate, run_together

from connector import (
    ActionConfig,
    ActionType,
    Console,
    ErrorBehaviour,
    FormInput,
    InputKind,
    Interaction,
    Prompt,
    Reason,
    Run,
    RunStatus,
    SimulatedUser,
    Status,
)
from connector.sandbox import Fault, Sandbox, SandboxServer

EMAIL = "crowd@example.com"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxServer]:
    """The account: a sandbox server with the live limit (5 per second) and 50 ms latency."""
    sandbox = Sandbox(tmp_path / "account.db", rate_limit=5)
    sandbox.configure(latency=0.05)
    with SandboxServer(sandbox) as running:
        yield running
    sandbox.close()


def account_env(tmp_path: Path, server: SandboxServer) -> dict[str, str]:
    return {
        "CONNECTOR_DB": str(tmp_path / "connector.db"),
        "AC_API_URL": server.base_url,
        "AC_API_KEY": server.sandbox.api_key,
    }


def enroll_prompt(automation_id: str) -> Prompt:
    params = {"automation_id": automation_id, "automation_name": "Welcome"}
    return Prompt(
        name="crowd",
        actions={Interaction.ACCEPT: [ActionConfig(ActionType.ADD_TO_AUTOMATION, params)]},
    )


def outcome(run: Run) -> list[Any]:
    enroll = run.attempts[-1]
    return [run.attempts[0].status.value, enroll.status.value, enroll.reason, enroll.attempts]


def enroll_once(gate: Gate, automation_id: str) -> list[Any]:
    """In a child process: one Accept by the same user, through the console's own runner."""
    console = Console()  # the environment names the data file and the account
    runner = console.runner(source="worker")
    gate()
    run = runner.run(
        enroll_prompt(automation_id),
        Interaction.ACCEPT,
        SimulatedUser("p", {"email_address": EMAIL}),
    )
    console.close()
    return outcome(run)


def test_eight_threads_and_four_processes_enroll_once(
    tmp_path: Path, server: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = account_env(tmp_path, server)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    console = Console()
    automation = next(a for a in console.client().automations() if a.multientry)

    results: list[list[Any]] = []
    lock = threading.Lock()
    start = threading.Event()

    def session() -> None:  # a browser session: a thread of the dashboard's process
        runner = console.runner(source="simulator")
        start.wait()
        run = runner.run(
            enroll_prompt(automation.id),
            Interaction.ACCEPT,
            SimulatedUser("t", {"email_address": EMAIL}),
        )
        with lock:
            results.append(outcome(run))

    threads = [threading.Thread(target=session) for _ in range(8)]
    for thread in threads:
        thread.start()
    results += run_together(enroll_once, [(automation.id,)] * 4, before_go=start.set)
    for thread in threads:
        thread.join(timeout=120)

    assert len(results) == 12
    enrolled = [r for r in results if r[1] == "succeeded"]
    skipped = [r for r in results if r[1] == "skipped"]
    assert len(enrolled) == 1 and enrolled[0][3] == 1
    assert len(skipped) == 11
    assert all(r[2].startswith("Already in “Welcome” (entered 1×)") for r in skipped)
    assert all(r[3] == 0 for r in skipped)  # nothing was sent for them
    contact = console.client().find_contact(EMAIL)
    assert contact is not None
    runs = console.client().get(f"/contacts/{contact.id}/contactAutomations")
    assert len(runs["contactAutomations"]) == 1  # ActiveCampaign holds exactly one enrollment
    rows = [r for r in console.log.iter_rows() if r["action_type"] == "add_to_automation"]
    assert sorted(r["status"] for r in rows) == ["skipped"] * 11 + ["succeeded"]
    assert {r["reason_code"] for r in rows if r["status"] == "skipped"} == {
        Reason.ALREADY_DONE.value
    }
    assert server.sandbox.refused_count() == 0  # and the account was never over its limit
    with console.db.read() as db:
        assert db.execute("SELECT count(*) FROM claims").fetchone()[0] == 0
    console.close()


def fetch_catalog(gate: Gate) -> int:
    """In a child process: refresh every catalog kind (4 requests)."""
    console = Console()
    gate()
    counts = console.refresh_catalog()
    console.close()
    return sum(counts.values())


def test_processes_share_one_budget_per_account(tmp_path: Path, server: SandboxServer) -> None:
    results = run_together(fetch_catalog, [()] * 4, env=account_env(tmp_path, server))
    assert results == [48 + 8 + 5 + 10] * 4
    stats = server.sandbox.stats()
    assert stats["refused"] == 0 and stats["requests"] == 16
    arrivals = sorted(server.sandbox.arrivals())
    # No 6 requests within any second: the 16 span at least 3 windows, as 5 per second allows.
    assert all(arrivals[i + 5] - arrivals[i] >= 1.0 for i in range(len(arrivals) - 5))
    assert arrivals[-1] - arrivals[0] >= 3.0


def run_cli(gate: Gate, *argv: str) -> dict[str, Any]:
    """In a child process: one ``python -m connector`` command, in process."""
    import contextlib
    import io

    from connector.entry.cli import main

    gate()
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return {"code": code, "out": out.getvalue(), "err": err.getvalue()}


def test_six_commands_on_a_fresh_data_file_all_succeed(tmp_path: Path) -> None:
    env = {"CONNECTOR_DB": str(tmp_path / "fresh" / "connector.db")}
    commands = [
        ("prompts", "--json"),
        ("prompts", "--json"),
        ("simulate", "--prompt", "Newsletter signup", "--interaction", "decline"),
        ("action", "add-contact", "--email", "one@example.com"),
        ("action", "add-contact", "--email", "two@example.com"),
        ("log", "--json"),
    ]
    results = run_together(run_cli, commands, env=env)
    assert [r["code"] for r in results] == [0] * 6, results
    for result in results[:2]:
        names = sorted(p["name"] for p in json.loads(result["out"])["prompts"])
        assert names == ["Beta program banner", "Newsletter signup"]
    console = Console(env["CONNECTOR_DB"], env=env)
    assert len(console.prompts.all()) == 2  # seeded once
    console.close()


def welcome_prompt(console: Console, automation: str, tag: str) -> Prompt:
    """Accept: the sync, then Add to List (Stop), Add to Automation (Stop), Add Tag."""
    prompt = Prompt(
        name="Welcome",
        actions={
            Interaction.ACCEPT: [
                ActionConfig(ActionType.ADD_TO_LIST, {"list_id": "3", "list_name": "News"}),
                ActionConfig(
                    ActionType.ADD_TO_AUTOMATION,
                    {"automation_id": automation, "automation_name": "Welcome"},
                ),
                ActionConfig(
                    ActionType.ADD_TAG,
                    {"tag_id": tag, "tag_name": "Welcomed"},
                    ErrorBehaviour.CONTINUE,
                ),
            ]
        },
    )
    prompt.map_input(FormInput("Email", kind=InputKind.EMAIL, id="email"), "email")
    return console.save_prompt(prompt)


def account_state(console: Console, email: str) -> dict[str, Any]:
    """What the account holds for ``email``: lists, automations (with repeats), tags."""
    client = console.client()
    found = client.get("/contacts", {"email": email})["contacts"]
    assert len(found) == 1, found  # one contact, never two
    contact = found[0]["id"]

    def rows(path: str, key: str, field: str) -> list[str]:
        return sorted(str(r[field]) for r in client.get(f"/contacts/{contact}/{path}")[key])

    return {
        "lists": rows("contactLists", "contactLists", "list"),
        "automations": rows("contactAutomations", "contactAutomations", "automation"),
        "tags": rows("contactTags", "contactTags", "tag"),
    }


@pytest.mark.parametrize("landed", [True, False], ids=["sync-landed", "sync-never-landed"])
def test_a_command_killed_during_the_sync_is_finished_by_a_worker_exactly_once(
    tmp_path: Path, server: SandboxServer, landed: bool
) -> None:
    env = {**os.environ, **account_env(tmp_path, server)}
    setup = Console(env["CONNECTOR_DB"], env=env)
    automation = next(a.id for a in setup.client().automations() if a.multientry)
    tag = setup.client().tags()[0].id
    welcome_prompt(setup, automation, tag)
    setup.close()
    server.sandbox.inject(Fault("hang", "POST", "/contact/sync", hang_seconds=30, commit=landed))
    argv = [sys.executable, "-m", "connector", "simulate", "--prompt", "Welcome"]
    argv += ["--interaction", "accept", "--input", f"Email={EMAIL}"]
    with subprocess.Popen(argv, cwd=REPO, env=env, stderr=subprocess.PIPE) as cli:
        deadline = time.monotonic() + 60
        while server.sandbox.stats()["faults_fired"] == 0:  # the sync is on the wire
            assert time.monotonic() < deadline and cli.poll() is None
            time.sleep(0.05)
        os.kill(cli.pid, signal.SIGKILL)
        cli.wait()

    # Every planned action is in the log, though only the sync had started.
    ahead = [31.0]  # the worker's clock runs this far ahead: past the killed one's lease
    worker = Console(env["CONNECTOR_DB"], env=env, clock=lambda: time.time() + ahead[0])
    (killed,) = worker.log.runs()
    assert killed.status is RunStatus.PENDING
    assert [(a.action_type.value, a.status.value) for a in killed.attempts] == [
        ("add_contact", "pending"),
        ("add_to_list", "planned"),
        ("add_to_automation", "planned"),
        ("add_tag", "planned"),
    ]
    # The sync may still be in flight: it waits for a verification after the settle delay.
    assert worker.work_on_due_run() and not worker.work_on_due_run()
    waiting = worker.log.run(killed.run_id)
    assert waiting is not None and waiting.attempts[0].status is Status.UNKNOWN
    assert waiting.attempts[0].reason_code is Reason.AWAITING_VERIFICATION
    assert [a.status for a in waiting.attempts[1:]] == [Status.PLANNED] * 3
    ahead[0] += worker.settle_seconds + 1
    assert worker.work_on_due_run() and not worker.work_on_due_run()  # done, nothing left
    done = worker.log.run(killed.run_id)
    assert done is not None and done.status is RunStatus.SUCCEEDED, done.to_dict()
    sync = done.attempts[0]
    # The killed process's try died with it; the worker's own tries are all recorded.
    if landed:  # verified, not sent again
        assert sync.reason_code is Reason.VERIFIED and sync.attempts == 0
        assert sync.evidence == sync.checks[-1].exchange
    else:  # the verification found nothing: sent again, once
        assert sync.status is Status.SUCCEEDED and sync.attempts == 1
        assert sync.checks[-1].present is False
    assert all(a.status is Status.SUCCEEDED for a in done.attempts)
    # Each action went out and was applied exactly once (the worker's clock runs ahead of the
    # account's, so a 429 may be drawn and retried: refused, it changed nothing).
    applied = [[t for t in a.tries if t.status and t.status < 300] for a in done.attempts[1:]]
    assert [len(t) for t in applied] == [1, 1, 1]

    clean = worker.runner().run(
        worker.prompts.all()[0], Interaction.ACCEPT, SimulatedUser(), {0: "clean@example.com"}
    )
    assert clean.status is RunStatus.SUCCEEDED
    assert account_state(worker, EMAIL) == account_state(worker, "clean@example.com")
    worker.close()


def open_fresh_files(gate: Gate, folder: str, me: int, crowd: int, rounds: int) -> int:
    """In a child process: open ``rounds`` fresh data files, each at the same moment as the
    ``crowd`` other children (a marker file per child and round lines them up)."""
    from connector import Database

    gate()
    for n in range(rounds):
        (Path(folder) / f"ready-{n}-{me}").touch()
        while len(list(Path(folder).glob(f"ready-{n}-*"))) < crowd:
            time.sleep(0.0005)
        Database(Path(folder) / f"fresh-{n}.db").close()
    return rounds


def test_processes_opening_fresh_data_files_at_once_all_succeed(tmp_path: Path) -> None:
    """Switching a new file to WAL answers "locked" at once, without the busy handler: every
    opener must wait for it (without that, two processes failed in about half the rounds)."""
    crowd, rounds = 3, 100
    results = run_together(
        open_fresh_files, [(str(tmp_path), me, crowd, rounds) for me in range(crowd)]
    )
    assert results == [rounds] * crowd
