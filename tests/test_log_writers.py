"""Many writers on one action log at once: browser sessions (threads sharing one ActionLog) and
CLI commands or workers (processes with their own). Every row lands exactly once, finished, and
no writer is refused."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from factories import mark_sending, record_plan
from together import Gate, run_together

from connector import (
    ActionLog,
    ActionType,
    Attempt,
    Database,
    Interaction,
    Reason,
    Run,
    SimulatedUser,
    Status,
)
from connector.core.errors import StorageError

# What each run's attempts end as, in order: every attempt is written planned with the run's
# plan; a skip is then concluded straight away (never marked pending), as the runner does for
# actions it never sends.
OUTCOMES = (Status.SUCCEEDED, Status.FAILED, Status.SKIPPED, Status.SUCCEEDED)


def log_runs(log: ActionLog, writer: str, runs: int) -> list[dict[str, Any]]:
    """``runs`` runs of four actions each, through record_plan / mark_sending / finish /
    finish_run, each run leased to ``writer``; returns what was logged (row id, run, position,
    status, and any unrecorded note)."""
    logged = []
    for n in range(runs):
        run = Run(
            run_id=f"{writer}-{n}",
            prompt_id=1 + n % 5,
            prompt_name="Crowd",
            interaction=Interaction.ACCEPT,
            user=SimulatedUser(f"u{n}"),
            account="sandbox",
            source=writer,
            contact_email=f"{writer}.{n}@example.com",
        )
        run.attempts = [
            Attempt(
                run_id=run.run_id,
                position=position,
                action_type=ActionType.ADD_TAG,
                label="Add Tag",
                target_id=str(position),
                target_name=f"Tag {position}",
                contact_email=run.contact_email,
            )
            for position in range(1, len(OUTCOMES) + 1)
        ]
        record_plan(log, run, owner=writer)
        for attempt, status in zip(run.attempts, OUTCOMES, strict=True):
            position = attempt.position
            if status is Status.SKIPPED:
                attempt.finish(status, "Already tagged.", code=Reason.ALREADY_DONE)
            else:
                mark_sending(log, attempt, run, owner=writer)
                attempt.finish(status, "boom" if status is Status.FAILED else "")
            log.finish(attempt, run)
            logged.append(
                {
                    "id": attempt.log_id,
                    "run_id": run.run_id,
                    "position": position,
                    "status": status.value,
                    "unrecorded": attempt.unrecorded,
                }
            )
        run.conclude()
        log.finish_run(run, owner=writer)
        if run.unrecorded:
            logged.append({"id": None, "run_id": run.run_id, "unrecorded": run.unrecorded})
    return logged


def stored(db: Database) -> tuple[list[tuple[int, str, int, str]], dict[str, str]]:
    """Every action row as (id, run, position, status), and every run's status."""
    with db.read() as conn:
        rows = [
            (int(i), str(r), int(p), str(s))
            for i, r, p, s in conn.execute(
                "SELECT id, run_id, position, status FROM action_log ORDER BY id"
            )
        ]
        runs = {str(r): str(s) for r, s in conn.execute("SELECT run_id, status FROM runs")}
    return rows, runs


def assert_all_landed_once(db: Database, logged: list[dict[str, Any]], runs: set[str]) -> None:
    assert [entry for entry in logged if entry["unrecorded"]] == []
    rows, run_statuses = stored(db)
    ids = [entry["id"] for entry in logged]
    assert len(set(ids)) == len(ids) and None not in ids  # each attempt its own row
    assert [row[0] for row in rows] == sorted(ids)  # those rows, and no others
    by_id = {row[0]: row for row in rows}
    for entry in logged:
        assert by_id[entry["id"]] == (
            entry["id"],
            entry["run_id"],
            entry["position"],
            entry["status"],
        )
    assert len({(run_id, position) for _, run_id, position, _ in rows}) == len(rows)
    assert not {"planned", "pending"} & {status for *_, status in rows}
    assert set(run_statuses) == runs
    assert set(run_statuses.values()) == {"failed"}  # each has a failed action, none pending
    with db.read() as conn:  # and each writer gave back the lease on every run it finished
        leased = conn.execute("SELECT run_id FROM runs WHERE lease_owner IS NOT NULL").fetchall()
    assert leased == []


def test_eight_threads_write_2000_rows_each(tmp_path: Path) -> None:
    db = Database(tmp_path / "c.db")
    log = ActionLog(db)  # one log for every session of the process, as in the dashboard
    threads, runs_each = 8, 500  # four actions per run: 2,000 rows per thread
    logged: dict[int, list[dict[str, Any]]] = {}
    failures: list[Exception] = []
    start = threading.Barrier(threads)

    def writer(n: int) -> None:
        try:
            start.wait()
            logged[n] = log_runs(log, f"thread{n}", runs_each)
        except Exception as exc:  # reported below, whatever it was
            failures.append(exc)

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    assert sorted(logged) == list(range(threads))
    everything = [entry for n in range(threads) for entry in logged[n]]
    assert len(everything) == threads * runs_each * len(OUTCOMES) == 16_000
    runs = {f"thread{t}-{n}" for t in range(threads) for n in range(runs_each)}
    assert_all_landed_once(db, everything, runs)


def write_in_a_process(gate: Gate, path: str, writer: str, runs: int) -> dict[str, Any]:
    """In a child process: its own Database and ActionLog on the shared file."""
    log = ActionLog(Database(path))
    gate()
    try:
        return {"logged": log_runs(log, writer, runs), "error": ""}
    except StorageError as exc:
        return {"logged": [], "error": f"{exc} ({exc.detail})"}


def test_four_processes_write_at_once(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    db = Database(path)
    processes, runs_each = 4, 125  # 500 rows each
    results = run_together(
        write_in_a_process, [(str(path), f"process{n}", runs_each) for n in range(processes)]
    )
    assert [r["error"] for r in results] == [""] * processes
    everything = [entry for result in results for entry in result["logged"]]
    assert len(everything) == processes * runs_each * len(OUTCOMES) == 2_000
    runs = {f"process{p}-{n}" for p in range(processes) for n in range(runs_each)}
    assert_all_landed_once(db, everything, runs)
    # The processes really overlapped: their rows interleave.
    rows, _ = stored(db)
    writers_in_order = [run_id.split("-")[0] for _, run_id, _, _ in rows]
    switches = sum(a != b for a, b in zip(writers_in_order, writers_in_order[1:], strict=False))
    assert switches > processes
