"""The log page's charts: exact numbers on small known logs, every filter applied, and each
chart reading its own index alone."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from factories import mark_sending, record_plan

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
from connector.store.log_query import LogFilter, TimeRange, iso

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SENT = ("succeeded", "failed", "unknown", "interrupted")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    made = Database(tmp_path / "charts.db")
    yield made
    made.close()


def add(
    db: Database,
    when: datetime,
    status: str = "succeeded",
    action_type: str = "add_tag",
    *,
    attempts: int | None = None,
    duration_ms: float = 100.0,
    error: str = "",
    account: str = "sandbox",
    email: str = "ada@example.com",
    operator: str = "ada",
) -> None:
    """One log row, as the runner leaves it once finished."""
    row: dict[str, Any] = {
        "run_id": "r1",
        "prompt_id": 1,
        "prompt_name": "Newsletter signup",
        "interaction": "accept",
        "action_type": action_type,
        "position": 1,
        "contact_email": email,
        "status": status,
        "attempts": (1 if status in SENT else 0) if attempts is None else attempts,
        "duration_ms": duration_ms,
        "error": error,
        "operator": operator,
        "source": "simulator",
        "account": account,
        "created_at": iso(when),
    }
    with db.write() as conn:
        conn.execute(
            f"INSERT INTO action_log ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            list(row.values()),
        )


def day(n: int, hour: int = 12) -> datetime:
    """``n`` days before NOW's date, at ``hour``."""
    return NOW.replace(hour=hour) - timedelta(days=n)


def test_actions_over_time_counts_each_day_and_status(db: Database) -> None:
    for when, status in [
        (day(5, 9), "succeeded"),
        (day(5, 10), "succeeded"),
        (day(5, 23), "failed"),
        (day(3, 0), "succeeded"),
        (day(3, 1), "skipped"),
        (day(3, 2), "skipped"),
        (day(0, 8), "unknown"),
    ]:
        add(db, when, status)
    frame = actions_over_time(db, LogFilter(), NOW)
    assert frame.attrs["bucket"] == "day"  # all time, spanning 5 days
    assert list(frame.columns) == ["bucket", "status", "count"]
    got = [(b.strftime("%Y-%m-%d"), s, c) for b, s, c in frame.itertuples(index=False)]
    assert got == [
        ("2026-11-21", "failed", 1),
        ("2026-11-21", "succeeded", 2),
        ("2026-11-23", "skipped", 2),
        ("2026-11-23", "succeeded", 1),
        ("2026-11-26", "unknown", 1),
    ]
    assert str(frame["bucket"].dt.tz) == "UTC"
    # "Last 4 days" is longer than 2 days: days, and day 5 is out.
    frame = actions_over_time(db, LogFilter(time=TimeRange(last=timedelta(days=4))), NOW)
    assert frame.attrs["bucket"] == "day"
    assert frame["count"].sum() == 4


def test_actions_over_time_by_the_hour_for_two_days_or_less(db: Database) -> None:
    add(db, day(1, 13).replace(minute=5), "succeeded")
    add(db, day(1, 13).replace(minute=50), "succeeded")
    add(db, day(1, 13).replace(minute=51), "failed")
    add(db, day(0, 11).replace(minute=59), "succeeded")
    add(db, day(4, 11), "succeeded")  # outside the last 2 days
    frame = actions_over_time(db, LogFilter(time=TimeRange(last=timedelta(days=2))), NOW)
    assert frame.attrs["bucket"] == "hour"
    got = [(b.isoformat(), s, c) for b, s, c in frame.itertuples(index=False)]
    assert got == [
        ("2026-11-25T13:00:00+00:00", "failed", 1),
        ("2026-11-25T13:00:00+00:00", "succeeded", 2),
        ("2026-11-26T11:00:00+00:00", "succeeded", 1),
    ]
    # A fixed range of a day: hours too.
    since, until = day(1, 0), day(0, 0)
    frame = actions_over_time(db, LogFilter(time=TimeRange(since=since, until=until)), NOW)
    assert frame.attrs["bucket"] == "hour" and frame["count"].sum() == 3


def test_all_time_picks_the_bucket_by_the_span_of_the_rows(db: Database) -> None:
    add(db, day(2, 12), "succeeded")
    add(db, day(0, 11), "succeeded")  # 47 hours later: hours
    frame = actions_over_time(db, LogFilter(), NOW)
    assert frame.attrs["bucket"] == "hour"
    assert list(frame["count"]) == [1, 1]
    add(db, day(0, 13), "failed")  # 49 hours after the first: days
    frame = actions_over_time(db, LogFilter(), NOW)
    assert frame.attrs["bucket"] == "day"
    assert list(frame["count"]) == [1, 1, 1]
    # The span of the filtered rows, not of the log.
    frame = actions_over_time(db, LogFilter(statuses=("succeeded",)), NOW)
    assert frame.attrs["bucket"] == "hour"


def test_success_by_action_counts_and_rate(db: Database) -> None:
    statuses = ["succeeded"] * 6 + ["failed", "failed", "unknown", "interrupted"]
    statuses += ["skipped"] * 3 + ["dry_run"] * 2 + ["pending"]
    for n, status in enumerate(statuses):
        add(db, day(1) + timedelta(minutes=n), status, "add_tag")
    add(db, day(1), "skipped", "remove_tag")  # nothing decided: no rate
    add(db, day(1), "dry_run", "remove_tag")
    frame = success_by_action(db, LogFilter(), NOW)
    assert list(frame.columns) == [
        "action_type",
        "total",
        "succeeded",
        "failed",
        "skipped",
        "dry_run",
        "pending",
        "success_rate",
    ]
    tag = frame.set_index("action_type").loc["add_tag"]
    assert (tag.total, tag.succeeded, tag.failed, tag.skipped) == (16, 6, 4, 3)
    assert (tag.dry_run, tag.pending) == (2, 1)
    assert tag.success_rate == pytest.approx(6 / 10)  # 16 − 3 skipped − 2 dry runs − 1 pending
    removal = frame.set_index("action_type").loc["remove_tag"]
    assert removal.total == 2 and math.isnan(removal.success_rate)
    assert list(frame["action_type"]) == ["add_tag", "remove_tag"]  # most rows first


def test_latency_is_nearest_rank_over_rows_sent_and_finished(db: Database) -> None:
    for n in range(1, 21):  # 1..20 ms, in a scrambled order
        add(
            db,
            day(1) + timedelta(minutes=n),
            "succeeded",
            "add_contact",
            duration_ms=(n * 7) % 20 + 1,
        )
    add(db, day(1), "failed", "add_contact", duration_ms=50.0)  # sent: counts
    add(db, day(1), "skipped", "add_contact", duration_ms=9000.0)  # never sent
    add(db, day(1), "succeeded", "add_contact", attempts=0, duration_ms=9000.0)
    add(db, day(1), "interrupted", "add_contact", duration_ms=9000.0)  # never finished
    add(db, day(1), "pending", "add_contact", attempts=1, duration_ms=9000.0)
    add(db, day(1), "succeeded", "add_tag", duration_ms=42.0)
    expected = [("add_contact", 21, 11.0, 20.0), ("add_tag", 1, 42.0, 42.0)]
    # 21 durations 1..20 and 50: p50 is the 11th (11), p95 the 20th (20).
    all_time = latency_by_action(db, LogFilter(), NOW)
    assert list(all_time.columns) == ["action_type", "n", "p50_ms", "p95_ms"]
    assert list(all_time.itertuples(index=False, name=None)) == expected
    # With a time range the durations are ranked in Python: the same numbers.
    ranged = latency_by_action(db, LogFilter(time=TimeRange(last=timedelta(days=30))), NOW)
    assert list(ranged.itertuples(index=False, name=None)) == expected


def test_top_errors_most_frequent_first_with_last_seen(db: Database) -> None:
    timeout = "The request timed out after 30 s."
    refused = "ActiveCampaign refused the request (422)."
    for n in range(3):
        add(db, day(3, 10 + n), "unknown", error=timeout)
    add(db, day(2, 9), "failed", error=refused)
    add(db, day(1, 9), "failed", error=refused)
    add(db, day(0, 9), "interrupted", error="The console process ended.")
    add(db, day(0, 10), "skipped", error="Already there: tag “VIP”.")  # not an error
    add(db, day(0, 10), "succeeded", error="")
    frame = top_errors(db, LogFilter(), NOW)
    assert list(frame.columns) == ["error", "count", "last_seen"]
    assert list(frame["error"]) == [timeout, refused, "The console process ended."]
    assert list(frame["count"]) == [3, 2, 1]
    assert frame["last_seen"][0] == pd.Timestamp(day(3, 12))
    assert frame["last_seen"][1] == pd.Timestamp(day(1, 9))
    assert list(top_errors(db, LogFilter(), NOW, limit=1)["error"]) == [timeout]


def test_every_chart_applies_the_filter(db: Database) -> None:
    add(db, day(1, 9), "succeeded", account="acme.api-us1.com", duration_ms=10.0)
    add(db, day(1, 10), "failed", account="acme.api-us1.com", error="Refused.", duration_ms=30.0)
    add(db, day(1, 11), "succeeded", account="sandbox", duration_ms=500.0)
    add(db, day(1, 12), "failed", account="sandbox", error="Timed out.", email="bob@example.com")
    acme = LogFilter(accounts=("acme.api-us1.com",))
    assert actions_over_time(db, LogFilter(), NOW)["count"].sum() == 4
    assert actions_over_time(db, acme, NOW)["count"].sum() == 2
    assert success_by_action(db, acme, NOW)["total"].tolist() == [2]
    assert success_by_action(db, acme, NOW)["success_rate"].tolist() == [0.5]
    assert latency_by_action(db, acme, NOW)[["n", "p95_ms"]].values.tolist() == [[2, 30.0]]
    assert latency_by_action(db, LogFilter(), NOW)["p95_ms"].tolist() == [500.0]
    assert top_errors(db, acme, NOW)["error"].tolist() == ["Refused."]
    # Filters that go by their own index (email, search text) apply the same way.
    bob = LogFilter(email="Bob@Example.com")
    assert success_by_action(db, bob, NOW)[["total", "failed"]].values.tolist() == [[1, 1]]
    assert top_errors(db, bob, NOW)["error"].tolist() == ["Timed out."]
    searched = LogFilter(text="refused")
    assert actions_over_time(db, searched, NOW)["count"].tolist() == [1]
    assert latency_by_action(db, searched, NOW)["n"].tolist() == [1]


def test_an_empty_log_gives_empty_frames(db: Database) -> None:
    for filters in (LogFilter(), LogFilter(time=TimeRange(last=timedelta(days=1)))):
        frames = {
            "time": actions_over_time(db, filters, NOW),
            "success": success_by_action(db, filters, NOW),
            "latency": latency_by_action(db, filters, NOW),
            "errors": top_errors(db, filters, NOW),
        }
        assert all(frame.empty for frame in frames.values())
        assert list(frames["time"].columns) == ["bucket", "status", "count"]
        assert "success_rate" in frames["success"].columns
        assert list(frames["latency"].columns) == ["action_type", "n", "p50_ms", "p95_ms"]
        assert list(frames["errors"].columns) == ["error", "count", "last_seen"]
    add(db, day(1), "succeeded")
    nobody = LogFilter(operators=("nobody",))
    assert actions_over_time(db, nobody, NOW).empty and top_errors(db, nobody, NOW).empty


def test_rows_the_runner_logs_are_charted(db: Database) -> None:
    log = ActionLog(db)
    run = Run("r9", 1, "Newsletter signup", Interaction.ACCEPT, SimulatedUser("u"), account="x")
    attempt = Attempt("r9", 1, ActionType.ADD_TO_LIST, "Add to List", "3", "Newsletter")
    run.attempts = [attempt]
    record_plan(log, run)
    mark_sending(log, attempt, run)
    assert success_by_action(db)["pending"].tolist() == [1]  # written before sending
    answer = Exchange("POST", "https://x/api/3/contactLists", {}, {}, 201, {}, 80.0)
    attempt.tries.append(answer)
    attempt.duration_ms = 80.0
    attempt.finish(Status.SUCCEEDED, evidence=answer)
    log.finish(attempt, run)
    assert success_by_action(db)[["total", "succeeded", "pending"]].values.tolist() == [[1, 1, 0]]
    assert latency_by_action(db)[["action_type", "n", "p50_ms"]].values.tolist() == [
        ["add_to_list", 1, 80.0]
    ]


def test_a_planned_row_is_not_yet_decided(db: Database) -> None:
    """A run's plan is logged before anything is sent: its rows are neither failures nor a
    success rate of 0 until they are sent and concluded."""
    log = ActionLog(db)
    run = Run("r8", 1, "Newsletter signup", Interaction.ACCEPT, SimulatedUser("u"), account="x")
    run.attempts = [Attempt("r8", 1, ActionType.ADD_TO_LIST, "Add to List", "3", "Newsletter")]
    record_plan(log, run)
    success = success_by_action(db)
    assert success[["total", "succeeded", "failed"]].values.tolist() == [[1, 0, 0]]
    assert math.isnan(success["success_rate"].iloc[0])
    assert latency_by_action(db).empty and top_errors(db).empty


# What Database.keep_statistics (ANALYZE, analysis_limit 1000) left in sqlite_stat1 on the
# benchmark's million-row log (python -m bench.log).
MILLION_ROW_STATISTICS = {
    "idx_action_log_account_created_at": "649800 1001 1",
    "idx_action_log_action_type_created_at": "799500 1001 1",
    "idx_action_log_chart_day": "942480 1001 1001 201 1 1 1 1 1 1 1 1",
    "idx_action_log_chart_errors": "84000 1001 1 1 1 1 1 1 1 1",
    "idx_action_log_chart_latency": "821400 1001 4 4 4 1 1 1 1 1 1",
    "idx_action_log_contact_email_created_at": "1265544 6 1",
    "idx_action_log_created_at": "1078800 1",
    "idx_action_log_interaction_created_at": "371112 1001 1",
    "idx_action_log_job_id": "1043072 1001",
    "idx_action_log_operator_created_at": "591600 1001 1",
    "idx_action_log_prompt_id_created_at": "1182912 1001 1",
    "idx_action_log_retry_of": "1040824 2",
    "idx_action_log_run_id": "1139696 3",
    "idx_action_log_source_created_at": "518130 1001 1",
    "idx_action_log_status_created_at": "525600 1001 1",
}


@pytest.mark.parametrize(
    "filters",
    [
        LogFilter(),
        LogFilter(time=TimeRange(last=timedelta(days=7))),
        LogFilter(time=TimeRange(last=timedelta(days=1))),
        LogFilter(accounts=("acme.api-us1.com",), statuses=("failed",)),
    ],
    ids=["all time", "last 7 days", "last day", "account and status"],
)
def test_each_chart_reads_its_index_alone(
    db: Database, filters: LogFilter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No chart query reads a log row (~7 KB at scale): each plan step is a covering index,
    also under the statistics a million-row log has (where the planner, on its own, reads a
    filter's index and every row it points to)."""
    for n in range(30):
        add(db, day(n % 10, n % 24), ("succeeded", "failed")[n % 2], error="Refused.")
    with db.write() as conn:
        conn.execute("ANALYZE")
        conn.execute("DELETE FROM sqlite_stat1 WHERE tbl = 'action_log'")
        for index, stat in MILLION_ROW_STATISTICS.items():
            conn.execute("INSERT INTO sqlite_stat1 VALUES ('action_log', ?, ?)", [index, stat])
    statements: list[str] = []
    opened = Database._open

    def traced(self: Database) -> Any:
        made = opened(self)
        made.conn.set_trace_callback(statements.append)
        return made

    db.close()
    monkeypatch.setattr(Database, "_open", traced)
    for chart in (actions_over_time, success_by_action, latency_by_action, top_errors):
        chart(db, filters, NOW)
    charted = [s for s in statements if s.startswith("SELECT") and "action_log a " in s]
    assert len(charted) >= 4
    with db.read() as conn:
        for statement in charted:
            plan = [r[3] for r in conn.execute(f"EXPLAIN QUERY PLAN {statement}").fetchall()]
            reads = [step for step in plan if step.startswith(("SCAN a", "SEARCH a"))]
            assert reads, plan
            assert all("COVERING INDEX idx_action_log_chart_" in step for step in reads), plan
            if "GROUP BY 1, 2, 3" in statement:  # by day: streams in the index's order
                assert plan.count("USE TEMP B-TREE FOR GROUP BY") <= 1, plan  # the outer one
