"""The account's request budget: ActiveCampaign allows 5 requests per second per account.

The limit is shared by every key and integration of the account, so the console must not spend
it carelessly: every request first takes a slot from the account's ``RequestBudget``, which
admits at most ``limit`` request starts in any sliding window of ``window`` seconds. A 429 puts
the whole budget on hold for its ``Retry-After``: the account, not just one request, is limited.

The window we keep is ``margin`` longer than the server's: requests reach the server a little
after they leave, and unevenly, so two starts exactly one window apart can arrive less than one
window apart (measured in process: 9 of 131 requests refused without a margin, none with 50 ms).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["DEFAULT_RATE_LIMIT", "RequestBudget", "budget_for"]

DEFAULT_RATE_LIMIT = 5


class RequestBudget:
    """A sliding-window limiter. Thread-safe: share one per account across the process."""

    def __init__(
        self,
        limit: int = DEFAULT_RATE_LIMIT,
        window: float = 1.0,
        *,
        margin: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("A request budget needs a limit of at least 1 per positive window.")
        self.limit = limit
        self.window = window + margin
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[float] = deque()
        self._hold_until = 0.0
        self._lock = threading.Lock()
        self.waited = 0.0  # total seconds callers spent waiting, for benchmarks

    def acquire(self) -> float:
        """Block until a request may start; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                while self._starts and self._starts[0] <= now - self.window:
                    self._starts.popleft()
                if now >= self._hold_until and len(self._starts) < self.limit:
                    self._starts.append(now)
                    self.waited += waited
                    return waited
                pause = max(
                    self._hold_until - now,
                    (self._starts[0] + self.window - now) if len(self._starts) >= self.limit else 0,
                )
            pause = max(pause, 0.001)
            self._sleep(pause)
            waited += pause

    def hold(self, seconds: float) -> None:
        """Admit nothing for ``seconds`` (the server said so with Retry-After)."""
        with self._lock:
            self._hold_until = max(self._hold_until, self._clock() + seconds)


_budgets: dict[str, RequestBudget] = {}
_budgets_lock = threading.Lock()


def budget_for(account: str, limit: int = DEFAULT_RATE_LIMIT, window: float = 1.0) -> RequestBudget:
    """The process-wide budget of ``account`` (its API URL); created on first use.

    A later call with another ``limit`` updates it: the account's limit was raised or lowered."""
    with _budgets_lock:
        budget = _budgets.get(account)
        if budget is None:
            budget = _budgets[account] = RequestBudget(limit, window)
        elif budget.limit != limit:
            budget.limit = limit
        return budget
