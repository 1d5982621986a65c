"""Leases: who holds a run, a claim or a replay job, until when.

A lease is two columns on the row it guards: ``lease_owner`` (``Owner.name``: node, process,
token) and ``lease_until`` (epoch seconds). Its owner renews every lease it holds at once
(``renew``, from ``engine.heartbeat``); a lease whose expiry has passed has lost its owner (a
killed process, a dead machine, a store that would not take the renewal) and anyone may take
the work over. Taking is one ``BEGIN IMMEDIATE`` transaction, so two workers never take the
same run.

Times are wall-clock seconds, the one clock every process and node shares (keep nodes' clocks
in sync, as any lease-based system needs); ``clock`` is injected so tests don't wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection

from connector.store.db import Database

__all__ = ["DEFAULT_LEASE_SECONDS", "Leases"]

# Long enough that a renewal every third of it survives a slow disk and a busy machine; short
# enough that the work of a killed process is taken over within half a minute.
DEFAULT_LEASE_SECONDS = 30.0
_LEASED = ("runs", "claims", "replay_jobs")


class Leases:
    """Lease bookkeeping on one data file. Thread- and process-safe."""

    def __init__(
        self,
        db: Database,
        *,
        seconds: float = DEFAULT_LEASE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = db
        self.seconds = seconds
        self.clock = clock

    def until(self) -> float:
        """The expiry of a lease taken or renewed now."""
        return self.clock() + self.seconds

    def alive(self, until: float | None) -> bool:
        """Whether a lease expiring at ``until`` still has its owner: the one rule of liveness
        (SQL that takes work states it as ``lease_until < now``)."""
        return until is not None and until >= self.clock()

    def take_due_run(self, owner: str) -> str | None:
        """Lease the open run that is due first and held by nobody (or by an owner whose
        lease expired); None when there is none. Idle workers only read (a look at a small
        partial index); the write lock is taken only to take a run, and the take re-checks."""
        now = self.clock()
        due = "status = 'pending' AND next_at <= ? AND (lease_until IS NULL OR lease_until < ?)"
        with self._db.read() as db:
            found = db.execute(
                f"SELECT run_id FROM runs WHERE {due} ORDER BY next_at LIMIT 1", [now, now]
            ).fetchone()
        if found is None:
            return None
        with self._db.write() as db:
            taken = db.execute(
                f"UPDATE runs SET lease_owner = ?, lease_until = ? WHERE run_id = ? AND {due}",
                [owner, now + self.seconds, found[0], now, now],
            ).rowcount
        return str(found[0]) if taken else None

    def release_run(self, run_id: str, owner: str, next_at: float | None) -> None:
        """Give the run back; ``next_at`` is when it is due again (None: it is concluded)."""
        with self._db.write() as db:
            db.execute(
                "UPDATE runs SET lease_owner = NULL, lease_until = NULL, next_at = ? "
                "WHERE run_id = ? AND lease_owner = ?",
                [next_at, run_id, owner],
            )

    def renew(self, owners: Collection[str]) -> int:
        """Push back the expiry of every lease the ``owners`` still hold; returns how many. A
        lease that already expired is not revived: its work may have been taken over."""
        if not owners:
            return 0
        now = self.clock()
        marks = ", ".join("?" * len(owners))
        renewed = 0
        with self._db.write() as db:
            for table in _LEASED:
                renewed += db.execute(
                    f"UPDATE {table} SET lease_until = ? WHERE lease_owner IN ({marks}) "
                    "AND lease_until >= ?",
                    [now + self.seconds, *owners, now],
                ).rowcount
        return renewed
