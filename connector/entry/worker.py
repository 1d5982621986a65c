"""The worker: a small loop anyone can run that finishes whatever is due.

Each turn it takes, under a lease, one open run that is due (a run whose executor died, a
verification whose settle delay has passed, a replay waiting for one) and executes it, then one
replay job nobody holds (queued, or its holder's lease expired). The runs table is the queue;
there is no other queue to lose (an earlier version carried "run job X" messages in huey's
queue, which drops a message when a worker takes it: the truth had to live in our tables
anyway, and a second queue only added a way to disagree).

The dashboard runs one worker thread per process (``Worker.start``); the command line runs one
in the foreground (``python -m connector worker``). Any number of them, on any number of
machines sharing the store, cooperate through the leases.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from connector.core.errors import ConnectorError, clip

if TYPE_CHECKING:
    from connector.entry.console import Console

__all__ = ["Worker"]


class Worker:
    """Finishes due runs and replay jobs of ``console``'s store."""

    def __init__(self, console: Console, *, poll_seconds: float = 0.5) -> None:
        self.console = console
        self.poll_seconds = poll_seconds
        self.errors: list[str] = []  # the last failures of a turn, for whoever runs the loop
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def turn(self) -> bool:
        """One turn: one due run and one free job. True when there was something to do."""
        worked = False
        self.console.log.flush()  # outcomes this process could not write before
        for step in (self.console.work_on_due_run, self.console.work_on_free_job):
            try:
                worked = step() or worked
            except ConnectorError as exc:  # the store refused, the account is unusable: later
                self.errors = [*self.errors[-9:], exc.message]
            except Exception as exc:  # a bug must not stop the loop that finishes everyone's work
                self.errors = [*self.errors[-9:], f"{type(exc).__name__}: {clip(str(exc))}"]
        return worked

    def start(self) -> None:
        """Work in a background thread until ``stop``."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="connector-worker", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self._stop.set()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.is_set():
            if not self.turn():
                self._stop.wait(self.poll_seconds)

    def run(self, *, exit_when_idle: float | None = None) -> None:
        """Work in the foreground until interrupted (Ctrl-C lets the run under way finish its
        current step; anything left is resumed by the next worker), or, with
        ``exit_when_idle``, until nothing has been due for that many seconds."""
        idle_since = time.monotonic()
        while True:
            if self.turn():
                idle_since = time.monotonic()
                continue
            if exit_when_idle is not None and time.monotonic() - idle_since >= exit_when_idle:
                return
            time.sleep(self.poll_seconds)
