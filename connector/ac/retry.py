"""When and how long to wait before sending a request again.

Retried: only what can succeed on retry, as ``errors`` classifies it (``ApiError.retryable``):
429 (waiting what ``Retry-After`` says), 5xx, unreadable answers, timeouts and connection
failures. Not retried: redirects, other 4xx, and a host that does not exist. Waits grow
exponentially with *full jitter* (a random wait up to the exponential cap), so clients that
failed together do not retry together. The randomness is injected, like the clocks elsewhere,
so tests never wait through real backoff.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from connector.core.errors import ApiError

__all__ = ["RetryPolicy"]


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    max_seconds: float = 30.0  # no retry starts after this much time on one request
    base_delay: float = 0.25
    max_delay: float = 8.0
    # uniform(low, high): the jitter's source of randomness.
    uniform: Callable[[float, float], float] = field(default=random.uniform, compare=False)

    def next_delay(self, attempt: int, error: ApiError, elapsed: float) -> float | None:
        """Seconds to wait before try ``attempt + 1`` after ``error``; None: give up now."""
        if not error.retryable or attempt >= self.max_attempts:
            return None
        if error.retry_after is not None:
            delay = float(error.retry_after)
        else:
            delay = self.uniform(0.0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))
        return delay if elapsed + delay <= self.max_seconds else None
