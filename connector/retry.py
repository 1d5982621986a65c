"""When and how long to wait before trying a request again.

Retried: 429 and 503 (waiting what ``Retry-After`` says), other 5xx, unreadable answers, timeouts
and connection failures. Not retried: 4xx other than 429, which would fail the same way again.
Waits grow exponentially with *full jitter* (a random wait up to the exponential cap), so clients
that failed together do not retry together.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .errors import ApiError, RateLimitedError, ServerError, UnreachableError

__all__ = ["RetryPolicy", "is_retryable"]


def is_retryable(error: ApiError) -> bool:
    if isinstance(error, UnreachableError):
        return error.transient
    return isinstance(error, RateLimitedError | ServerError)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    max_seconds: float = 30.0  # no retry starts after this much time on one request
    base_delay: float = 0.25
    max_delay: float = 8.0

    def delay(self, attempt: int, error: ApiError) -> float:
        """Seconds to wait after failed ``attempt`` (1-based)."""
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return float(retry_after)
        return random.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))

    def should_retry(self, attempt: int, error: ApiError, elapsed: float, delay: float) -> bool:
        return (
            is_retryable(error)
            and attempt < self.max_attempts
            and elapsed + delay <= self.max_seconds
        )


NO_RETRY = RetryPolicy(max_attempts=1)
