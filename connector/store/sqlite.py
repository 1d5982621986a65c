"""What the console's data file and the sandbox's file share about SQLite itself."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

__all__ = ["retry_while_locked"]


def retry_while_locked(action: Callable[[], object], timeout: float) -> None:
    """Run ``action``, retrying for up to ``timeout`` seconds while SQLite says the database is
    locked or busy: the few places where SQLite answers at once instead of using the busy
    handler, such as switching a file that another process is opening to WAL."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            action()
            return
        except sqlite3.OperationalError as error:
            message = str(error).lower()
            if ("locked" not in message and "busy" not in message) or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
