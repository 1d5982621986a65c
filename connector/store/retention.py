"""Retention: delete log rows older than a cutoff, say first how many, reclaim space on request.

Deletion runs in batches of ``BATCH`` rows, each its own short transaction, so the dashboard
and running jobs keep writing while a big cleanup runs. A run goes with its last action row;
nothing of an open run (work still planned, in flight or awaiting its verification, however old)
is ever deleted: that is work a worker will still do. ``VACUUM`` rewrites the
whole file, so it is a separate, explicit step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from connector.store.db import Database
from connector.store.log_query import iso

__all__ = ["BATCH", "Cleanup", "count_older", "cutoff_for", "delete_older", "vacuum"]

BATCH = 5000


@dataclass(frozen=True)
class Cleanup:
    """How many rows a cleanup covers (or covered)."""

    cutoff: str
    actions: int
    runs: int

    def sentence(self) -> str:
        return (
            f"{self.actions:,} action rows and {self.runs:,} runs from before "
            f"{self.cutoff[:10]} (UTC)"
        )

    def to_dict(self) -> dict[str, object]:
        return {"cutoff": self.cutoff, "actions": self.actions, "runs": self.runs}


# An action row that is concluded, of a run that is concluded (open runs are few: their
# partial index answers the subquery at once).
_CONCLUDED = (
    "status NOT IN ('planned', 'pending') AND verify_after IS NULL "
    "AND run_id NOT IN (SELECT run_id FROM runs WHERE status = 'pending')"
)


def cutoff_for(days: int, now: datetime | None = None) -> str:
    if days < 1:
        raise ValueError("Keep at least 1 day of the log.")
    return iso((now or datetime.now(UTC)) - timedelta(days=days))


def count_older(db: Database, cutoff: str) -> Cleanup:
    """What ``delete_older(cutoff)`` would delete."""
    with db.read() as conn:
        actions = conn.execute(
            f"SELECT count(*) FROM action_log WHERE created_at < ? AND {_CONCLUDED}",
            [cutoff],
        ).fetchone()[0]
        runs = conn.execute(
            "SELECT count(*) FROM runs r WHERE r.started_at < ? AND r.status != 'pending' "
            "AND NOT EXISTS (SELECT 1 FROM action_log a WHERE a.run_id = r.run_id "
            "AND (a.created_at >= ? OR a.status IN ('planned', 'pending') "
            "OR a.verify_after IS NOT NULL))",
            [cutoff, cutoff],
        ).fetchone()[0]
    return Cleanup(cutoff, int(actions), int(runs))


def delete_older(db: Database, cutoff: str) -> Cleanup:
    """Delete the action rows and runs from before ``cutoff``; returns how many went."""
    actions = runs = 0
    while True:
        with db.write() as conn:
            deleted = conn.execute(
                "DELETE FROM action_log WHERE id IN (SELECT id FROM action_log "
                f"WHERE created_at < ? AND {_CONCLUDED} LIMIT ?)",
                [cutoff, BATCH],
            ).rowcount
        actions += deleted
        if deleted < BATCH:
            break
    while True:
        with db.write() as conn:
            deleted = conn.execute(
                "DELETE FROM runs WHERE rowid IN (SELECT r.rowid FROM runs r "
                "WHERE r.started_at < ? AND r.status != 'pending' AND NOT EXISTS "
                "(SELECT 1 FROM action_log a WHERE a.run_id = r.run_id) LIMIT ?)",
                [cutoff, BATCH],
            ).rowcount
        runs += deleted
        if deleted < BATCH:
            break
    return Cleanup(cutoff, actions, runs)


def vacuum(db: Database) -> tuple[int, int]:
    """Rewrite the file to give deleted space back; returns its size before and after."""
    before = _on_disk(db)
    with db.write() as conn:
        conn.execute("COMMIT")  # VACUUM can't run inside the writer's transaction
        try:
            conn.execute("VACUUM")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.execute("BEGIN IMMEDIATE")  # give write() the transaction it will commit
    db.keep_statistics(every=0.0)
    return before, _on_disk(db)


def _on_disk(db: Database) -> int:
    """The file's size with its write-ahead log, where recent writes wait for a checkpoint."""
    wal = db.path.with_name(db.path.name + "-wal")
    return db.path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
