from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from connector import ActionLog, Database, LogFilter, Status
from connector.log import LogEntry


def entry(n: int, **kw) -> LogEntry:
    base = {
        "run_id": f"run{n}",
        "action_type": "add_to_list",
        "interaction": "accept",
        "prompt_id": 1,
        "prompt_name": "P",
        "contact_email": f"User{n}@Example.com",
        "target_id": "3",
        "target_name": "Newsletter",
    }
    return LogEntry(**{**base, **kw})


def test_pending_then_finished_row_keeps_everything(tmp_path) -> None:
    log = ActionLog(Database(tmp_path / "c.db"))
    row_id = log.start(entry(1))
    assert log.get(row_id)["status"] == "pending"
    log.finish(
        row_id,
        Status.SUCCEEDED,
        http_status=200,
        attempts=1,
        duration_ms=12.5,
        request={"method": "POST", "body": {"a": 1}},
        response={"status": 200, "body": {}},
    )
    row = log.get(row_id)
    assert row["status"] == "succeeded"
    assert row["request"] == {"method": "POST", "body": {"a": 1}}
    assert row["contact_email"] == "user1@example.com"
    assert row["finished_at"] >= row["created_at"]
    assert row["created_at"].endswith("Z")


def test_filters_counts_and_keyset_pages(tmp_path) -> None:
    log = ActionLog(Database(tmp_path / "c.db"))
    for n in range(120):
        status = Status.FAILED if n % 3 == 0 else Status.SUCCEEDED
        log.start(entry(n, interaction="decline" if n % 2 else "accept"), status=status)

    first = log.page(limit=50)
    assert [r["run_id"] for r in first.rows[:2]] == ["run119", "run118"]
    assert first.total == 120 and first.counts == {"failed": 40, "succeeded": 80}
    second = log.page(limit=50, before_id=first.next_before_id)
    third = log.page(limit=50, before_id=second.next_before_id)
    assert len(third.rows) == 20 and third.next_before_id is None
    ids = [r["id"] for page in (first, second, third) for r in page.rows]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 120

    failed_accepts = LogFilter(statuses=("failed",), interactions=("accept",))
    rows = log.page(failed_accepts, limit=500).rows
    assert rows and all(r["status"] == "failed" and r["interaction"] == "accept" for r in rows)
    assert len(rows) == len([n for n in range(120) if n % 3 == 0 and n % 2 == 0])

    assert [r["run_id"] for r in log.page(LogFilter(email="USER7@"), limit=5).rows] == ["run7"]


def test_time_range_filter(tmp_path) -> None:
    log = ActionLog(Database(tmp_path / "c.db"))
    log.start(entry(1))
    now = datetime.now(UTC)
    assert log.page(LogFilter(since=now - timedelta(minutes=1))).total == 1
    assert log.page(LogFilter(since=now + timedelta(minutes=1))).total == 0
    assert log.page(LogFilter(until=now - timedelta(minutes=1))).total == 0


def test_email_filter_treats_wildcards_literally(tmp_path) -> None:
    log = ActionLog(Database(tmp_path / "c.db"))
    log.start(entry(1, contact_email="a_b@x.io"))
    log.start(entry(2, contact_email="axb@x.io"))
    assert [r["contact_email"] for r in log.page(LogFilter(email="a_b")).rows] == ["a_b@x.io"]


def test_csv_export_holds_the_filtered_rows(tmp_path) -> None:
    log = ActionLog(Database(tmp_path / "c.db"))
    log.start(entry(1), status=Status.SUCCEEDED, request={"url": "u"})
    log.start(entry(2), status=Status.FAILED, error="boom, with a comma")
    rows = list(csv.DictReader(io.StringIO(log.export_csv(LogFilter(statuses=("failed",))))))
    assert len(rows) == 1
    assert rows[0]["run_id"] == "run2" and rows[0]["error"] == "boom, with a comma"
    everything = list(csv.DictReader(io.StringIO(log.export_csv())))
    assert [r["run_id"] for r in everything] == ["run2", "run1"]
    assert everything[1]["request"] == '{"url": "u"}'


def test_rows_left_pending_by_a_crash_become_interrupted(tmp_path) -> None:
    db = Database(tmp_path / "c.db")
    log = ActionLog(db)
    stale = log.start(entry(1))
    fresh = log.start(entry(2))
    with db.write() as conn:
        conn.execute(
            "UPDATE action_log SET created_at = '2020-01-01T00:00:00.000Z' WHERE id = ?", [stale]
        )
    assert log.recover_interrupted() == 1
    assert log.get(stale)["status"] == "interrupted"
    assert "unknown" in log.get(stale)["error"]
    assert log.get(fresh)["status"] == "pending"


def test_filtered_pages_use_an_index(tmp_path) -> None:
    db = Database(tmp_path / "c.db")
    where, args = LogFilter(statuses=("failed",)).where()
    with db.read() as conn:
        plan = conn.execute(
            f"EXPLAIN QUERY PLAN SELECT * FROM action_log WHERE {where} ORDER BY id DESC LIMIT 51",
            args,
        ).fetchall()
    assert any("USING INDEX" in str(step) or "USING COVERING INDEX" in str(step) for step in plan)
