"""The heartbeat: while this process holds leases, renew them all every third of their length.

One thread per process and data file renews every lease the process holds (runs, claims, replay
jobs) in one write, so a process that dies lets go of everything within one lease length, and a
live one never loses what it works on. A renewal the store refuses (locked, full) is tried again
at the next beat; if the store stays unwritable past the expiry, the work is taken over, and
the fencing in the log's writes stops this process from sending on a run it lost.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from connector.core.errors import StorageError
from connector.core.owner import Owner
from connector.store.leases import Leases

__all__ = ["Heartbeat"]


class Heartbeat:
    """Renews ``owner``'s leases while anything is held (``holding``). Thread-safe."""

    def __init__(self, leases: Leases, owner: Owner | None = None) -> None:
        self.leases = leases
        self.owner = owner or Owner.current()
        self._held = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @contextmanager
    def holding(self) -> Iterator[None]:
        """Keep the leases alive for the block (nested and concurrent blocks are counted)."""
        with self._lock:
            self._held += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._beat, name="connector-heartbeat", daemon=True
                )
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                self._held -= 1

    def _beat(self) -> None:
        while True:
            self._wake.wait(self.leases.seconds / 3)
            with self._lock:
                if self._held <= 0:
                    self._thread = None
                    return
            try:
                self.leases.renew(self.owner.name)
            except StorageError:
                continue  # the next beat tries again; past the expiry the work moves on
