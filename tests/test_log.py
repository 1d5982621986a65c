"""The action log: runs and attempts as records, filters and keyset pages, CSV, reads while
another process holds the write lock, and outcomes the data file refused to record."""

from __future__ import annotations

import csv
import io
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from factories import TEST_OWNER, FakeClock, action, mark_sending, prompt_with, record_plan, user

from connector import (
    ActionLog,
    ActionType,
    Attempt,
    Console,
    Database,
    Interaction,
    LogFilter,
    Run,
    RunStatus,
    SimulatedUser,
    Status,
)
from connector.sandbox import Sandbox
from connector.store.log_export import ExportFormat
from connector.store.log_export import export as export_log
from connector.store.log_query import EVERYTHING, TimeRange


def record(log: ActionLog, n: int, status: Status = Status.SUCCEEDED, **kw: str) -> Attempt:
    """A finished run of one Add to List attempt, as the runner would leave it."""
    run = Run(
        run_id=f"run{n}",
        prompt_id=1,
        prompt_name="P",
        interaction=Interaction(kw.pop("interaction", "accept")),
        user=SimulatedUser("u"),
        account="sandbox",
    )
    attempt = Attempt(
        run_id=run.run_id,
        position=1,
        action_type=ActionType.ADD_TO_LIST,
        label="Add to List",
        target_id="3",
        target_name="Newsletter",
        contact_email=kw.pop("email", f"User{n}@Example.com"),
    )
    run.attempts = [attempt]
    record_plan(log, run)
    mark_sending(log, attempt, run)
    attempt.finish(status, kw.pop("reason", ""))
    log.finish(attempt, run)
    run.conclude()
    log.finish_run(run, owner=TEST_OWNER)
    return attempt


def test_planned_then_pending_then_finished_row_keeps_everything(tmp_path) -> None:
    log = ActionLog(Database(tmp_path / "c.db"))
    run = Run("r1", 1, "P", Interaction.ACCEPT, SimulatedUser("u"))
    attempt = Attempt("r1", 1, ActionType.ADD_TO_LIST, "Add to List", "3", "News")
    attempt.contact_email = "Ada@Example.com"
    run.attempts = [attempt]
    record_plan(log, run)
    assert log.get(attempt.log_id)["status"] == "planned"
    assert run_row(tmp_path)["status"] == "pending"
    assert run_row(tmp_path)["lease_owner"] == TEST_OWNER
    mark_sending(log, attempt, run)
    assert log.get(attempt.log_id)["status"] == "pending"
    attempt.finish(Status.SUCCEEDED, "done")
    log.finish(attempt, run)
    row = log.get(attempt.log_id)
    assert row["status"] == "succeeded" and row["error"] == "done"
    assert row["contact_email"] == "ada@example.com"
    assert row["finished_at"] >= row["created_at"] and row["created_at"].endswith("Z")
    run.conclude()
    log.finish_run(run, owner=TEST_OWNER)
    assert run_row(tmp_path)["status"] == "succeeded"
    assert run_row(tmp_path)["lease_owner"] is None  # the lease was given back


def run_row(tmp_path: Path) -> dict:
    with Database(tmp_path / "c.db").read() as db:
        return dict(next(iter(db.table("runs").rows_where("run_id = 'r1'"))))


def test_filters_counts_and_keyset_pages(tmp_path) -> None:
    log = ActionLog(Database(tmp_path / "c.db"))
    for n in range(120):
        status = Status.FAILED if n % 3 == 0 else Status.SUCCEEDED
        record(log, n, status, interaction="decline" if n % 2 else "accept")

    first = log.page(limit=50)
    assert [r["run_id"] for r in first.rows[:2]] == ["run119", "run118"]
    assert log.counts() == {"failed": 40, "succeeded": 80} and log.total() == 120
    second = log.page(limit=50, cursor=first.next_cursor)
    third = log.page(limit=50, cursor=second.next_cursor)
    assert len(third.rows) == 20 and third.next_cursor is None
    ids = [r["id"] for page in (first, second, third) for r in page.rows]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 120

    failed_accepts = LogFilter(statuses=("failed",), interactions=("accept",))
    rows = log.page(failed_accepts, limit=500).rows
    assert rows and all(r["status"] == "failed" and r["interaction"] == "accept" for r in rows)
    assert len(rows) == len([n for n in range(120) if n % 3 == 0 and n % 2 == 0])
    assert log.counts(failed_accepts) == {"failed": len(rows)}
    assert [r["run_id"] for r in log.page(LogFilter(text="USER7@"), limit=5).rows] == ["run7"]
    assert [r["run_id"] for r in log.page(LogFilter(email="User7@example.com")).rows] == ["run7"]
    assert [r.run_id for r in log.runs(limit=3)] == ["run119", "run118", "run117"]


def test_time_range_filter(tmp_path) -> None:
    log = ActionLog(Database(tmp_path / "c.db"))
    record(log, 1)
    now = datetime.now(UTC)
    assert log.total(LogFilter(time=TimeRange(since=now - timedelta(minutes=1)))) == 1
    assert log.total(LogFilter(time=TimeRange(since=now + timedelta(minutes=1)))) == 0
    assert log.total(LogFilter(time=TimeRange(until=now - timedelta(minutes=1)))) == 0
    assert log.total(LogFilter(time=TimeRange(last=timedelta(minutes=1)))) == 1


def test_search_treats_wildcards_and_syntax_as_text(tmp_path) -> None:
    log = ActionLog(Database(tmp_path / "c.db"))
    record(log, 1, email="a_b@x.io")
    record(log, 2, email="axb@x.io")
    assert [r["contact_email"] for r in log.page(LogFilter(text="a_b")).rows] == ["a_b@x.io"]
    assert [r["contact_email"] for r in log.page(LogFilter(text='"axb')).rows] == ["axb@x.io"]


def test_csv_export_holds_the_filtered_rows(tmp_path) -> None:
    log = ActionLog(Database(tmp_path / "c.db"))
    record(log, 1)
    record(log, 2, Status.FAILED, reason="boom, with a comma")

    def exported(filters: LogFilter = EVERYTHING) -> list[dict[str, str]]:
        out = io.StringIO()
        export_log(log, filters, ExportFormat.CSV, out)
        return list(csv.DictReader(io.StringIO(out.getvalue())))

    rows = exported(LogFilter(statuses=("failed",)))
    assert len(rows) == 1
    assert rows[0]["run_id"] == "run2" and rows[0]["error"] == "boom, with a comma"
    assert [r["run_id"] for r in exported()] == ["run2", "run1"]


# -- outcomes the data file refuses ----------------------------------------------------------


class LockingSandbox(Sandbox):
    """When the write arrives, a second connection takes the data file's write lock and keeps it
    until ``release()``: the outcome is known in ActiveCampaign but can't be written here."""

    def __init__(self, db_path: Path) -> None:
        super().__init__()
        self.db_path = db_path
        self.holder: sqlite3.Connection | None = None

    def handle(self, request: httpx.Request) -> httpx.Response:
        answer = super().handle(request)
        if request.method == "POST" and request.url.path.endswith("/contactLists"):
            self.holder = sqlite3.connect(self.db_path, isolation_level=None)
            self.holder.execute("BEGIN IMMEDIATE")
        return answer

    def release(self) -> None:
        assert self.holder is not None
        self.holder.execute("ROLLBACK")
        self.holder.close()


def test_an_outcome_the_log_cannot_record_is_shown_then_written_later(tmp_path) -> None:
    path = tmp_path / "c.db"
    sandbox = LockingSandbox(path)
    clock = FakeClock()
    console = Console(
        path, env={}, sandbox=sandbox, clock=clock, sleep=clock.sleep, busy_timeout=0.05
    )
    prompt = prompt_with(action(ActionType.ADD_TO_LIST, "3"))
    run = console.runner().run(prompt, Interaction.ACCEPT, user(), {0: "locked@x.io"})
    subscribe = run.attempts[1]
    # What happened in ActiveCampaign is known and said, with why the log lacks it.
    assert subscribe.status is Status.SUCCEEDED
    assert "could not record" in subscribe.unrecorded and "after 3 tries" in subscribe.unrecorded
    assert any("Add to List" in line for line in run.not_recorded)
    assert run.unrecorded  # the run's outcome could not be written either
    assert clock.slept[:2] == [0.25, 0.5]  # the log retried, on the injected clock
    sandbox.release()
    assert console.log.get(subscribe.log_id)["status"] == "pending"
    # The next entry this process logs writes the waiting outcomes first.
    console.runner().run(prompt, Interaction.DISMISS, user("x@x.io"), {})
    assert console.log.get(subscribe.log_id)["status"] == "succeeded"
    assert console.log.run(run.run_id).status is RunStatus.SUCCEEDED
    console.close()


def test_looking_at_the_log_never_fails_because_another_process_holds_it(tmp_path) -> None:
    """Reads never wait for the writer: while another process holds the write lock, pages,
    counts and runs are read quickly (the statistics a first page would refresh are a write,
    left for a later look), and show what is stored."""
    path = tmp_path / "c.db"
    log = ActionLog(Database(path))
    record(log, 1)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        page = log.page()
        assert [r["run_id"] for r in page.rows] == ["run1"]
        assert log.counts() == {"succeeded": 1}
        assert [r.run_id for r in log.runs()] == ["run1"]
        assert log.run("run1").status is RunStatus.SUCCEEDED
        assert time.monotonic() - started < 3  # not the 10 s busy timeout
    finally:
        holder.execute("ROLLBACK")
        holder.close()
