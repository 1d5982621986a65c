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

Times are wall-clock seconds (``time.time``), the one clock all processes share; ``clock`` and
``sleep`` are injected so tests never wait for real.
"""

from __future__ import annotations

import time
from collections.abc import Callable

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
        """Block until a request may start; returns the seconds waited."""
        waited = 0.0
        while True:
            pause = self._try_take()
            if pause is None:
                self.waited += waited
                return waited
            pause = max(pause, 0.001)
            self._sleep(pause)
            waited += pause

    def _try_take(self) -> float | None:
        """Take a slot now (None), or say how long until one may free up."""
        with self._db.write() as db:
            now = self._clock()
            db.execute(
                "DELETE FROM request_starts WHERE account = ? AND started <= ?",
                [self.account, now - self.window],
            )
            held = db.execute(
                "SELECT until FROM request_holds WHERE account = ?", [self.account]
            ).fetchone()
            hold_until = held[0] if held else 0.0
            starts = [
                started
                for (started,) in db.execute(
                    "SELECT started FROM request_starts WHERE account = ? ORDER BY started",
                    [self.account],
                )
            ]
            if now >= hold_until and len(starts) < self.limit:
                db.execute(
                    "INSERT INTO request_starts (account, started) VALUES (?, ?)",
                    [self.account, now],
                )
                return None
            full = starts[-self.limit] + self.window - now if len(starts) >= self.limit else 0.0
            return max(hold_until - now, full)

    def hold(self, seconds: float) -> None:
        """Admit nothing for ``seconds`` (the server said so with Retry-After), in every process."""
        with self._db.write() as db:
            db.execute(
                "INSERT INTO request_holds (account, until) VALUES (?, ?) ON CONFLICT (account) "
                "DO UPDATE SET until = max(until, excluded.until)",
                [self.account, self._clock() + seconds],
            )
