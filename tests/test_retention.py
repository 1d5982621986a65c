"""Retention: what a cleanup announces is what it deletes; pending and newer rows stay; runs go
with their last action; the search index forgets deleted rows; VACUUM gives the space back."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connector import ActionLog, Database, LogFilter
from connector.core.owner import Owner
from connector.store import retention as retention_module
from connector.store.log_query import iso
from connector.store.retention import Cleanup, count_older, cutoff_for, delete_older, vacuum

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CUTOFF = cutoff_for(30, NOW)
PADDING = json.dumps({"method": "POST", "body": "x" * 2000})  # a request of realistic size


def ago(**delta: float) -> str:
    return iso(NOW - timedelta(**delta))


def add_run(
    db: Database,
    run_id: str,
    started_at: str,
    status: str,
    actions: list[tuple[str, str]],
    *,
    error: str = "",
) -> list[int]:
    """A run with ``actions`` as (created_at, status), leased to this process while it is
    pending (running); returns the action rows' ids."""
    running = status == "pending"
    lease_owner = Owner.current().name if running else None
    lease_until = time.time() + 60 if running else None
    ids = []
    with db.write() as conn:
        conn.execute(
            "INSERT INTO runs (run_id, prompt_id, prompt_name, interaction, status, "
            "contact_email, started_at, lease_owner, lease_until) "
            "VALUES (?, 1, 'P', 'accept', ?, 'ada@example.com', ?, ?, ?)",
            [run_id, status, started_at, lease_owner, lease_until],
        )
        for position, (created_at, action_status) in enumerate(actions, start=1):
            cursor = conn.execute(
                "INSERT INTO action_log (run_id, prompt_id, prompt_name, interaction, "
                "action_type, position, target_name, contact_email, status, error, request, "
                "created_at, finished_at) VALUES (?, 1, 'P', 'accept', 'add_tag', ?, 'Tag', "
                "'ada@example.com', ?, ?, ?, ?, ?)",
                [
                    run_id,
                    position,
                    action_status,
                    error,
                    PADDING,
                    created_at,
                    None if action_status in ("planned", "pending") else created_at,
                ],
            )
            ids.append(int(cursor.lastrowid or 0))
    return ids


def action_ids(db: Database) -> set[int]:
    with db.read() as conn:
        return {i for (i,) in conn.execute("SELECT id FROM action_log")}


def run_ids(db: Database) -> set[str]:
    with db.read() as conn:
        return {r for (r,) in conn.execute("SELECT run_id FROM runs")}


@pytest.fixture
def history(tmp_path: Path) -> tuple[Database, dict[str, list[int]]]:
    """Runs on both sides of the cutoff (30 days before NOW), pending and finished."""
    db = Database(tmp_path / "c.db")
    old, new = ago(days=40), ago(days=1)
    runs = {
        # All its actions are old: the actions and the run go.
        "old": add_run(
            db, "old", old, "failed", [(old, "succeeded"), (old, "failed")], error="zebra giraffe"
        ),
        # Its first action is old, its last is not: the old action goes, the run stays.
        "straddles": add_run(
            db,
            "straddles",
            ago(days=30, minutes=1),
            "succeeded",
            [(ago(days=30, minutes=1), "succeeded"), (ago(days=29), "succeeded")],
        ),
        # Still open (leased to a live process): the whole run stays, its finished first action
        # too (the executor that resumes it reads it).
        "running": add_run(db, "running", old, "pending", [(old, "succeeded"), (old, "pending")]),
        # An outcome that could not be recorded yet: the row stays pending, so does its run.
        "unrecorded": add_run(db, "unrecorded", old, "unknown", [(old, "pending")]),
        # Refused input, no actions: the run goes.
        "refused": add_run(db, "refused", old, "refused", []),
        # Just started, no actions yet, but pending: stays.
        "starting": add_run(db, "starting", old, "pending", []),
        # At the cutoff exactly: not before it, so it stays.
        "at cutoff": add_run(db, "at cutoff", CUTOFF, "succeeded", [(CUTOFF, "succeeded")]),
        "new": add_run(db, "new", new, "failed", [(new, "failed")], error="giraffe"),
    }
    # Plenty of old rows, more than a few batches' worth.
    for n in range(300):
        moment = ago(days=31 + n / 10)
        runs[f"bulk{n}"] = add_run(db, f"bulk{n}", moment, "succeeded", [(moment, "succeeded")])
    return db, runs


def test_count_older_says_exactly_what_delete_older_deletes(
    history: tuple[Database, dict[str, list[int]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, runs = history
    monkeypatch.setattr(retention_module, "BATCH", 64)  # several batches of each kind
    before_actions, before_runs = action_ids(db), run_ids(db)
    gone_runs = {"old", "refused"} | {f"bulk{n}" for n in range(300)}
    gone_actions = {
        *runs["old"],
        runs["straddles"][0],
        *(i for name, ids in runs.items() if name.startswith("bulk") for i in ids),
    }

    announced = count_older(db, CUTOFF)
    assert announced == Cleanup(CUTOFF, actions=len(gone_actions), runs=len(gone_runs))
    assert announced.actions == 303 and announced.runs == 302
    done = delete_older(db, CUTOFF)
    assert done == announced
    assert action_ids(db) == before_actions - gone_actions
    assert run_ids(db) == before_runs - gone_runs
    assert count_older(db, CUTOFF) == Cleanup(CUTOFF, 0, 0)
    assert delete_older(db, CUTOFF) == Cleanup(CUTOFF, 0, 0)  # nothing left to do
    assert done.sentence() == "303 action rows and 302 runs from before 2026-01-30 (UTC)"


def test_pending_and_newer_rows_are_kept(history: tuple[Database, dict[str, list[int]]]) -> None:
    db, runs = history
    delete_older(db, CUTOFF)
    kept = {"straddles", "running", "unrecorded", "starting", "at cutoff", "new"}
    assert run_ids(db) == kept
    assert action_ids(db) == {
        runs["straddles"][1],
        *runs["running"],
        *runs["unrecorded"],
        *runs["at cutoff"],
        *runs["new"],
    }
    log = ActionLog(db)
    # The pending rows are still pending (and the run still its live process's).
    running = log.run("running")
    assert running is not None
    assert [a.status.value for a in running.attempts] == ["succeeded", "pending"]
    with db.read() as conn:
        lease = conn.execute("SELECT lease_owner FROM runs WHERE run_id = 'running'").fetchone()
    assert lease[0] == Owner.current().name
    # A later cleanup, once the running run has finished, takes it.
    with db.write() as conn:
        conn.execute("UPDATE action_log SET status = 'succeeded' WHERE run_id = 'running'")
        conn.execute("UPDATE runs SET status = 'succeeded' WHERE run_id = 'running'")
    assert count_older(db, CUTOFF) == Cleanup(CUTOFF, 2, 1)
    assert delete_older(db, CUTOFF) == Cleanup(CUTOFF, 2, 1)
    assert "running" not in run_ids(db)


def test_the_planned_rows_of_an_open_run_are_kept(tmp_path: Path) -> None:
    """A run's plan is written before anything is sent: an open run is work a worker will
    resume, however old; nothing of it goes, its concluded rows neither (the resuming
    executor reads them)."""
    db = Database(tmp_path / "c.db")
    old = ago(days=40)
    ids = add_run(db, "resumable", old, "pending", [(old, "succeeded"), (old, "planned")])
    assert count_older(db, CUTOFF) == Cleanup(CUTOFF, 0, 0)
    assert delete_older(db, CUTOFF) == Cleanup(CUTOFF, 0, 0)
    assert action_ids(db) == set(ids) and run_ids(db) == {"resumable"}


def test_the_search_index_forgets_deleted_rows(
    history: tuple[Database, dict[str, list[int]]],
) -> None:
    db, runs = history
    log = ActionLog(db)
    assert log.ids(LogFilter(text="zebra")) == runs["old"]
    assert log.ids(LogFilter(text="giraffe")) == [*runs["old"], *runs["new"]]
    delete_older(db, CUTOFF)
    assert log.ids(LogFilter(text="zebra")) == []
    assert log.ids(LogFilter(text="giraffe")) == runs["new"]
    assert log.total(LogFilter(text="zebra")) == 0
    with db.read() as conn:  # the index matches its table, row for row
        conn.execute("INSERT INTO log_search (log_search, rank) VALUES ('integrity-check', 1)")


def test_vacuum_gives_the_space_back(history: tuple[Database, dict[str, list[int]]]) -> None:
    db, runs = history
    delete_older(db, CUTOFF)
    before, after = vacuum(db)
    assert after < before  # 300 rows of 2 kB went
    assert before - after > 300 * 2000 * 0.8
    # The log is whole and usable afterwards.
    log = ActionLog(db)
    assert log.ids(LogFilter(text="giraffe")) == runs["new"]
    assert log.total() == 6  # the open run keeps its finished row too
    again_before, again_after = vacuum(db)
    assert again_after <= again_before
    assert again_before <= before


def test_vacuum_counts_what_is_still_in_the_write_ahead_log(tmp_path: Path) -> None:
    """A small log lives in the WAL until a checkpoint: the main file alone says 4 kB while
    the rows take 100s of kB. Sizes must count both, or a cleanup reports that it grew."""
    db = Database(tmp_path / "c.db")
    for n in range(60):
        add_run(db, f"r{n}", ago(days=40), "succeeded", [(ago(days=40), "succeeded")])
    wal = tmp_path / "c.db-wal"
    assert wal.stat().st_size > (tmp_path / "c.db").stat().st_size  # not checkpointed yet
    assert delete_older(db, CUTOFF) == Cleanup(CUTOFF, 60, 60)
    before, after = vacuum(db)
    assert before >= 60 * 2000 and after < before
    assert after == (tmp_path / "c.db").stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    again_before, again_after = vacuum(db)
    assert again_before == after and again_after <= again_before


def test_a_cutoff_keeps_at_least_a_day() -> None:
    for days in (0, -1):
        with pytest.raises(ValueError, match="at least 1 day"):
            cutoff_for(days, NOW)
    assert cutoff_for(1, NOW) == "2026-02-28T12:00:00.000Z"
    assert cutoff_for(30, NOW) == "2026-01-30T12:00:00.000Z"
    earliest = iso(datetime.now(UTC) - timedelta(days=7))
    assert earliest <= cutoff_for(7) <= iso(datetime.now(UTC) - timedelta(days=7))


def test_cleanup_as_data() -> None:
    cleanup = Cleanup("2026-01-30T12:00:00.000Z", 1234, 56)
    assert cleanup.to_dict() == {"cutoff": "2026-01-30T12:00:00.000Z", "actions": 1234, "runs": 56}
    assert cleanup.sentence() == "1,234 action rows and 56 runs from before 2026-01-30 (UTC)"


def test_count_of_an_empty_log(tmp_path: Path) -> None:
    db = Database(tmp_path / "c.db")
    assert count_older(db, CUTOFF) == delete_older(db, CUTOFF) == Cleanup(CUTOFF, 0, 0)
