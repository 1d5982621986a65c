"""Claims: no two threads or processes act on the same contact and target at once.

Before an action checks whether its contact is already where it would put it, it claims
(account, contact, action, target) in the shared database and keeps the claim until its outcome
is recorded. Another run wanting the same claim waits; when it gets it, its own check sees what
the first one did, so a contact is enrolled once however many sessions, CLI commands and
workers click at the same moment. A claim is leased (``store.leases``): its owner's heartbeat
renews it, and a claim whose lease expired (its owner died, on any machine) is taken over by
whoever finds it.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from connector.core.errors import ConnectorError, StorageError
from connector.core.owner import Owner
from connector.core.records import utc_now
from connector.store.db import Database
from connector.store.leases import Leases

__all__ = ["ClaimBusy", "ClaimKey", "Claims"]


@dataclass(frozen=True)
class ClaimKey:
    account: str
    contact: str  # the contact's email, lower case: known before the sync hands out an id
    action_type: str
    target_id: str


class ClaimBusy(ConnectorError):
    """Another live run kept the claim longer than we wait."""


class Claims:
    """Claims in the shared database. Thread- and process-safe.

    ``wait`` bounds how long a run waits for another to finish with the same target; it should
    exceed the longest an action can take (its retries), so a wait only ends in ``ClaimBusy``
    when something is stuck."""

    def __init__(
        self,
        db: Database,
        leases: Leases,
        *,
        owner: Owner | None = None,
        wait: float = 90.0,
        poll: float = 0.02,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._db = db
        self._leases = leases
        self._owner = owner
        self.wait = wait
        self.poll = poll
        self._clock = clock
        self._sleep = sleep
        self._stuck: list[tuple[ClaimKey, str, str]] = []
        self._stuck_lock = threading.Lock()

    @property
    def owner(self) -> Owner:
        return self._owner or Owner.current()

    @contextmanager
    def hold(self, key: ClaimKey, run_id: str, holder: str = "") -> Iterator[None]:
        """Hold the claim on ``key`` for the block, leased to ``holder`` (default: this
        process); waits while another live run holds it."""
        holder = holder or self.owner.name
        deadline = self._clock() + self.wait
        while (busy := self._take(key, run_id, holder)) is not None:
            if self._clock() >= deadline:
                raise ClaimBusy(
                    f"Another run ({busy}) has been acting on this contact and target for "
                    f"over {self.wait:g} s; not sent, so nothing happens twice. Try again once "
                    "it has finished."
                )
            self._sleep(self.poll)
        try:
            yield
        finally:
            self._let_go(key, run_id, holder)

    def _let_go(self, key: ClaimKey, run_id: str, holder: str) -> None:
        """Release after the outcome. If the data file refuses (held locked too long), the
        claim is released by this process's next claim, or by whoever finds it after this
        process ends: the action's own outcome must not be lost to it."""
        try:
            self._release(key, run_id, holder)
        except StorageError:
            with self._stuck_lock:
                self._stuck.append((key, run_id, holder))

    def _retry_stuck(self) -> None:
        with self._stuck_lock:
            stuck, self._stuck = self._stuck, []
        for key, run_id, holder in stuck:
            self._let_go(key, run_id, holder)

    def _take(self, key: ClaimKey, run_id: str, holder: str) -> str | None:
        """Take the claim (None), or describe its live holder ("" when it just went away). A
        dead holder's claim is freed. Waiters look before they write, so a crowd waiting for
        one claim does not queue for the write lock."""
        self._retry_stuck()
        current = self._holder(key)
        if current is not None:
            return current
        try:
            with self._db.write() as db:
                db.execute(
                    "DELETE FROM claims WHERE account = ? AND contact = ? AND action_type = ? "
                    "AND target_id = ? AND (lease_until IS NULL OR lease_until < ?)",
                    [*_columns(key), self._leases.clock()],
                )
                db.execute(
                    "INSERT INTO claims (account, contact, action_type, target_id, run_id, "
                    "owner_host, lease_owner, lease_until, claimed_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        *_columns(key),
                        run_id,
                        self.owner.node,
                        holder,
                        self._leases.until(),
                        utc_now(),
                    ],
                )
            return None
        except sqlite3.IntegrityError:
            return ""  # taken in between: look again

    def _holder(self, key: ClaimKey) -> str | None:
        """Who holds ``key`` now, if a live run does (its lease has not expired)."""
        with self._db.read() as db:
            held = db.execute(
                "SELECT run_id, lease_owner, lease_until FROM claims "
                "WHERE account = ? AND contact = ? AND action_type = ? AND target_id = ?",
                _columns(key),
            ).fetchone()
        if held is None or not self._leases.alive(held[2]):
            return None  # free, or its owner is gone: ``_take`` replaces it
        return f"run {held[0]}, {Owner.described(held[1])}"

    def _release(self, key: ClaimKey, run_id: str, holder: str) -> None:
        """Only the holder's own claim: one taken over since (its lease ran out) is not ours."""
        with self._db.write() as db:
            db.execute(
                "DELETE FROM claims WHERE account = ? AND contact = ? AND action_type = ? "
                "AND target_id = ? AND run_id = ? AND lease_owner = ?",
                [*_columns(key), run_id, holder],
            )


def _columns(key: ClaimKey) -> list[str]:
    return [key.account, key.contact, key.action_type, key.target_id]
