"""The account's request budget: ActiveCampaign allows 5 requests per second per account.

The limit is shared by every key and integration of the account, so the console must not spend
it carelessly, and the dashboard, CLI commands and workers on one machine are one client to
ActiveCampaign. So the budget lives in the shared database: every request first takes a slot
from its account's ``RequestBudget``, which admits at most ``limit`` request starts in any
sliding window of ``window`` seconds across every process using the data file. A 429 seen by
any of them puts the account's budget on hold for its ``Retry-After``: all of them wait.

The window we keep is ``margin`` longer than the server's: requests reach the server a little
after they leave, and unevenly, so two starts exactly one window apart can arrive less than one
window apart (measured in process: 9 of 131 requests refused without a margin, none with 50 ms).

A request reserves its start (the earliest moment the window allows, after every earlier
reservation) in one write and sleeps until then: waiters are served first come, first served,
with no polling (polling made every waiting thread wake and retry the write lock together:
about 11 writes per request with 4 processes, measured). Times are wall-clock seconds
(``time.time``), the one clock all processes share; ``clock`` and ``sleep`` are injected so
tests never wait for real.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .db import Database

__all__ = ["DEFAULT_RATE_LIMIT", "RequestBudget"]

DEFAULT_RATE_LIMIT = 5


class RequestBudget:
    """One account's budget in the shared database. Thread- and process-safe."""

    def __init__(
        self,
        db: Database,
        account: str,
        limit: int = DEFAULT_RATE_LIMIT,
        window: float = 1.0,
        *,
        margin: float = 0.05,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("A request budget needs a limit of at least 1 per positive window.")
        self._db = db
        self.account = account
        self.limit = limit
        self.window = window + margin
        self._clock = clock
        self._sleep = sleep
        self.waited = 0.0  # seconds this process's callers spent waiting, for benchmarks

    def acquire(self) -> float:
        """Block until a request may start; returns the seconds waited.

        One write per request: the caller reserves the earliest start the window allows (after
        every earlier reservation, so waiters go first come, first served) and sleeps until
        then, instead of polling. A 429 that puts the account on hold meanwhile voids the
        reservation, and the caller reserves again after the hold."""
        waited = 0.0
        while True:
            slot, start = self._reserve()
            pause = start - self._clock()
            if pause > 0:
                self._sleep(pause)
                waited += pause
            if self._held_until() <= self._clock():
                self.waited += waited
                return waited
            self._void(slot)

    def _reserve(self) -> tuple[int, float]:
        """Record this request's start: now, or the first moment the window and any hold
        allow. Returns (its row id, its start time)."""
        with self._db.write() as db:
            now = self._clock()
            db.execute(
                "DELETE FROM request_starts WHERE account = ? AND started <= ?",
                [self.account, now - self.window],
            )
            start = max(now, self._hold(db))
            # Starts are recorded in time order, reservations in the future included: the new
            # one may start once the limit-th most recent is a window old.
            row = db.execute(
                "SELECT started FROM request_starts WHERE account = ? "
                "ORDER BY started DESC LIMIT 1 OFFSET ?",
                [self.account, self.limit - 1],
            ).fetchone()
            if row is not None:
                start = max(start, row[0] + self.window)
            cursor = db.execute(
                "INSERT INTO request_starts (account, started) VALUES (?, ?)", [self.account, start]
            )
            return int(cursor.lastrowid or 0), start

    def _hold(self, db: Any) -> float:
        held = db.execute(
            "SELECT until FROM request_holds WHERE account = ?", [self.account]
        ).fetchone()
        return float(held[0]) if held else 0.0

    def _held_until(self) -> float:
        with self._db.read() as db:
            return self._hold(db)

    def _void(self, slot: int) -> None:
        with self._db.write() as db:
            db.execute("DELETE FROM request_starts WHERE rowid = ?", [slot])

    def hold(self, seconds: float) -> None:
        """Admit nothing for ``seconds`` (the server said so with Retry-After), in every process."""
        with self._db.write() as db:
            db.execute(
                "INSERT INTO request_holds (account, until) VALUES (?, ?) ON CONFLICT (account) "
                "DO UPDATE SET until = max(until, excluded.until)",
                [self.account, self._clock() + seconds],
            )
