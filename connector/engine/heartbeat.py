"""The heartbeat: while this process holds leases, renew them all every third of their length.

Each piece of work (one execution of a run, one replay job) holds its leases under a token of
its own (``token``: this process's owner name plus a suffix), so two executors in one process,
say the Simulator's and the dashboard's worker thread, are two owners and the store's fences
tell them apart. One thread per process and data file renews every lease of every token in use
in one write, so a process that dies lets go of everything within one lease length, and a live
one never loses what it works on. A renewal the store refuses (locked, full) is tried again
at the next beat; if the store stays unwritable past the expiry, the work is taken over, and
the fencing in the log's writes stops this process from sending on a run it lost.
"""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from connector.core.errors import StorageError
from connector.core.owner import Owner
from connector.store.leases import Leases

__all__ = ["Heartbeat"]


class Heartbeat:
    """Renews the leases of the tokens in use (``holding``). Thread-safe."""

    def __init__(self, leases: Leases, owner: Owner | None = None) -> None:
        self.leases = leases
        self.owner = owner or Owner.current()
        self._held: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def token(self) -> str:
        """A new lease owner name for one piece of work of this process."""
        return f"{self.owner.name}/{secrets.token_hex(3)}"

    @contextmanager
    def holding(self, token: str) -> Iterator[None]:
        """Keep ``token``'s leases alive for the block (nested blocks are counted)."""
        with self._lock:
            self._held[token] += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._beat, name="connector-heartbeat", daemon=True
                )
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                self._held[token] -= 1
                if self._held[token] <= 0:
                    del self._held[token]

    def _beat(self) -> None:
        while True:
            self._wake.wait(self.leases.seconds / 3)
            with self._lock:
                if not self._held:
                    self._thread = None
                    return
                tokens = list(self._held)
            try:
                self.leases.renew(tokens)
            except StorageError:
                continue  # the next beat tries again; past the expiry the work moves on
