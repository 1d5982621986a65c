"""The account's request budget: ActiveCampaign allows 5 requests per second per account.

The limit is shared by every key and integration of the account, so the console must not spend
it carelessly, and the dashboard, CLI commands and workers on one machine are one client to
ActiveCampaign. So the budget lives in the shared database: every request first takes a slot
from its account's ``RequestBudget``, which admits at most ``limit`` requests in any sliding
window of ``window`` seconds across every process using the data file. A 429 seen by any of them
puts the account's budget on hold for its ``Retry-After``: all of them wait.

What the server counts is arrivals, and a request arrives somewhere between the moment it
leaves and the moment its answer is back. So a slot is recorded at its start and moved to the
request's end once it is over (``settle``): spacing against that bound stays within the limit
however long a connection takes to open (a cold TLS handshake made 10 requests arrive within one
second when slots were only starts). The window is also ``margin`` longer than the server's, for
clocks and jitter.

A request reserves its slot (the earliest moment the window allows, after every earlier
reservation) in one write and sleeps until then; on waking it checks the slot against what the
others have settled meanwhile, and waits again if they ended later than planned. Waiters are
served first come, first served, with no polling (polling made every waiting thread wake and
retry the write lock together: about 11 writes per request with 4 processes, measured).

Times are wall-clock seconds (``time.time``), the one clock all processes share; ``clock`` and
``sleep`` are injected so tests never wait for real. Reservations and holds further ahead than
``HORIZON`` can only come from a clock that stepped back, and are dropped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from connector.store.db import Database

__all__ = ["DEFAULT_RATE_LIMIT", "HORIZON", "RequestBudget"]

DEFAULT_RATE_LIMIT = 5
HORIZON = 900.0  # seconds: no reservation or Retry-After hold is legitimately this far ahead


class RequestBudget:
    """One account's budget in the shared database. Thread- and process-safe."""

    def __init__(
        self,
        db: Database,
        account: str,
        limit: int = DEFAULT_RATE_LIMIT,
        window: float = 1.0,
        *,
        margin: float = 0.02,
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

    def acquire(self) -> int:
        """Block until a request may start; returns its slot, to ``settle`` when it is over."""
        slot: int | None = None
        waited = 0.0
        while True:
            slot, start = self._place(slot)
            pause = start - self._clock()
            if pause <= 0:
                self.waited += waited
                return slot
            self._sleep(pause)
            waited += pause

    def settle(self, slot: int) -> None:
        """The request is over: its slot moves to now, the latest it can have arrived."""
        with self._db.write() as db:
            db.execute(
                "UPDATE request_starts SET started = max(started, ?) WHERE id = ?",
                [self._clock(), slot],
            )

    def hold(self, seconds: float) -> None:
        """Admit nothing for ``seconds`` (the server said so with Retry-After), in every process."""
        with self._db.write() as db:
            db.execute(
                "INSERT INTO request_holds (account, until) VALUES (?, ?) ON CONFLICT (account) "
                "DO UPDATE SET until = max(until, excluded.until)",
                [self.account, self._clock() + min(seconds, HORIZON)],
            )

    def _place(self, slot: int | None) -> tuple[int, float]:
        """Put ``slot`` (or a new one) at the earliest moment the window and any hold allow,
        given every other slot; returns it and that moment."""
        with self._db.write() as db:
            now = self._clock()
            db.execute(
                "DELETE FROM request_starts WHERE account = ? AND (started <= ? OR started > ?)",
                [self.account, now - self.window, now + HORIZON],
            )
            start = max(now, self._hold(db, now))
            # The slot may start once the limit-th latest of the others that count is a window
            # old. Those that count: every slot queued before it, and every one already started.
            # Slots queued after it and still waiting don't: they were placed after it, and
            # move behind it if it moves (counting them would let waiters push each other back
            # for ever).
            row = db.execute(
                "SELECT started FROM request_starts WHERE account = ? AND id IS NOT ? "
                "AND (? IS NULL OR id < ? OR started <= ?) "
                "ORDER BY started DESC LIMIT 1 OFFSET ?",
                [self.account, slot, slot, slot, now, self.limit - 1],
            ).fetchone()
            if row is not None:
                start = max(start, row[0] + self.window)
            if slot is not None:
                moved = db.execute(
                    "UPDATE request_starts SET started = ? WHERE id = ?", [start, slot]
                ).rowcount
                if moved:
                    return slot, start
            cursor = db.execute(
                "INSERT INTO request_starts (account, started) VALUES (?, ?)", [self.account, start]
            )
            return int(cursor.lastrowid or 0), start

    def _hold(self, db: Any, now: float) -> float:
        held = db.execute(
            "SELECT until FROM request_holds WHERE account = ?", [self.account]
        ).fetchone()
        until = float(held[0]) if held else 0.0
        return until if until <= now + HORIZON else 0.0  # a clock that stepped back
