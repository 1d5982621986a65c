"""What the log page asks of the action log: query plans that stay index walks for every filter
and pair of filters, relative time ranges that page stably while rows arrive, search that is safe
whatever is typed, facets, the runs view and a contact's history."""

from __future__ import annotations

import itertools
import random
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from factories import TEST_OWNER, mark_sending, record_plan

from connector import (
    ActionLog,
    ActionType,
    Attempt,
    Database,
    Interaction,
    LogFilter,
    Prompt,
    Run,
    SimulatedUser,
    Status,
)
from connector.store.log_query import (
    Cursor,
    LogQuery,
    SearchError,
    TimeRange,
    iso,
    search_expression,
)
from connector.store.prompts import PromptStore

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

# -- writing rows with chosen times -----------------------------------------------------------

_ACTION_DEFAULTS: dict[str, Any] = {
    "prompt_id": 1,
    "prompt_name": "P",
    "interaction": "accept",
    "action_type": "add_to_list",
    "position": 1,
    "target_id": "3",
    "target_name": "Newsletter",
    "contact_email": "someone@example.com",
    "status": "succeeded",
    "reason_code": None,
    "error": "",
    "last_error": "",
    "operator": "ann",
    "source": "simulator",
    "account": "sandbox",
    "retry_of": None,
    "job_id": None,
}


def insert_rows(db: Database, rows: list[dict[str, Any]]) -> list[int]:
    """Action rows (each needs ``run_id`` and ``created_at``) written with plain SQL, with a
    finished run for each new run id; returns the new rows' ids in order. The search index is
    kept current by the table's triggers, as for rows the runner writes."""
    ids = []
    with db.write() as conn:
        for given in rows:
            row = {**_ACTION_DEFAULTS, "finished_at": given["created_at"], **given}
            conn.execute(
                "INSERT OR IGNORE INTO runs (run_id, prompt_id, prompt_name, interaction, "
                "status, contact_email, operator, source, account, started_at, finished_at) "
                "VALUES (?, ?, ?, ?, 'succeeded', ?, ?, ?, ?, ?, ?)",
                [
                    row["run_id"],
                    row["prompt_id"],
                    row["prompt_name"],
                    row["interaction"],
                    row["contact_email"],
                    row["operator"],
                    row["source"],
                    row["account"],
                    row["created_at"],
                    row["finished_at"],
                ],
            )
            columns = ", ".join(row)
            marks = ", ".join("?" * len(row))
            cursor = conn.execute(
                f"INSERT INTO action_log ({columns}) VALUES ({marks})", list(row.values())
            )
            ids.append(int(cursor.lastrowid or 0))
    return ids


def ago(**delta: float) -> str:
    return iso(NOW - timedelta(**delta))


# -- query plans --------------------------------------------------------------------------------

STATUSES = ("succeeded", "failed", "skipped", "unknown", "dry_run", "interrupted")
ACTIONS = ("add_contact", "add_to_list", "add_tag", "add_to_automation", "remove_tag")
INTERACTIONS = ("accept", "secondary_accept", "decline", "dismiss", "timeout")
ACCOUNTS = ("sandbox", "acme", "beta")
OPERATORS = ("ann", "bob", "cy", "dee", "")
SOURCES = ("simulator", "cli", "job", "worker")
ERRORS = ("", "", "", "Contact is unsubscribed", "HTTP 422: email is invalid", "timed out")


def varied_rows(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """``count`` runs of 1-4 actions over 60 days, skewed like a real log: mostly successes,
    a few accounts and operators, many contacts."""
    rnd = random.Random(seed)
    rows: list[dict[str, Any]] = []
    start = NOW - timedelta(days=60)
    for n in range(count):
        moment = start + timedelta(days=60) * n / count
        prompt_id = rnd.randint(1, 12)
        common = {
            "run_id": f"run{n}",
            "prompt_id": prompt_id,
            "prompt_name": f"Prompt {prompt_id}",
            "interaction": rnd.choice(INTERACTIONS),
            "contact_email": f"user{rnd.randint(0, 800)}@example.com",
            "operator": rnd.choice(OPERATORS),
            "source": rnd.choice(SOURCES),
            "account": rnd.choice(ACCOUNTS),
        }
        for position in range(rnd.randint(1, 4)):
            status = rnd.choices(STATUSES, weights=(70, 10, 10, 3, 5, 2))[0]
            rows.append(
                {
                    **common,
                    "action_type": rnd.choice(ACTIONS),
                    "position": position,
                    "target_name": f"Target {rnd.randint(1, 30)}",
                    "status": status,
                    "reason_code": rnd.choice(("stopped", "already_done", "busy"))
                    if status == "skipped"
                    else None,
                    "error": rnd.choice(ERRORS) if status != "succeeded" else "",
                    "created_at": iso(moment + timedelta(seconds=position)),
                }
            )
    # A few replays, pointing at earlier rows.
    for n, row in enumerate(rows[100:160]):
        rows.append({**row, "run_id": f"replay{n}", "retry_of": 101 + n, "created_at": ago()})
    return rows


# Every filter the log page offers, as LogFilter fields. Time fields are merged into one range.
SINGLE_FILTERS: dict[str, dict[str, Any]] = {
    "since": {"since": NOW - timedelta(days=20)},
    "until": {"until": NOW - timedelta(days=10)},
    "last": {"last": timedelta(days=7)},
    "one status": {"statuses": ("failed",)},
    "several statuses": {"statuses": ("failed", "unknown", "interrupted")},
    "action_types": {"action_types": ("add_tag", "remove_tag")},
    "prompt_ids": {"prompt_ids": (3,)},
    "interactions": {"interactions": ("decline",)},
    "accounts": {"accounts": ("acme",)},
    "operators": {"operators": ("bob", "cy")},
    "sources": {"sources": ("cli",)},
    "email": {"email": "User17@Example.com"},
    "run_id": {"run_id": "run17"},
    "text": {"text": "unsubscribed"},
    "replayable": {"replayable": True},
}
_TIME_FIELDS = ("since", "until", "last")


def combined(*names: str) -> LogFilter | None:
    """The filter with all of ``names`` set; None when two set the same field."""
    fields: dict[str, Any] = {}
    for name in names:
        for key, value in SINGLE_FILTERS[name].items():
            if key in fields:
                return None
            fields[key] = value
    time = TimeRange(**{k: fields.pop(k) for k in _TIME_FIELDS if k in fields})
    return LogFilter(time=time, **fields)


def every_filter_and_pair() -> Iterator[tuple[str, LogFilter]]:
    yield "everything", LogFilter()
    names = list(SINGLE_FILTERS)
    for combo in [(n,) for n in names] + list(itertools.combinations(names, 2)):
        found = combined(*combo)
        if found is not None:
            yield " + ".join(combo), found


_FULL_SCAN = re.compile(r"SCAN (a|action_log|r|runs|later)")


def full_scans(plan: list[str]) -> list[str]:
    """The steps that read a whole table: a bare ``SCAN`` of it (``SCAN ... USING INDEX`` is an
    index walk; ``SCAN s VIRTUAL TABLE INDEX`` is the search index)."""
    return [step for step in plan if _FULL_SCAN.fullmatch(step.strip())]


@pytest.fixture(scope="module")
def analysed_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ActionLog, Database]]:
    db = Database(tmp_path_factory.mktemp("plans") / "c.db")
    insert_rows(db, varied_rows(2000))
    db.keep_statistics(every=0)
    with db.read() as conn:  # the planner has statistics, as in production
        assert conn.execute("SELECT count(*) FROM sqlite_stat1").fetchone()[0] > 0
    yield ActionLog(db), db
    db.close()


def test_the_filter_combinations_cover_every_filter_and_pair() -> None:
    named = dict(every_filter_and_pair())
    singles = len(SINGLE_FILTERS)
    # Only "one status" + "several statuses" set one field twice.
    assert len(named) == 1 + singles + singles * (singles - 1) // 2 - 1
    assert named["since + until"].time == TimeRange(
        since=NOW - timedelta(days=20), until=NOW - timedelta(days=10)
    )


@pytest.mark.parametrize("runs", [False, True], ids=["actions", "runs"])
def test_no_filter_or_pair_of_filters_reads_the_whole_log(
    analysed_log: tuple[ActionLog, Database], runs: bool
) -> None:
    log, _ = analysed_log
    offenders = []
    for name, filters in every_filter_and_pair():
        plan = log.explain(filters, runs=runs)
        assert plan, name
        if full_scans(plan):
            offenders.append(f"{name}: {plan}")
    assert not offenders, "full table scans:\n" + "\n".join(offenders)


def test_later_pages_and_counts_are_index_walks_too(
    analysed_log: tuple[ActionLog, Database],
) -> None:
    """The second page (with a cursor) and the status counts the page shows."""
    _, db = analysed_log
    cursor = Cursor(ago(days=15), 1500)
    offenders = []
    for name, filters in every_filter_and_pair():
        query = LogQuery(filters, NOW)
        for what, (sql, args) in (
            ("page 2", query.page(cursor, 50)),
            ("runs page 2", query.runs(cursor, 50)),
            ("counts", query.counts()),
        ):
            with db.read() as conn:
                plan = [r[3] for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}", args)]
            if full_scans(plan):
                offenders.append(f"{what} for {name}: {plan}")
    assert not offenders, "full table scans:\n" + "\n".join(offenders)


def test_a_bare_scan_is_recognised_as_a_full_scan() -> None:
    assert full_scans(["SCAN a", "SCAN runs", "SCAN later"]) == [
        "SCAN a",
        "SCAN runs",
        "SCAN later",
    ]
    assert not full_scans(
        [
            "SCAN a USING INDEX idx_action_log_created_at",
            "SCAN a USING COVERING INDEX idx_action_log_status_created_at",
            "SCAN s VIRTUAL TABLE INDEX 0:M5",
            "SEARCH a USING INTEGER PRIMARY KEY (rowid=?)",
        ]
    )


# -- a relative time range, paged while rows arrive ---------------------------------------------


def spread_rows() -> list[dict[str, Any]]:
    """Rows every 97 minutes over 14 days, three at a time with the same instant (so a page
    can end inside a tie), kept more than an hour away from the 7-day edge; every fourth
    group failed, and every fifth row mentions a timeout."""
    rows = []
    n = 0
    for step in range(14 * 24 * 60 // 97, 0, -1):  # oldest first, as they would be recorded
        minutes = step * 97
        if abs(minutes - 7 * 24 * 60) < 60:
            continue
        for _ in range(3):
            n += 1
            rows.append(
                {
                    "run_id": f"run{n}",
                    "created_at": ago(minutes=minutes),
                    "status": "failed" if step % 4 == 0 else "succeeded",
                    "error": "Request timed out" if n % 5 == 0 else "",
                }
            )
    return rows


@pytest.mark.parametrize(
    "narrower",
    [{}, {"statuses": ("failed",)}, {"text": "timed"}],
    ids=["time only", "and a status", "and a search"],
)
def test_last_seven_days_pages_every_row_once_while_rows_arrive(
    tmp_path: Path, narrower: dict[str, Any]
) -> None:
    db = Database(tmp_path / "c.db")
    log = ActionLog(db)
    rows = spread_rows()
    ids = insert_rows(db, rows)
    kept = LogFilter(time=TimeRange(last=timedelta(days=7)), **narrower)

    def matches(row: dict[str, Any]) -> bool:
        return (
            row["created_at"] >= ago(days=7)
            and row.get("status", "succeeded") in (narrower.get("statuses") or (row["status"],))
            and ("timed" in row["error"] if "text" in narrower else True)
        )

    expected = [i for i, row in sorted(zip(ids, rows, strict=True), reverse=True) if matches(row)]
    assert len(expected) > 20 and len(expected) < len(rows)

    seen: list[int] = []
    cursor = None
    reruns = 0
    while True:
        # Each rerun of the page builds its filter again and resolves "last 7 days" at its
        # own now: a few minutes later every time.
        rerun = LogFilter(time=TimeRange(last=timedelta(days=7)), **narrower)
        assert rerun == kept and hash(rerun) == hash(kept)
        page = log.page(rerun, limit=7, cursor=cursor, now=NOW + timedelta(minutes=reruns))
        seen.extend(r["id"] for r in page.rows)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
        reruns += 1
        # Meanwhile new rows arrive that match the filter too, at the newest instants.
        insert_rows(
            db,
            [
                {
                    "run_id": f"new{reruns}-{k}",
                    "created_at": iso(NOW + timedelta(minutes=reruns, seconds=k)),
                    "status": narrower.get("statuses", ("succeeded",))[0],
                    "error": "Request timed out again",
                }
                for k in range(3)
            ],
        )
    assert reruns >= 3
    assert seen == expected  # each once, newest first, none of the new ones
    # The new rows are there for the next first page.
    fresh = log.page(kept, limit=5, now=NOW + timedelta(minutes=reruns + 1)).rows
    assert [r["run_id"] for r in fresh][:3] == [f"new{reruns}-{k}" for k in (2, 1, 0)]


def test_a_relative_range_stays_relative() -> None:
    made = LogFilter(time=TimeRange(last=timedelta(days=7)))
    later = LogFilter(time=TimeRange(last=timedelta(days=7)))
    assert made == later and hash(made) == hash(later) and not made.is_empty
    assert made.time.bounds(NOW) == (iso(NOW - timedelta(days=7)), None)
    assert made.time.bounds(NOW + timedelta(hours=1)) == (
        iso(NOW - timedelta(days=7, hours=-1)),
        None,
    )
    assert made != LogFilter(time=TimeRange(since=NOW - timedelta(days=7)))
    assert made.describe() == "last 7 days"


def test_a_page_cursor_holds_within_a_tie(tmp_path: Path) -> None:
    """Rows with the same instant split over two pages: none lost, none repeated."""
    db = Database(tmp_path / "c.db")
    log = ActionLog(db)
    ids = insert_rows(db, [{"run_id": f"r{n}", "created_at": ago(hours=1)} for n in range(5)])
    first = log.page(limit=2, now=NOW)
    assert first.next_cursor == Cursor(ago(hours=1), ids[3])
    second = log.page(limit=2, cursor=first.next_cursor, now=NOW)
    third = log.page(limit=2, cursor=second.next_cursor, now=NOW)
    assert [r["id"] for p in (first, second, third) for r in p.rows] == ids[::-1]
    assert third.next_cursor is None


# -- search -------------------------------------------------------------------------------------

SEARCHED = ("contact_email", "target_name", "prompt_name", "error", "last_error")
CORPUS: list[dict[str, Any]] = [
    {"contact_email": "ada@example.com", "target_name": "Newsletter", "prompt_name": "Spring"},
    {
        "contact_email": "user7@example.com",
        "target_name": "VIP",
        "error": "Contact is unsubscribed",
    },
    {
        "contact_email": "user70@example.com",
        "error": 'HTTP 422: "email" is invalid (NEAR the end) OR NOT',
    },
    {"contact_email": "jose@example.org", "prompt_name": "José's welcome", "status": "failed"},
    {"contact_email": "rtl@example.com", "target_name": "قائمة العملاء", "status": "failed"},
    {
        "contact_email": "emoji@example.com",
        "target_name": "Launch 🚀 list",
        "error": "rate ^ limit",
    },
    {
        "contact_email": "drop@example.com",
        "error": "could not DROP TABLE action_log; -- said the server",
        "last_error": "timeout: 30 s",
    },
    {"contact_email": "o'brien@example.ie", "error": "a*b and c:d", "target_name": "Ünïcödé"},
]

HOSTILE = [
    '"',
    '""',
    '"ada',
    'ada"',
    "'",
    "o'brien",
    "(",
    ")",
    "((ada",
    "ada)",
    'HTTP "email',
    "OR",
    "ada OR user7",
    "NOT",
    "user70 NOT",
    "AND",
    "NEAR(",
    "NEAR(ada user7)",
    "NEAR the",
    "*",
    "ada*",
    "*ada",
    "a*b",
    "^",
    "^ada",
    "rate ^",
    ":",
    "error:",
    "contact_email:ada",
    "c:d",
    "-",
    "-ada",
    "ada -user7",
    "--",
    "timeout: 30",
    "'; DROP TABLE action_log; --",
    "DROP TABLE action_log",
    "a" * 10_000,
    "ada " * 2_500,
    "(" * 10_000,
    '"' * 10_000,
    "x" * 9_999 + "*",
    " ".join(f"w{n}" for n in range(2_000)),
    "\x00",
    "ada\x00",
    "\x00ada",
    "\x1b[31mada\x1b[0m",
    "\t\n\r\x0b\x0c",
    "\x7f",
    "\u200b",
    "\ufeffada",
    "\ud800ada",
    "🚀",
    "launch 🚀",
    "🚀list",
    "العملاء",
    "قائمة",
    "\u202eada",
    "\u200fuser7@",
    "unicode",
    "UNICODE",
    "ünïcödé",
    "jose",
    "JOSÉ",
    "Jose\u0301",
]

_TOKEN = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """Lower case without diacritics, as the search index stores words."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def expected_matches(rows: dict[int, dict[str, Any]], text: str) -> list[int] | None:
    """Which rows ``text`` should find, newest first, by the documented rule: each
    whitespace-separated piece is a phrase of its words within one field, the last word a
    prefix when the piece ends inside a word. None: nothing to search for."""
    phrases = []
    for piece in text.split():
        words = [fold(w) for w in _TOKEN.findall(piece)]
        words = [t for w in words for t in _TOKEN.findall(w)]
        if words:
            phrases.append((words, piece[-1].isalnum()))
    if not phrases:
        return None

    def has(tokens: list[str], words: list[str], prefix: bool) -> bool:
        for i in range(len(tokens) - len(words) + 1):
            head, last = tokens[i : i + len(words) - 1], tokens[i + len(words) - 1]
            if head == words[:-1] and (last.startswith(words[-1]) if prefix else last == words[-1]):
                return True
        return False

    found = []
    for row_id, row in rows.items():
        fields = [_TOKEN.findall(fold(row.get(c) or "")) for c in SEARCHED]
        if all(any(has(t, words, prefix) for t in fields) for words, prefix in phrases):
            found.append(row_id)
    return sorted(found, reverse=True)


@pytest.fixture
def searched(tmp_path: Path) -> tuple[ActionLog, dict[int, dict[str, Any]]]:
    db = Database(tmp_path / "c.db")
    rows = [
        {"run_id": f"run{n}", "created_at": ago(minutes=60 - n), "target_name": "", **row}
        for n, row in enumerate(CORPUS)
    ]
    ids = insert_rows(db, rows)
    merged = {i: {**_ACTION_DEFAULTS, **row} for i, row in zip(ids, rows, strict=True)}
    return ActionLog(db), merged


def test_hostile_search_text_finds_what_it_says_or_raises_a_search_error(
    searched: tuple[ActionLog, dict[int, dict[str, Any]]],
) -> None:
    log, rows = searched
    everything = log.total()
    for text in HOSTILE:
        # Only white space: an empty search box, no search at all.
        expected = expected_matches(rows, text) if text.strip() else sorted(rows, reverse=True)
        filters = LogFilter(text=text)
        if expected is None:
            for read in (log.page, log.counts, log.runs_page):
                with pytest.raises(SearchError):
                    read(filters)
                    pytest.fail(f"{text[:40]!r} has no word, yet {read.__name__} searched")
            continue
        try:
            page = log.page(filters, limit=100, now=NOW)
            counts = log.counts(filters, now=NOW)
            ids = log.ids(filters, now=NOW)
            runs = log.runs_page(filters, limit=100, now=NOW).runs
        except SearchError as exc:
            pytest.fail(f"{text[:40]!r} has words to search for, yet: {exc}")
        assert [r["id"] for r in page.rows] == expected, repr(text[:40])
        assert sum(counts.values()) == len(expected), repr(text[:40])
        assert ids == sorted(expected), repr(text[:40])
        assert {r.run_id for r in runs} == {rows[i]["run_id"] for i in expected}, repr(text[:40])
    assert log.total() == everything  # nothing ran as SQL or changed the log


def test_the_hostile_inputs_include_real_finds(
    searched: tuple[ActionLog, dict[int, dict[str, Any]]],
) -> None:
    """The oracle above is not vacuous: these inputs do find rows, and the right ones."""
    log, rows = searched

    def emails(text: str) -> list[str]:
        return [r["contact_email"] for r in log.page(LogFilter(text=text), now=NOW).rows]

    assert emails("DROP TABLE action_log") == ["drop@example.com"]
    assert emails("'; DROP TABLE action_log; --") == ["drop@example.com"]
    assert emails("NEAR(") == ["user70@example.com"]
    assert emails("OR") == ["jose@example.org", "user70@example.com"]  # "or" and "org"
    assert emails("a*b") == ["o'brien@example.ie"]
    assert emails("\u202eada") == ["ada@example.com"]
    assert emails("العملاء") == ["rtl@example.com"]
    assert emails("launch 🚀") == ["emoji@example.com"]
    assert emails("ada " * 2_500) == ["ada@example.com"]
    assert emails("a" * 10_000) == []


def test_search_prefixes_fields_and_diacritics(
    searched: tuple[ActionLog, dict[int, dict[str, Any]]],
) -> None:
    log, _ = searched

    def emails(text: str) -> list[str]:
        return [r["contact_email"] for r in log.page(LogFilter(text=text), now=NOW).rows]

    assert emails("ada@exa") == ["ada@example.com"]  # still being typed: a prefix
    assert emails("user7") == ["user70@example.com", "user7@example.com"]
    assert emails("user7@") == ["user7@example.com"]  # ends in punctuation: the whole word
    assert emails("user7@example.com") == ["user7@example.com"]
    assert emails("unsubscribed") == ["user7@example.com"]  # the error
    assert emails("timeout: 30") == ["drop@example.com"]  # the last error
    assert emails("newsletter") == ["ada@example.com"]  # the target
    assert emails("spring") == ["ada@example.com"]  # the prompt
    assert emails("jose") == ["jose@example.org"]  # José
    assert emails("JOSÉ") == ["jose@example.org"]
    assert emails("jose's welcome") == ["jose@example.org"]
    assert emails("unicode") == ["o'brien@example.ie"]  # Ünïcödé
    assert emails("welcome spring") == []  # every piece is required
    assert emails("failed") == []  # the status is a filter, not searched text
    # Search narrows the other filters, not the other way round.
    failed = LogFilter(text="example", statuses=("failed",))
    assert {r["contact_email"] for r in log.page(failed, now=NOW).rows} == {
        "jose@example.org",
        "rtl@example.com",
    }


@pytest.mark.parametrize("text", ["", "   ", "@@@", "***", '"()"', "-- ^ : *", "\x00\x01", "🚀"])
def test_text_without_words_is_refused_with_what_to_type(text: str) -> None:
    with pytest.raises(SearchError) as refused:
        search_expression(text)
    message = str(refused.value)
    assert "letters or digits" in message and "Type part of one" in message


def test_an_empty_search_box_is_no_search(
    searched: tuple[ActionLog, dict[int, dict[str, Any]]],
) -> None:
    log, rows = searched
    assert LogFilter(text="").is_empty
    assert len(log.page(LogFilter(text="   "), limit=100).rows) == len(rows)
    with pytest.raises(SearchError, match="@@@"):
        log.page(LogFilter(text="@@@"))


def test_search_expression_quotes_every_word() -> None:
    assert search_expression("ada@exa") == '"ada exa" *'
    assert search_expression("user7@") == '"user7"'
    assert search_expression('NEAR(a OR "b') == '"NEAR a" * AND "OR" * AND "b" *'


# -- facets -------------------------------------------------------------------------------------


def test_facets_are_distinct_and_a_deleted_prompt_keeps_its_latest_name(tmp_path: Path) -> None:
    db = Database(tmp_path / "c.db")
    log = ActionLog(db)
    store = PromptStore(db)
    gone = store.save(Prompt(name="Welcome"))
    kept = store.save(Prompt(name="Kept"))
    assert gone.id is not None and kept.id is not None
    logged = [
        (gone.id, "Welcome (first name)", "acme", "ann", "simulator", 50),
        (gone.id, "Welcome", "acme", "bob", "cli", 40),
        (kept.id, "Kept", "beta", "ann", "simulator", 30),
        (gone.id, "Welcome", "", "ann", "", 20),
        (kept.id, "Kept", "acme", "bob", "job", 10),
    ]
    ids = insert_rows(
        db,
        [
            {
                "run_id": f"run{n}",
                "prompt_id": prompt_id,
                "prompt_name": name,
                "account": account,
                "operator": operator,
                "source": source,
                "created_at": ago(minutes=minutes),
            }
            for n, (prompt_id, name, account, operator, source, minutes) in enumerate(logged)
        ],
    )
    # Renamed after its last row, then deleted: the log keeps the name it last logged.
    store.save(replace(gone, name="Welcome renamed"))
    store.delete(gone.id)
    assert store.get(gone.id) is None

    facets = log.facets()
    assert facets.accounts == ("acme", "beta")
    assert facets.sources == ("cli", "job", "simulator")
    assert sorted(facets.operators) == ["ann", "bob"]
    assert facets.prompts == {gone.id: "Welcome", kept.id: "Kept"}
    rows = log.page(LogFilter(prompt_ids=(gone.id,)), now=NOW).rows
    assert [r["id"] for r in rows] == [ids[3], ids[1], ids[0]]
    assert log.total(LogFilter(prompt_ids=(gone.id,), accounts=("acme",))) == 2


def test_facets_of_an_empty_log(tmp_path: Path) -> None:
    facets = ActionLog(Database(tmp_path / "c.db")).facets()
    assert (facets.accounts, facets.operators, facets.sources, facets.prompts) == ((), (), (), {})


# -- runs ---------------------------------------------------------------------------------------


def logged_run(
    log: ActionLog,
    run_id: str,
    minutes_ago: int,
    statuses: list[Status],
    *,
    email: str = "ada@example.com",
    prompt_id: int = 1,
    account: str = "sandbox",
) -> Run:
    """A run of one action per status, recorded through the log as the runner does."""
    run = Run(
        run_id=run_id,
        prompt_id=prompt_id,
        prompt_name=f"Prompt {prompt_id}",
        interaction=Interaction.ACCEPT,
        user=SimulatedUser("u"),
        account=account,
        contact_email=email,
        started_at=ago(minutes=minutes_ago),
    )
    run.attempts = [
        Attempt(
            run_id=run_id,
            position=position,
            action_type=ActionType.ADD_TAG,
            label="Add Tag",
            target_id=str(position),
            target_name=f"Tag {position}",
            contact_email=email,
            started_at=ago(minutes=minutes_ago, seconds=-position),
        )
        for position in range(1, len(statuses) + 1)
    ]
    record_plan(log, run)
    for attempt, status in zip(run.attempts, statuses, strict=True):
        mark_sending(log, attempt, run)
        attempt.finish(status, "boom" if status is Status.FAILED else "")
        log.finish(attempt, run)
    run.conclude()
    log.finish_run(run, owner=TEST_OWNER)
    return run


def test_an_action_filter_keeps_the_runs_with_such_an_action(tmp_path: Path) -> None:
    log = ActionLog(Database(tmp_path / "c.db"))
    logged_run(log, "mixed", 50, [Status.SUCCEEDED, Status.FAILED, Status.SKIPPED])
    logged_run(log, "clean", 40, [Status.SUCCEEDED, Status.SUCCEEDED])
    logged_run(log, "empty", 30, [])
    logged_run(log, "failed", 20, [Status.FAILED])
    logged_run(log, "other", 10, [Status.FAILED], account="acme")

    page = log.runs_page(LogFilter(statuses=("failed",)), now=NOW)
    assert [r.run_id for r in page.runs] == ["other", "failed", "mixed"]
    mixed = page.runs[-1]  # with all its attempts, not only the failed one
    assert [a.status for a in mixed.attempts] == [Status.SUCCEEDED, Status.FAILED, Status.SKIPPED]
    assert [a.position for a in mixed.attempts] == [1, 2, 3]
    narrowed = LogFilter(statuses=("failed",), accounts=("sandbox",))
    assert [r.run_id for r in log.runs_page(narrowed, now=NOW).runs] == ["failed", "mixed"]
    everything = log.runs_page(now=NOW).runs
    assert [r.run_id for r in everything] == ["other", "failed", "empty", "clean", "mixed"]
    # Paged, the cursor walks the same runs once each.
    walked, cursor = [], None
    while True:
        got = log.runs_page(LogFilter(statuses=("failed",)), limit=1, cursor=cursor, now=NOW)
        walked += [r.run_id for r in got.runs]
        if got.next_cursor is None:
            break
        cursor = got.next_cursor
    assert walked == ["other", "failed", "mixed"]


def test_contact_history_is_every_run_for_the_email_newest_first(tmp_path: Path) -> None:
    log = ActionLog(Database(tmp_path / "c.db"))
    logged_run(log, "first", 90, [Status.SUCCEEDED], prompt_id=1, account="sandbox")
    logged_run(log, "elsewhere", 80, [Status.FAILED], prompt_id=2, account="acme")
    logged_run(log, "someone else", 70, [Status.SUCCEEDED], email="bob@example.com")
    logged_run(log, "declined", 60, [], prompt_id=3)
    logged_run(log, "latest", 50, [Status.SUCCEEDED, Status.SKIPPED], prompt_id=2)
    logged_run(log, "adam", 40, [Status.SUCCEEDED], email="adam@example.com")

    history = log.contact_history(" ADA@example.com ")
    assert [r.run_id for r in history.runs] == ["latest", "declined", "elsewhere", "first"]
    assert {r.prompt_id for r in history.runs} == {1, 2, 3}
    assert {r.account for r in history.runs} == {"sandbox", "acme"}
    assert [[a.target_name for a in r.attempts] for r in history.runs] == [
        ["Tag 1", "Tag 2"],
        [],
        ["Tag 1"],
        ["Tag 1"],
    ]
    assert history.runs[2].attempts[0].status is Status.FAILED
    assert history.next_cursor is None
    assert log.contact_history("nobody@example.com").runs == []
