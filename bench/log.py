"""The action log at a million rows: pages, counts, charts, search, export, the page itself.

Generates 90 days of realistic log rows (statuses, every action type, 12 prompts, 3 accounts,
operators, sources, ~200,000 contacts, error sentences, request/response/tries/evidence JSON of
the size the runner writes, and the runs they belong to) into a data file through
``connector.db.Database`` (so the migrations, indexes and full-text triggers are production's),
then measures what the log page asks of it:

* a first page unfiltered, with each single filter and with search text; a page ~200 pages deep;
  p50 / p95 over ``--runs`` runs each (target p95 ≤ 20 ms);
* ``ActionLog.counts`` unfiltered and per filter, and the four chart queries of
  ``connector.log_charts`` for all time and the last 7 days (target ≤ 300 ms);
* a full-text search page, a selective term and a broad one (target ≤ 50 ms);
* a CSV export of 100,000 rows to a null sink (target ≥ 100,000 rows/s, peak memory growth
  under 100 MB by tracemalloc);
* the Action log page rendered through Streamlit's AppTest, each of its views (target ≤ 2 s);
* what the log costs the runner per action: its row inserted, then updated (not a target).

The data file is kept in ``bench/data/`` (gitignored) and reused by later runs; ``--fresh``
regenerates it. Time-relative filters are resolved against the instant the data ends, so a
reused file measures the same thing.

    python -m bench.log [--rows N] [--fresh] [--runs N]

Prints a table, then one JSON object as its last line.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import queue
import random
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import IO, Any, cast

from connector.ac.actions import REGISTRY
from connector.core.models import ActionType, Interaction
from connector.core.records import Attempt, Exchange, Run, SimulatedUser, Status
from connector.store.db import Database
from connector.store.log import ActionLog
from connector.store.log_charts import (
    actions_over_time,
    latency_by_action,
    success_by_action,
    top_errors,
)
from connector.store.log_export import ExportFormat
from connector.store.log_export import text as export_text
from connector.store.log_query import Cursor, LogFilter, LogQuery, TimeRange, iso

DATA_DIR = Path(__file__).resolve().parent / "data"
APP = str(Path(__file__).resolve().parents[1] / "app.py")
DAYS = 90
CONTACT_POOL = 230_000  # drawn uniformly by ~400,000 runs: ~200,000 distinct contacts
EXPORT_ROWS = 100_000

TARGET_PAGE_MS = 20.0
TARGET_AGGREGATE_MS = 300.0
TARGET_SEARCH_MS = 50.0
TARGET_EXPORT_ROWS_PER_S = 100_000
TARGET_EXPORT_MB = 100.0
TARGET_RENDER_S = 2.0
TARGET_WRITE_MS = 5.0  # not a given target: a log write stays far below a request's round trip

# -- what the log holds ----------------------------------------------------------------------

ACCOUNTS = (
    ("sandbox", "https://sandbox.invalid", 0.2),
    ("acme.api-us1.com", "https://acme.api-us1.com", 0.5),
    ("globex.api-us1.com", "https://globex.api-us1.com", 0.3),
)
OPERATORS: tuple[tuple[str, float], ...] = (
    ("ada", 0.3),
    ("grace", 0.25),
    ("linus", 0.15),
    ("margaret", 0.15),
    ("ken", 0.1),
)
OPERATORS += (("barbara", 0.05),)
SOURCES = (("simulator", 0.55), ("cli", 0.2), ("test", 0.15), ("replay", 0.1))
OWNERS = (("console-1", 4121), ("console-1", 5230), ("worker-2", 1877), ("laptop-ada", 90211))
INTERACTIONS: tuple[tuple[str, float], ...] = (
    ("accept", 0.62),
    ("secondary_accept", 0.1),
    ("decline", 0.16),
)
INTERACTIONS += (("dismiss", 0.08), ("timeout", 0.04))

LISTS: tuple[tuple[str, str], ...] = (
    ("1", "Newsletter"),
    ("2", "Product updates"),
    ("3", "Beta testers"),
    ("4", "Events"),
)
LISTS += (("5", "Partners"), ("6", "Webinar attendees"))
AUTOMATIONS: tuple[tuple[str, str], ...] = (
    ("11", "Welcome series"),
    ("12", "Onboarding"),
    ("13", "Win-back"),
)
AUTOMATIONS += (("14", "Trial nurture"),)
TAGS: tuple[tuple[str, str], ...] = (
    ("21", "VIP"),
    ("22", "Beta"),
    ("23", "Webinar"),
    ("24", "Churn risk"),
    ("25", "Lead"),
)
FIELDS = (("1", "Company"), ("2", "Plan"), ("3", "Country"))

A = ActionType
# Twelve prompts, each with the actions of its interactions (an interaction it lacks: no actions).
PROMPTS: tuple[tuple[str, dict[str, list[tuple[ActionType, int]]]], ...] = (
    ("Newsletter signup", {"accept": [(A.ADD_CONTACT, 0), (A.ADD_TO_LIST, 0)]}),
    ("Beta program banner", {"accept": [(A.ADD_TO_LIST, 2), (A.ADD_TO_AUTOMATION, 1)]}),
    (
        "Webinar invite",
        {
            "accept": [(A.ADD_CONTACT, 0), (A.ADD_TO_LIST, 5), (A.ADD_TAG, 2)],
            "decline": [(A.ADD_TAG, 3)],
        },
    ),
    (
        "Trial welcome",
        {
            "accept": [(A.ADD_CONTACT, 0), (A.ADD_TO_AUTOMATION, 3), (A.ADD_TAG, 4)],
            "secondary_accept": [(A.ADD_CONTACT, 0), (A.ADD_TAG, 4)],
        },
    ),
    (
        "Product updates",
        {
            "accept": [(A.ADD_TO_LIST, 1)],
            "decline": [(A.UNSUBSCRIBE, 1)],
        },
    ),
    (
        "Upgrade offer",
        {
            "accept": [
                (A.ADD_CONTACT, 0),
                (A.UPDATE_CONTACT, 1),
                (A.ADD_TAG, 0),
                (A.ADD_TO_LIST, 4),
            ],
            "dismiss": [(A.ADD_TAG, 3)],
        },
    ),
    ("Event RSVP", {"accept": [(A.ADD_CONTACT, 0), (A.ADD_TO_LIST, 3), (A.ADD_TAG, 2)]}),
    (
        "Win-back",
        {
            "accept": [(A.REMOVE_TAG, 3), (A.ADD_TO_AUTOMATION, 2)],
            "decline": [(A.REMOVE_FROM_AUTOMATION, 2)],
        },
    ),
    (
        "Onboarding checklist",
        {
            "accept": [(A.ADD_CONTACT, 0), (A.ADD_TO_AUTOMATION, 1), (A.UPDATE_CONTACT, 2)],
            "timeout": [(A.ADD_TAG, 3)],
        },
    ),
    ("Partner program", {"accept": [(A.ADD_CONTACT, 0), (A.ADD_TO_LIST, 4), (A.ADD_TAG, 0)]}),
    (
        "Unsubscribe survey",
        {
            "accept": [(A.UNSUBSCRIBE, 0), (A.REMOVE_FROM_AUTOMATION, 0), (A.REMOVE_TAG, 4)],
            "decline": [(A.ADD_TAG, 3)],
        },
    ),
    (
        "Feedback widget",
        {
            "accept": [(A.UPDATE_CONTACT, 0)],
            "secondary_accept": [(A.ADD_TAG, 1)],
        },
    ),
)
KIND = {
    A.ADD_CONTACT: "contact",
    A.ADD_TO_LIST: "list",
    A.UNSUBSCRIBE: "list",
    A.ADD_TO_AUTOMATION: "automation",
    A.REMOVE_FROM_AUTOMATION: "automation",
    A.ADD_TAG: "tag",
    A.REMOVE_TAG: "tag",
    A.UPDATE_CONTACT: "field",
}
PROMPT_WEIGHTS = (18, 10, 8, 12, 9, 6, 7, 5, 9, 4, 3, 9)

# Outcome of one action (a dry run is decided per run).
OUTCOMES: tuple[tuple[str, float], ...] = (
    ("succeeded", 0.835),
    ("skipped", 0.09),
    ("failed", 0.05),
    ("unknown", 0.017),
)
OUTCOMES += (("interrupted", 0.008),)
MEDIAN_MS = {
    A.ADD_CONTACT: 320.0,
    A.ADD_TO_LIST: 210.0,
    A.ADD_TO_AUTOMATION: 260.0,
    A.ADD_TAG: 180.0,
    A.UPDATE_CONTACT: 300.0,
    A.UNSUBSCRIBE: 230.0,
    A.REMOVE_FROM_AUTOMATION: 340.0,
    A.REMOVE_TAG: 280.0,
}

FIRST: tuple[str, ...] = (
    "ada",
    "grace",
    "alan",
    "katherine",
    "edsger",
    "barbara",
    "donald",
    "frances",
    "john",
)
FIRST += ("margaret", "dennis", "radia", "tim", "hedy", "claude", "ken", "sophie", "linus")
LAST: tuple[str, ...] = (
    "lovelace",
    "hopper",
    "turing",
    "johnson",
    "dijkstra",
    "liskov",
    "knuth",
    "allen",
)
LAST += ("mccarthy", "hamilton", "ritchie", "perlman", "lee", "lamarr", "shannon", "thompson")
DOMAINS: tuple[str, ...] = (
    "example.com",
    "mail.example.org",
    "acme-corp.com",
    "globex.net",
    "initech.io",
)
DOMAINS += ("gmail.com", "outlook.com", "proton.me", "yahoo.co.uk", "fastmail.fm")

# Failure sentences as the runner writes them: (text, weight, http status); {t} is the target.
FAILED = (
    (
        "ActiveCampaign refused the request (422 Unprocessable Entity): the email address "
        "is not valid.",
        30,
        422,
    ),
    (
        "ActiveCampaign answered 500 Internal Server Error on all 3 attempts; nothing was changed.",
        22,
        500,
    ),
    (
        "Rate limited (429 Too Many Requests) for longer than the retry budget allows "
        "(Retry-After: 30 s).",
        14,
        429,
    ),
    ("The API key was refused (403 Forbidden): check the key on the Setup page.", 6, 403),
    (
        "{t} no longer exists in this account (404 Not Found). Refresh the catalog and pick "
        "another one.",
        12,
        404,
    ),
    (
        "ActiveCampaign answered 200 but the answer does not show {t} for the contact; "
        "counted as failed.",
        5,
        200,
    ),
    (
        "ActiveCampaign refused the request (422 Unprocessable Entity): field value is too "
        "long for {t}.",
        3,
        422,
    ),
)
UNKNOWN = (
    (
        "The request timed out after 30 s and the check afterwards failed too (connection "
        "reset); whether ActiveCampaign applied it is unknown. Check the contact before "
        "retrying.",
        3,
    ),
    (
        "The answer was lost (connection closed mid-response) and the check afterwards timed "
        "out; whether ActiveCampaign applied it is unknown. Check the contact before retrying.",
        2,
    ),
)
INTERRUPTED = (
    "The console process running this action ({owner}) ended before it finished; whether "
    "ActiveCampaign received it is unknown. Check the contact before retrying."
)
RETRIED = (
    "500 Internal Server Error (attempt 1 of 3)",
    "Timed out after 30 s (attempt 1 of 3)",
    "429 Too Many Requests: waited 2 s (attempt 1 of 3)",
)
HEADERS = {"api-token": "[redacted]", "accept": "application/json"}
POST_HEADERS = {**HEADERS, "content-type": "application/json"}

# Placeholders in the pre-serialised JSON: replaced per row (cheaper than dumping every row).
EMAIL, CID, WHEN = "@@email@@", "@@cid@@", "@@when@@"
COLUMNS = (
    "id, run_id, prompt_id, prompt_name, interaction, action_type, position, target_id, "
    "target_name, contact_email, contact_id, status, http_status, attempts, duration_ms, "
    "request, response, error, operator, source, account, created_at, finished_at, "
    "last_error, reason_code, planned, checks, tries, evidence, retry_of, job_id, action"
)
RUN_COLUMNS = (
    "run_id, prompt_id, prompt_name, interaction, user_id, traits, inputs, input_errors, "
    "dry_run, status, contact_email, contact_id, operator, source, account, owner_host, "
    "owner_pid, owner_started, started_at, finished_at, contact, job_id"
)


def _contact_body(base: str) -> dict[str, Any]:
    links = (
        "bounceLogs contactAutomations contactData contactGoals contactLists contactLogs "
        "contactTags contactDeals deals fieldValues geoIps notes organization plusAppend "
        "trackingLogs scoreValues accountContacts automationEntryCounts"
    ).split()
    return {
        "email": EMAIL,
        "phone": "",
        "firstName": "",
        "lastName": "",
        "email_empty": False,
        "cdate": WHEN,
        "udate": WHEN,
        "orgid": "",
        "orgname": "",
        "links": {k: f"{base}/api/3/contacts/{CID}/{k}" for k in links},
        "hash": "3e3417d7ef77d5932a6734b916515ed5",
        "fieldValues": [],
        "id": CID,
        "organization": "",
    }


def _exchange(
    action: ActionType, base: str, target: tuple[str, str], status: int | None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The request and (unless ``status`` is None) the answer of one action's write."""
    tid = target[0]
    contact = _contact_body(base)
    body: Any
    if action is A.ADD_CONTACT:
        method, path, body = "POST", "/api/3/contact/sync", {"contact": {"email": EMAIL}}
        answer: Any = {"fieldValues": [], "contact": contact}
    elif action in (A.ADD_TO_LIST, A.UNSUBSCRIBE):
        state = 1 if action is A.ADD_TO_LIST else 2
        method, path = "POST", "/api/3/contactLists"
        body = {"contactList": {"list": tid, "contact": CID, "status": state}}
        answer = {
            "contacts": [contact],
            "contactList": {"contact": CID, "list": tid, "status": state, "id": "8812"},
        }
    elif action is A.ADD_TO_AUTOMATION:
        method, path = "POST", "/api/3/contactAutomations"
        body = {"contactAutomation": {"contact": CID, "automation": tid}}
        answer = {"contacts": [contact], "contactAutomation": {**body["contactAutomation"]}}
    elif action is A.ADD_TAG:
        method, path = "POST", "/api/3/contactTags"
        body = {"contactTag": {"contact": CID, "tag": tid}}
        answer = {"contacts": [contact], "contactTag": {**body["contactTag"], "id": "5521"}}
    elif action is A.UPDATE_CONTACT:
        method, path = "PUT", f"/api/3/contacts/{CID}"
        body = {"contact": {"fieldValues": [{"field": tid, "value": "Enterprise"}]}}
        answer = {"fieldValues": [{"field": tid, "value": "Enterprise"}], "contact": contact}
    else:  # removals answer {}
        kind = "contactAutomations" if action is A.REMOVE_FROM_AUTOMATION else "contactTags"
        method, path, body, answer = "DELETE", f"/api/3/{kind}/77{tid}", None, {}
    if status is not None and status >= 400:
        answer = {"errors": [{"title": "The request could not be processed", "code": status}]}
    headers = POST_HEADERS if body is not None else HEADERS
    request = {"method": method, "url": base + path, "headers": headers, "body": body}
    response = None if status is None else {"status": status, "body": answer}
    return request, response


@dataclass
class _Shape:
    """Everything about one (prompt, action, account, outcome) that is the same on every row:
    pre-serialised, with placeholders for the email, contact id and time."""

    target_id: str
    target_name: str
    http_status: int | None
    request: str
    response: str | None
    planned: str
    checks: str
    tries: str
    evidence: str | None
    action: str


def _target(action: ActionType, index: int) -> tuple[str, str]:
    if action in (A.ADD_TO_LIST, A.UNSUBSCRIBE):
        return LISTS[index]
    if action in (A.ADD_TO_AUTOMATION, A.REMOVE_FROM_AUTOMATION):
        return AUTOMATIONS[index]
    if action in (A.ADD_TAG, A.REMOVE_TAG):
        return TAGS[index]
    if action is A.UPDATE_CONTACT:
        return FIELDS[index]
    return ("", "")


def _shape(action: ActionType, index: int, base: str, http: int | None, sent: bool) -> _Shape:
    target = _target(action, index)
    request, response = _exchange(action, base, target, http)
    dump = json.dumps
    exchange = {
        "method": request["method"],
        "url": request["url"],
        "request_headers": request["headers"],
        "request_body": request["body"],
        "status": http,
        "response_body": None if response is None else response["body"],
        "duration_ms": 210.0,
        "error": "" if http is not None and http < 400 else "no answer",
        "at": WHEN,
    }
    check = {
        "purpose": "before sending",
        "exchanges": [
            {
                "method": "GET",
                "url": f"{base}/api/3/contacts/{CID}/contactLists?limit=100&offset=0",
                "request_headers": HEADERS,
                "request_body": None,
                "status": 200,
                "response_body": {"contactLists": []},
                "duration_ms": 95.0,
                "error": "",
                "at": WHEN,
            }
        ],
        "finding": f"Not yet there: {target[1] or 'contact'}.",
        "present": False,
    }
    spec = REGISTRY[action]
    params = {}
    for param in spec.params[:1]:
        params[param.id_key], params[param.name_key] = target
    planned = {k: request[k] for k in ("method", "url", "body")}
    return _Shape(
        target_id=target[0],
        target_name=target[1],
        http_status=http,
        request=dump(request, ensure_ascii=False),
        response=dump(response, ensure_ascii=False) if response is not None else None,
        planned=dump(planned, ensure_ascii=False),
        checks=dump([check] if action is not A.ADD_CONTACT else [], ensure_ascii=False),
        tries=dump([exchange] if sent else [], ensure_ascii=False),
        evidence=dump(exchange, ensure_ascii=False) if sent and response is not None else None,
        action=dump(
            {"type": action.value, "params": params, "on_error": "stop"}, ensure_ascii=False
        ),
    )


def _pick(rng: random.Random, choices: tuple[tuple[Any, float], ...]) -> Any:
    return rng.choices([c[0] for c in choices], [c[1] for c in choices])[0]


def _email(n: int) -> str:
    first = FIRST[n % len(FIRST)]
    last = LAST[(n // len(FIRST)) % len(LAST)]
    return f"{first}.{last}{n}@{DOMAINS[(n * 7) % len(DOMAINS)]}"


def _fill(text: str | None, email: str, cid: str, when: str) -> str | None:
    if text is None:
        return None
    return text.replace(EMAIL, email).replace(CID, cid).replace(WHEN, when)


def _times(rng: random.Random, runs: int, end: datetime) -> list[float]:
    """Run start times over ``DAYS`` days ending at ``end``, busier in office hours, sorted."""
    start = (end - timedelta(days=DAYS)).timestamp()
    span = DAYS * 86400.0
    hourly = [0.3, 0.2, 0.2, 0.2, 0.3, 0.5, 0.8, 1.2, 1.8, 2.2, 2.3, 2.2]
    hourly += [2.0, 2.1, 2.2, 2.1, 1.9, 1.6, 1.2, 1.0, 0.8, 0.7, 0.5, 0.4]
    top = max(hourly)
    out: list[float] = []
    while len(out) < runs:
        t = start + rng.random() * span
        if rng.random() * top < hourly[int((t % 86400) // 3600)]:
            out.append(t)
    out.sort()
    return out


def generate(path: Path, rows: int, *, seed: int = 7) -> datetime:
    """Write ``rows`` action rows (and their runs) ending now into a new data file at ``path``;
    returns the instant the data ends."""
    rng = random.Random(seed)
    end = datetime.now(UTC).replace(microsecond=0)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = Database(path)
    shapes: dict[tuple[Any, ...], _Shape] = {}
    plans = _plans(rng, rows)
    run_times = _times(rng, len(plans), end)
    contacts = [_email(n) for n in range(CONTACT_POOL)]
    action_sql = f"INSERT INTO action_log ({COLUMNS}) VALUES ({', '.join('?' * 32)})"
    run_sql = f"INSERT INTO runs ({RUN_COLUMNS}) VALUES ({', '.join('?' * 22)})"
    recent_failures: list[int] = []
    pending_actions: list[tuple[Any, ...]] = []
    pending_runs: list[tuple[Any, ...]] = []
    row_id, previous_end = 0, 0.0
    started = time.perf_counter()

    # SQLite writes in a thread of its own (it lets go of the GIL), while the next chunk is
    # made: the two cores overlap instead of taking turns.
    chunks: queue.Queue[tuple[list[Any], list[Any]] | None] = queue.Queue(maxsize=2)
    broken: list[BaseException] = []

    def writer() -> None:
        try:
            while (chunk := chunks.get()) is not None:
                with db.write() as conn:
                    conn.conn.executemany(run_sql, chunk[0])
                    conn.conn.executemany(action_sql, chunk[1])
        except BaseException as exc:  # reported by the main thread
            broken.append(exc)
            while chunks.get() is not None:
                pass

    writing = threading.Thread(target=writer, name="bench-log-writer")
    writing.start()

    def flush() -> None:
        nonlocal pending_runs, pending_actions
        chunks.put((pending_runs, pending_actions))
        pending_runs, pending_actions = [], []

    for run_start, (prompt_index, interaction, actions) in zip(run_times, plans, strict=True):
        prompt_name = PROMPTS[prompt_index][0]
        prompt_id = prompt_index + 1
        account, base, _ = rng.choices(ACCOUNTS, [a[2] for a in ACCOUNTS])[0]
        operator = _pick(rng, OPERATORS)
        source = _pick(rng, SOURCES)
        if account == "sandbox" and rng.random() < 0.5:
            source = "test"
        host, pid = OWNERS[rng.randrange(len(OWNERS))]
        contact = rng.randrange(CONTACT_POOL)
        email, cid = contacts[contact], str(1000 + contact)
        dry = rng.random() < 0.03
        run_id = f"{rng.getrandbits(48):012x}"
        t = max(run_start, previous_end + 0.001)
        started_at = iso(datetime.fromtimestamp(t, UTC))
        statuses: list[str] = []
        no_contact = stopped = ""
        for position, (action, index) in enumerate(actions, start=1):
            row_id += 1
            status = "dry_run" if dry else _pick(rng, OUTCOMES)
            if no_contact or stopped:
                status = "skipped"
            http: int | None = 200
            attempts, error, last_error = 1, "", ""
            reason: str | None = None
            duration = rng.lognormvariate(0, 0.55) * MEDIAN_MS[action]
            label = REGISTRY[action].label
            target_name = _target(action, index)[1]
            what = f"{KIND[action]} “{target_name}”" if target_name else ""
            if action is A.ADD_CONTACT and status == "succeeded":
                http = 201
            if status == "succeeded" and rng.random() < 0.04:
                attempts = rng.choice((2, 2, 3))
                last_error = rng.choice(RETRIED)
                duration += 1000 * attempts + rng.random() * 2000
            elif status == "failed":
                kinds = FAILED if what else tuple(f for f in FAILED if "{t}" not in f[0])
                text, _, http = rng.choices(kinds, [f[1] for f in kinds])[0]
                error = text.format(t=what[:1].upper() + what[1:])
                attempts = 3 if http in (500, 429) else 1
                duration += 2500.0 * (attempts - 1)
                last_error = error
            elif status == "unknown":
                error = rng.choices(UNKNOWN, [u[1] for u in UNKNOWN])[0][0]
                http, attempts = None, rng.choice((1, 2, 3))
                duration += 30_000.0
                last_error = "Timed out after 30 s"
            elif status == "interrupted":
                owner = f"process {pid} on {host}"
                error, http, attempts, duration = INTERRUPTED.format(owner=owner), None, 1, 0.0
            elif status == "skipped":
                attempts, http, duration = 0, None, rng.lognormvariate(0, 0.5) * 90
                if no_contact:
                    error, reason = no_contact, "no_contact"
                elif stopped:
                    error, reason = stopped, "stopped"
                elif action in (A.REMOVE_TAG, A.REMOVE_FROM_AUTOMATION, A.UNSUBSCRIBE):
                    error = f"Nothing to do: the contact has no {what}."
                    reason = "nothing_to_do"
                elif action in (A.ADD_TO_LIST,) and rng.random() < 0.15:
                    error = f"Unsubscribed from {what}: subscribing again would override the "
                    error += "contact's choice."
                    reason = "blocked"
                else:
                    error = f"Already there: {what}." if what else "Already up to date."
                    reason = "already_done"
            elif status == "dry_run":
                attempts, http, duration = 0, None, rng.lognormvariate(0, 0.5) * 90
                error = "Would be sent."
            if status in ("failed", "unknown") and position == 1 and action is A.ADD_CONTACT:
                why = "the contact sync failed"
                if status == "unknown":
                    why = "whether the contact sync went through is unknown"
                no_contact = f"Not run: {why}, so there is no contact id."
            elif status in ("failed", "unknown") and rng.random() < 0.5:
                stopped = f"Not run: “{label}” failed and its error behaviour is Stop."
            sent = attempts > 0
            key = (action, index, base, http, sent)
            shape = shapes.get(key)
            if shape is None:
                shape = shapes[key] = _shape(action, index, base, http, sent)
            created = t
            t += duration / 1000 + 0.002
            when = iso(datetime.fromtimestamp(created, UTC))
            finished = iso(datetime.fromtimestamp(t, UTC))
            retry_of = None
            if source == "replay" and recent_failures:
                retry_of = recent_failures.pop()
            elif status in ("failed", "unknown", "interrupted") and len(recent_failures) < 50:
                recent_failures.append(row_id)
            pending_actions.append(
                (
                    row_id,
                    run_id,
                    prompt_id,
                    prompt_name,
                    interaction,
                    action.value,
                    position,
                    shape.target_id,
                    shape.target_name,
                    email,
                    cid if status not in ("skipped", "dry_run") or not no_contact else "",
                    status,
                    http,
                    attempts,
                    round(duration, 1),
                    _fill(shape.request, email, cid, when),
                    _fill(shape.response, email, cid, when),
                    error,
                    operator,
                    source,
                    account,
                    when,
                    finished,
                    last_error,
                    reason,
                    _fill(shape.planned, email, cid, when),
                    _fill(shape.checks, email, cid, when),
                    _fill(shape.tries, email, cid, when),
                    _fill(shape.evidence, email, cid, when),
                    retry_of,
                    None,
                    shape.action,
                )
            )
            statuses.append(status)
        previous_end = t
        run_status = _run_status(statuses)
        pending_runs.append(
            (
                run_id,
                prompt_id,
                prompt_name,
                interaction,
                f"u-{rng.randrange(1_000_000):06d}",
                json.dumps({"plan": rng.choice(("free", "pro", "team")), "country": "FR"}),
                json.dumps([{"label": "Email", "value": email}]),
                "{}",
                int(dry),
                run_status,
                email,
                cid,
                operator,
                source,
                account,
                host,
                pid,
                1_700_000_000.0 + pid,
                started_at,
                iso(datetime.fromtimestamp(t, UTC)),
                json.dumps({"payload": {"email": email}, "mapped": {"email": "Email"}}),
                None,
            )
        )
        if len(pending_actions) >= 20_000:
            flush()
            _progress(row_id, rows, started)
    flush()
    chunks.put(None)
    writing.join()
    if broken:
        raise broken[0]
    _progress(row_id, rows, started)
    print(file=sys.stderr)
    db.keep_statistics(every=0)  # as the log page would: sampled statistics
    with db.read() as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return datetime.fromtimestamp(previous_end, UTC) + timedelta(seconds=1)


def _plans(rng: random.Random, rows: int) -> list[tuple[int, str, list[Any]]]:
    """Each run's prompt, interaction and actions, until there are ``rows`` actions."""
    plans: list[tuple[int, str, list[Any]]] = []
    total = 0
    while total < rows:
        prompt_index = rng.choices(range(len(PROMPTS)), PROMPT_WEIGHTS)[0]
        by_interaction = PROMPTS[prompt_index][1]
        interaction = _pick(rng, INTERACTIONS)
        if interaction not in by_interaction and rng.random() < 0.85:
            interaction = next(iter(by_interaction))  # most runs carry actions
        actions = by_interaction.get(interaction, [])[: rows - total]
        total += len(actions)
        plans.append((prompt_index, interaction, actions))
    return plans


def _run_status(statuses: list[str]) -> str:
    if not statuses:
        return "no_actions"
    for status in ("interrupted", "unknown", "failed", "dry_run"):
        if status in statuses:
            return status
    return "succeeded"


def _progress(done: int, total: int, started: float) -> None:
    rate = done / max(time.perf_counter() - started, 1e-9)
    print(f"\r  generated {done:,} / {total:,} rows ({rate:,.0f} rows/s)", end="", file=sys.stderr)


# -- measuring -------------------------------------------------------------------------------


def _ms(work: Callable[[], Any], runs: int) -> list[float]:
    """Wall times of ``runs`` calls, in ms (one call first, untimed: a warm cache, as on a
    page that reruns)."""
    work()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return times


def _rank(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(-(-len(ordered) * q // 100)) - 1))]


@dataclass
class _Line:
    group: str
    what: str
    p50: float | None
    p95: float | None
    target: float
    unit: str = "ms"
    note: str = ""
    plan: Callable[[], list[str]] | None = None  # the query plan, shown when over target

    @property
    def ok(self) -> bool | None:
        if self.note.startswith("page "):  # the page raised or showed an error
            return False
        if self.p95 is None:
            return None
        if self.unit == "rows/s":
            return self.p95 >= self.target
        return self.p95 <= self.target


def _filters(db: Database, now: datetime) -> dict[str, LogFilter]:
    """One filter per control of the log page, each with a value the data holds."""
    with db.read() as conn:
        email, local = conn.execute(
            "SELECT contact_email, substr(contact_email, 1, instr(contact_email, '@') - 1) "
            "FROM action_log WHERE id = (SELECT max(id) / 2 FROM action_log)"
        ).fetchone()
    return {
        "unfiltered": LogFilter(),
        "status = failed": LogFilter(statuses=("failed",)),
        "action = add_tag": LogFilter(action_types=("add_tag",)),
        "prompt = #6": LogFilter(prompt_ids=(6,)),
        "interaction = decline": LogFilter(interactions=("decline",)),
        "account = acme.api-us1.com": LogFilter(accounts=("acme.api-us1.com",)),
        "operator = barbara": LogFilter(operators=("barbara",)),
        "source = replay": LogFilter(sources=("replay",)),
        "last 7 days": LogFilter(time=TimeRange(last=timedelta(days=7))),
        f"email = {email}": LogFilter(email=email),
        f"search “{local}” (selective)": LogFilter(text=local),
        "search “newsletter” (broad)": LogFilter(text="newsletter"),
    }


def measure_pages(log: ActionLog, filters: dict[str, LogFilter], now: datetime, runs: int):
    lines: list[_Line] = []
    for name, f in filters.items():
        searching = bool(f.text)
        target = TARGET_SEARCH_MS if searching else TARGET_PAGE_MS
        times = _ms(partial(log.page, f, now=now), runs)
        group = "search page" if searching else "first page"
        plan = partial(log.explain, f)
        lines.append(_Line(group, name, _rank(times, 50), _rank(times, 95), target, plan=plan))
    for name, f in filters.items():
        cursor: Cursor | None = None
        depth = 0
        while depth < 200:
            cursor = log.page(f, now=now, cursor=cursor).next_cursor
            depth += 1
            if cursor is None:
                break
        group = "deep search" if f.text else "deep page"
        target = TARGET_SEARCH_MS if f.text else TARGET_PAGE_MS
        if cursor is None:
            lines.append(_Line(group, name, None, None, target, note=f"{depth} pages only"))
            continue
        times = _ms(partial(log.page, f, now=now, cursor=cursor), runs)
        p50, p95 = _rank(times, 50), _rank(times, 95)
        lines.append(
            _Line(group, f"{name} (page 201)", p50, p95, target, plan=partial(log.explain, f))
        )
    return lines


def measure_aggregates(
    db: Database, log: ActionLog, filters: dict[str, LogFilter], now: datetime, runs: int
) -> list[_Line]:
    lines: list[_Line] = []
    for name, f in filters.items():
        times = _ms(partial(log.counts, f, now=now), runs)
        sql, args = LogQuery(f, now).counts()
        plan = partial(_explain, db, sql, args)
        p50, p95 = _rank(times, 50), _rank(times, 95)
        lines.append(_Line("counts", name, p50, p95, TARGET_AGGREGATE_MS, plan=plan))
    charts: dict[str, Callable[..., Any]] = {
        "actions_over_time": actions_over_time,
        "success_by_action": success_by_action,
        "latency_by_action": latency_by_action,
        "top_errors": top_errors,
    }
    for range_name in ("unfiltered", "last 7 days"):
        for chart_name, chart in charts.items():
            f = filters[range_name]
            times = _ms(partial(chart, db, f, now), runs)
            what = f"{chart_name} ({'all time' if range_name == 'unfiltered' else range_name})"
            plan = partial(_chart_plan, db.path, chart, f, now)
            p50, p95 = _rank(times, 50), _rank(times, 95)
            lines.append(_Line("chart", what, p50, p95, TARGET_AGGREGATE_MS, plan=plan))
    # Not a target: the charts under each other filter, all time (3 runs each).
    for name, f in filters.items():
        if name in ("unfiltered", "last 7 days"):
            continue
        for chart_name, chart in charts.items():
            times = _ms(partial(chart, db, f, now), 3)
            plan = partial(_chart_plan, db.path, chart, f, now)
            what = f"{chart_name} ({name})"
            lines.append(
                _Line("chart, info", what, _rank(times, 50), _rank(times, 95), 300.0, plan=plan)
            )
    return lines


class _TracedDatabase(Database):
    """A Database that keeps every statement its connections run (values inlined)."""

    def __init__(self, path: Path) -> None:
        self.statements: list[str] = []
        super().__init__(path)

    def _open(self) -> Any:
        made = super()._open()
        made.conn.set_trace_callback(self.statements.append)
        return made


def _chart_plan(
    path: Path, chart: Callable[..., Any], filters: LogFilter, now: datetime
) -> list[str]:
    """The query plans of what ``chart`` asks of the log."""
    traced = _TracedDatabase(path)
    chart(traced, filters, now)
    plans: list[str] = []
    with traced.read() as conn:
        for statement in traced.statements:
            if statement.startswith("SELECT") and " a " in statement:
                plans.append(statement[:160] + ("…" if len(statement) > 160 else ""))
                rows = conn.execute(f"EXPLAIN QUERY PLAN {statement}").fetchall()
                plans.extend(f"  {row[3]}" for row in rows)
    traced.close()
    return plans


def measure_writes(db: Database, log: ActionLog, runs: int) -> list[float]:
    """What the log costs the runner per action: its row written before sending, then
    finalised (an insert and an update, two transactions), in ms. The rows are removed after."""
    sample = log.page(LogFilter(statuses=("succeeded",)), limit=1).rows[0]
    request = json.loads(sample["request"])
    response = json.loads(sample["response"])
    exchange = Exchange(
        request["method"],
        request["url"],
        request["body"],
        request["headers"],
        response["status"],
        response["body"],
        210.0,
        "",
        sample["created_at"],
    )
    times: list[float] = []
    written: list[int] = []
    run_ids: list[str] = []
    for n in range(runs + 1):
        run = Run(
            run_id=f"bench-writes-{n}",
            prompt_id=1,
            prompt_name="Newsletter signup",
            interaction=Interaction.ACCEPT,
            user=SimulatedUser("u-bench"),
            operator="bench",
            source="test",
            account="sandbox",
        )
        attempt = Attempt(
            run_id=run.run_id,
            position=1,
            action_type=ActionType.ADD_TO_LIST,
            label="Add to List",
            target_id="1",
            target_name="Newsletter",
            params={"list_id": "1", "list_name": "Newsletter"},
            contact_email=f"bench.writes{n}@example.com",
            planned={k: request[k] for k in ("method", "url", "body")},
        )
        run.attempts = [attempt]
        started = time.perf_counter()
        run.lease_owner = "bench"
        log.record_plan(run, lease_owner="bench", lease_until=time.time() + 30)  # run + plan
        log.mark_sending(attempt, run)
        attempt.tries.append(exchange)
        attempt.duration_ms = 210.0
        attempt.finish(Status.SUCCEEDED, evidence=exchange)
        log.finish(attempt, run)
        if n:  # the first one warms the connection
            times.append((time.perf_counter() - started) * 1000)
        assert attempt.log_id is not None and not attempt.unrecorded
        written.append(attempt.log_id)
        run_ids.append(run.run_id)
    with db.write() as conn:
        marks = ", ".join("?" * len(written))
        conn.execute(f"DELETE FROM action_log WHERE id IN ({marks})", written)
        marks = ", ".join("?" * len(run_ids))
        conn.execute(f"DELETE FROM runs WHERE run_id IN ({marks})", run_ids)
    return times


class _NullSink:
    def write(self, text: str) -> int:
        return len(text)


def measure_export(log: ActionLog) -> tuple[int, float, float]:
    """Rows per second of a CSV export of ``EXPORT_ROWS`` rows, and its peak memory growth
    (MB, tracemalloc: a second pass, as tracing slows Python down)."""

    def export() -> int:
        # The export streams 2,000-row chunks after its header: the newest EXPORT_ROWS rows.
        sink = cast(IO[str], _NullSink())
        lines = 0
        for chunk in itertools.islice(export_text(log, LogFilter(), ExportFormat.CSV), 1, None):
            sink.write(chunk)
            lines += chunk.count("\r\n")
            if lines >= EXPORT_ROWS:
                break
        return lines

    started = time.perf_counter()
    written = export()
    rate = written / (time.perf_counter() - started)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        export()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return written, rate, peak / 1e6


def measure_render(path: Path) -> list[tuple[str, float | None, str]]:
    """Seconds to draw the Action log page through AppTest: the first visit (its default
    view), then each other view that shows the log (a cold run each: the page's caches are
    empty for that view). Each with what went wrong, if anything."""
    os.environ["CONNECTOR_DB"] = str(path)
    for name in ("AC_API_URL", "AC_API_KEY"):
        os.environ.pop(name, None)
    out: list[tuple[str, float | None, str]] = []

    def timed(what: str, step: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        at = step()
        took = time.perf_counter() - started
        problem = ""
        if at.exception:
            problem = "page raised: " + str(at.exception[0].message)[:200]
        elif at.error:
            problem = "page shows an error: " + str(at.error[0].value)[:200]
        out.append((what, took, problem))
        return at

    try:
        from streamlit.testing.v1 import AppTest

        at = AppTest.from_file(APP, default_timeout=120).run()
        at._page_hash = next(  # AppTest.switch_page only knows file pages (see test_pages)
            page_hash
            for page_hash, info in at._registered_pages.items()
            if info.get("url_pathname") == "action_log"
        )
        at = timed("Action log page, first visit", at.run)
        views = [c for c in at.segmented_control if c.key == "log_view"]
        default = views[0].value if views else None
        for view in ("Actions", "Charts", "Runs"):
            if not views or view not in views[0].options or view == default:
                continue
            at.segmented_control(key="log_view").set_value(view)
            at = timed(f"Action log page, {view} view", at.run)
        at = timed("Action log page, rerun", at.run)
    except Exception as exc:  # the page is being rewritten: say so, keep the rest
        out.append(("Action log page", None, f"{type(exc).__name__}: {exc}"[:300]))
    return out


def _explain(db: Database, sql: str, args: list[Any]) -> list[str]:
    with db.read() as conn:
        return [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", args).fetchall()]


def _data(rows: int, fresh: bool) -> tuple[Path, datetime]:
    path = DATA_DIR / f"log-{rows}.db"
    meta = path.with_suffix(".json")
    if not fresh and path.exists() and meta.exists():
        end = datetime.fromisoformat(json.loads(meta.read_text())["end"])
        print(f"Reusing {path} ({rows:,} rows, data ending {iso(end)}; --fresh regenerates)")
        return path, end
    meta.unlink(missing_ok=True)
    print(f"Generating {rows:,} rows into {path} …")
    started = time.perf_counter()
    end = generate(path, rows)
    took = time.perf_counter() - started
    meta.write_text(json.dumps({"rows": rows, "end": end.isoformat(), "seconds": round(took)}))
    print(f"Generated in {took:.0f} s ({rows / took:,.0f} rows/s), {_size(path)}")
    return path, end


def _size(path: Path) -> str:
    return f"{path.stat().st_size / 1e9:.2f} GB"


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "rows/s":
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.log")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--fresh", action="store_true", help="regenerate the data file")
    parser.add_argument("--runs", type=int, default=50, help="timed runs per page query")
    parser.add_argument("--no-render", action="store_true", help="skip the AppTest render")
    args = parser.parse_args()

    path, now = _data(args.rows, args.fresh)
    db = Database(path)  # applies any migration the file lacks (new indexes)
    db.keep_statistics(every=0)
    log = ActionLog(db)
    filters = _filters(db, now)
    aggregate_runs = max(5, args.runs // 5)

    writes = measure_writes(db, log, args.runs)
    lines = [
        _Line(
            "write",
            "log row: run + plan, pending, outcome",
            _rank(writes, 50),
            _rank(writes, 95),
            TARGET_WRITE_MS,
        )
    ]
    lines += measure_pages(log, filters, now, args.runs)
    lines += measure_aggregates(db, log, filters, now, aggregate_runs)
    exported, rate, peak_mb = measure_export(log)
    lines.append(
        _Line("export", f"CSV, {exported:,} rows", rate, rate, TARGET_EXPORT_ROWS_PER_S, "rows/s")
    )
    lines.append(_Line("export", "peak memory growth", peak_mb, peak_mb, TARGET_EXPORT_MB, "MB"))
    if not args.no_render:
        for what, seconds, problem in measure_render(path):
            lines.append(_Line("render", what, seconds, seconds, TARGET_RENDER_S, "s", problem))

    print(
        f"\n{args.rows:,} rows, {_size(path)}; p50 / p95 over {args.runs} runs "
        f"(counts and charts: {aggregate_runs}); percentiles by nearest rank\n"
    )
    width = max(len(line.what) for line in lines)
    print(f"{'':12} {'':{width}} {'p50':>10} {'p95':>10} {'target':>10}")
    for line in lines:
        mark = {True: "ok", False: "OVER", None: "—"}[line.ok]
        mark = "FAILED" if line.note.startswith("page ") else mark
        limit = ("≥ " if line.unit == "rows/s" else "≤ ") + _fmt(line.target, line.unit)
        print(
            f"{line.group:12} {line.what:{width}} {_fmt(line.p50, line.unit):>10} "
            f"{_fmt(line.p95, line.unit):>10} {limit:>10} {line.unit:6} {mark} {line.note}"
        )
    over = [line for line in lines if line.ok is False]
    if over:
        print("\nOver target or failed (with the query plan where there is one):")
        for line in over:
            print(f"  {line.group}: {line.what} {line.note}".rstrip())
            for step in line.plan() if line.plan else []:
                print(f"      {step}")

    def worst(group: str) -> float | None:
        values = [line.p95 for line in lines if line.group == group and line.p95 is not None]
        return round(max(values), 2) if values else None

    # Views that raised or showed an error are in the table, not in this figure.
    rendered = [
        line.p95
        for line in lines
        if line.group == "render" and line.p95 is not None
        if not line.note
    ]
    result = {
        "rows": args.rows,
        "page_p95_ms": worst("first page"),
        "deep_page_p95_ms": worst("deep page"),
        "counts_ms": worst("counts"),
        "charts_ms": worst("chart"),
        "search_ms": max(worst("search page") or 0.0, worst("deep search") or 0.0) or None,
        "export_rows_per_s": round(rate),
        "export_peak_mb": round(peak_mb, 1),
        "render_s": round(max(rendered), 2) if rendered else None,
    }
    db.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
