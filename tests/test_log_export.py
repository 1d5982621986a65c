"""The action log as files: CSV safe to open in a spreadsheet, JSON Lines with nested request and
response, streamed in chunks in constant memory."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from collections.abc import Iterator
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
    Reason,
    Run,
    SimulatedUser,
    Status,
)
from connector.core.records import Exchange
from connector.store.log import LogPage
from connector.store.log_export import (
    EXPORT_COLUMNS,
    ExportFormat,
    export,
    neutralised,
    text,
)
from connector.store.log_query import EVERYTHING, Cursor, iso

FORMULA = '=HYPERLINK("http://x","y")'
# Cells a spreadsheet would run, one per column that holds logged text.
HOSTILE_RUN = {
    "prompt_name": FORMULA,
    "operator": "+operator",
    "account": "\taccount",
    "source": "\rsource",
}
HOSTILE_ATTEMPT = {
    "target_name": "@SUM(A1:A2)",
    "reason": "-2+3 contacts left",  # the error column
    "contact_email": "=cmd|' /C calc'!A0@example.com",
}
LAST_ERROR = "-1 is not a valid id"
START = datetime(2026, 1, 1, tzinfo=UTC)


def hostile_and_plain_rows(log: ActionLog) -> tuple[int, int]:
    """A run whose text cells all start like formulas, and a plain one; their row ids."""
    run = Run(
        run_id="hostile",
        prompt_id=1,
        interaction=Interaction.ACCEPT,
        user=SimulatedUser("u"),
        prompt_name=HOSTILE_RUN["prompt_name"],
        operator=HOSTILE_RUN["operator"],
        account=HOSTILE_RUN["account"],
        source=HOSTILE_RUN["source"],
    )
    request = Exchange(
        "POST",
        "https://x.api-us1.com/api/3/contactTags",
        request_body={"contactTag": {"contact": "7", "tag": "12"}},
        status=201,
        response_body={"contactTag": {"id": "99", "note": "José 🚀"}},
    )
    attempt = Attempt(
        run_id="hostile",
        position=1,
        action_type=ActionType.ADD_TAG,
        label="Add Tag",
        target_id="12",
        target_name=HOSTILE_ATTEMPT["target_name"],
        contact_email=HOSTILE_ATTEMPT["contact_email"],
        tries=[Exchange("POST", "https://x/api/3/contactTags", error=LAST_ERROR), request],
    )
    run.attempts = [attempt]
    record_plan(log, run)
    mark_sending(log, attempt, run)
    attempt.finish(Status.SUCCEEDED, HOSTILE_ATTEMPT["reason"], evidence=request)
    log.finish(attempt, run)
    run.conclude()
    log.finish_run(run, owner=TEST_OWNER)

    plain_run = Run("plain", 2, "Spring = sale", Interaction.DECLINE, SimulatedUser("u"))
    plain = Attempt(
        "plain",
        1,
        ActionType.ADD_TO_LIST,
        "Add to List",
        "3",
        " =not a formula",
        contact_email="a@b.io",
    )
    plain_run.attempts = [plain]
    record_plan(log, plain_run)
    # Skipped before anything was sent: no request, no response.
    plain.finish(Status.SKIPPED, "Already on the list.", code=Reason.ALREADY_DONE)
    log.finish(plain, plain_run)
    plain_run.conclude()
    log.finish_run(plain_run, owner=TEST_OWNER)
    assert attempt.log_id is not None and plain.log_id is not None
    return attempt.log_id, plain.log_id


def test_neutralised_prefixes_only_what_a_spreadsheet_would_run() -> None:
    for formula in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", FORMULA):
        assert neutralised(formula) == "'" + formula
    for value in ("", "a=b", " =1", "'=1", "1-2", "x@y", "\n=1", 3, -3, 2.5, None):
        assert neutralised(value) == value


def test_csv_neutralises_formula_cells_and_round_trips(tmp_path: Path) -> None:
    log = ActionLog(Database(tmp_path / "c.db"))
    hostile_id, plain_id = hostile_and_plain_rows(log)
    out = io.StringIO()
    written = export(log, EVERYTHING, ExportFormat.CSV, out)
    assert written == 2

    reader = csv.DictReader(io.StringIO(out.getvalue(), newline=""))
    assert tuple(reader.fieldnames or ()) == EXPORT_COLUMNS
    exported = {int(r["id"]): r for r in reader}
    assert set(exported) == {hostile_id, plain_id}

    hostile = exported[hostile_id]
    assert hostile["prompt_name"] == "'" + FORMULA
    assert hostile["error"] == "'-2+3 contacts left"
    assert hostile["last_error"] == "'" + LAST_ERROR
    assert hostile["target_name"] == "'@SUM(A1:A2)"
    assert hostile["contact_email"] == "'" + HOSTILE_ATTEMPT["contact_email"].lower()
    assert hostile["operator"] == "'+operator"
    assert hostile["account"] == "'\taccount"  # the tab survives, quoted
    assert hostile["source"] == "'\rsource"  # so does the carriage return
    # Every other cell is the stored value as text, unchanged.
    for row_id, cells in exported.items():
        stored = log.page(LogFilter(), limit=10).rows
        row = next(r for r in stored if r["id"] == row_id)
        for column in EXPORT_COLUMNS:
            value = row[column]
            text = "" if value is None else str(value)
            if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
                text = "'" + text
            assert cells[column] == text, (row_id, column)
    plain = exported[plain_id]
    assert plain["prompt_name"] == "Spring = sale"
    assert plain["target_name"] == " =not a formula"
    assert plain["request"] == "" and plain["response"] == ""
    assert json.loads(hostile["request"])["body"] == {"contactTag": {"contact": "7", "tag": "12"}}


def test_a_csv_of_nothing_is_the_header(tmp_path: Path) -> None:
    log = ActionLog(Database(tmp_path / "c.db"))
    out = io.StringIO()
    assert export(log, EVERYTHING, ExportFormat.CSV, out) == 0
    assert next(csv.reader(io.StringIO(out.getvalue()))) == list(EXPORT_COLUMNS)
    assert list(text(log)) == [",".join(EXPORT_COLUMNS) + "\r\n"]
    assert list(text(log, fmt=ExportFormat.JSONL)) == []


def test_jsonl_is_one_object_per_line_with_nested_request_and_response(tmp_path: Path) -> None:
    log = ActionLog(Database(tmp_path / "c.db"))
    hostile_id, plain_id = hostile_and_plain_rows(log)
    out = io.StringIO()
    assert export(log, EVERYTHING, ExportFormat.JSONL, out) == 2
    text = out.getvalue()
    assert text.endswith("\n")
    lines = text.split("\n")[:-1]
    records = [json.loads(line) for line in lines]
    assert [r["id"] for r in records] == [plain_id, hostile_id]  # newest first
    assert all(list(r) == list(EXPORT_COLUMNS) for r in records)
    plain, hostile = records
    assert hostile["request"] == {
        "method": "POST",
        "url": "https://x.api-us1.com/api/3/contactTags",
        "headers": {},
        "body": {"contactTag": {"contact": "7", "tag": "12"}},
    }
    assert hostile["response"] == {
        "status": 201,
        "body": {"contactTag": {"id": "99", "note": "José 🚀"}},
    }
    assert "José 🚀" in text  # kept as text, not escaped
    assert hostile["prompt_name"] == FORMULA  # JSON is data: nothing to neutralise
    assert hostile["http_status"] == 201 and isinstance(hostile["duration_ms"], float)
    assert plain["request"] is None and plain["response"] is None
    assert plain["status"] == "skipped"


def test_line_breaks_and_quotes_inside_values_stay_inside_their_cell(tmp_path: Path) -> None:
    db = Database(tmp_path / "c.db")
    bulk_rows(db, 1)
    with db.write() as conn:
        conn.execute(
            "UPDATE action_log SET error = ?, request = ?, target_name = ?",
            ["one\ntwo\r\nthree", '{"body": "a\\nb"}', 'say "hi", then go'],
        )
    log = ActionLog(db)
    jsonl = "".join(text(log, fmt=ExportFormat.JSONL))
    assert jsonl.count("\n") == 1 and jsonl.endswith("\n")
    record = json.loads(jsonl)
    assert record["error"] == "one\ntwo\r\nthree" and record["request"] == {"body": "a\nb"}
    header, row = list(csv.reader(io.StringIO("".join(text(log)), newline="")))
    cells = dict(zip(header, row, strict=True))
    assert cells["error"] == "one\ntwo\r\nthree" and cells["target_name"] == 'say "hi", then go'
    assert json.loads(cells["request"]) == {"body": "a\nb"}


def test_the_csv_is_what_pythons_csv_writer_writes(tmp_path: Path) -> None:
    """SQLite builds the lines for speed; they must be byte for byte the standard CSV."""
    log = ActionLog(Database(tmp_path / "c.db"))
    hostile_and_plain_rows(log)
    bulk_rows(log._db, 5)  # noqa: SLF001 - the fixture's own database
    expected = io.StringIO()
    writer = csv.writer(expected)
    writer.writerow(EXPORT_COLUMNS)
    for row in log.iter_rows():
        writer.writerow(["" if row[k] is None else neutralised(row[k]) for k in EXPORT_COLUMNS])
    assert "".join(text(log)) == expected.getvalue()


# -- streaming ----------------------------------------------------------------------------------


def bulk_rows(db: Database, count: int) -> None:
    """``count`` rows of realistic size (a request and a response of ~0.5 kB each), written
    with plain SQL, oldest first, some sharing an instant."""
    request = json.dumps(
        {"method": "POST", "url": "https://x/api/3/contactTags", "body": "x" * 400}
    )
    response = json.dumps({"status": 201, "body": {"contactTag": {"id": "1", "pad": "y" * 400}}})
    with db.write() as conn:
        conn.conn.executemany(
            "INSERT INTO action_log (run_id, prompt_id, prompt_name, interaction, action_type, "
            "position, target_id, target_name, contact_email, status, request, response, "
            "error, created_at, finished_at) VALUES (?, 1, 'P', 'accept', 'add_tag', 1, '12', "
            "'Tag', ?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    f"run{n}",
                    f"user{n}@example.com",
                    "failed" if n % 10 == 0 else "succeeded",
                    request,
                    response,
                    "boom" if n % 10 == 0 else "",
                    iso(START + timedelta(seconds=n // 3)),
                    "2026-01-01T01:00:00.000Z",
                )
                for n in range(count)
            ),
        )


class Discard(io.StringIO):
    """A sink that keeps nothing but a count."""

    def __init__(self) -> None:
        super().__init__()
        self.chars = 0

    def write(self, text: str) -> int:
        self.chars += len(text)
        return len(text)


@pytest.fixture(scope="module")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ActionLog]:
    db = Database(tmp_path_factory.mktemp("export") / "c.db")
    bulk_rows(db, 30_000)
    yield ActionLog(db)
    db.close()


@pytest.mark.parametrize("fmt", [ExportFormat.CSV, ExportFormat.JSONL])
def test_exporting_30000_rows_runs_in_constant_memory(
    big_log: ActionLog, fmt: ExportFormat
) -> None:
    """Materialising the rows instead peaks at about 70 MB; streaming stays near 10 MB."""
    log = big_log
    sink = Discard()
    tracemalloc.start()
    try:
        written = export(log, EVERYTHING, fmt, sink)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert written == 30_000
    assert sink.chars > 30_000 * 900  # it did write every row, requests and all
    assert peak < 20 * 2**20, f"peak {peak / 2**20:.1f} MB while streaming"


def test_iter_rows_reads_in_chunks_and_yields_every_row_once_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(tmp_path / "c.db")
    log = ActionLog(db)
    bulk_rows(db, 100)
    with db.read() as conn:
        newest_first = [
            i
            for (i,) in conn.execute("SELECT id FROM action_log ORDER BY created_at DESC, id DESC")
        ]
    reads: list[tuple[int, Cursor | None]] = []
    page = log.page

    def counted(filters: LogFilter, *, limit: int, cursor: Cursor | None, **kw: Any) -> LogPage:
        reads.append((limit, cursor))
        return page(filters, limit=limit, cursor=cursor, **kw)

    monkeypatch.setattr(log, "page", counted)
    assert [r["id"] for r in log.iter_rows(chunk=7)] == newest_first
    assert len(reads) == 15 and {limit for limit, _ in reads} == {7}  # 14 full pages, then 2
    assert reads[0][1] is None and len({c for _, c in reads}) == 15  # each read moves on

    reads.clear()
    failed = [r["id"] for r in log.iter_rows(LogFilter(statuses=("failed",)), chunk=3)]
    assert failed == [i for i in newest_first if (i - 1) % 10 == 0]
    assert len(reads) == 4
    searched = [r["id"] for r in log.iter_rows(LogFilter(text="boom"), chunk=4)]
    assert searched == sorted(failed, reverse=True)


def test_iter_rows_of_a_chunk_size_that_divides_the_rows(tmp_path: Path) -> None:
    db = Database(tmp_path / "c.db")
    bulk_rows(db, 20)
    ids = [r["id"] for r in ActionLog(db).iter_rows(chunk=5)]
    assert len(ids) == 20 and len(set(ids)) == 20
    assert list(ActionLog(Database(tmp_path / "empty.db")).iter_rows(chunk=5)) == []
