"""Where replay jobs run: a huey queue beside the data file, and the worker that consumes it.

Why huey: it is a small, well-kept task queue with an embedded SQLite backend (``jobs.db``
beside ``connector.db``: nothing to install) and a Redis one for a later multi-host setup, and
its consumer brings the worker threads, polling, graceful shutdown, signals for the CLI worker
and periodic tasks. What it does not do is survive a crash mid-task (a worker removes a task
from the queue when it takes it), so a job's truth lives in ``replay_jobs`` (``jobs``) and the
queue only carries "run job X": a periodic task and every worker start hand the jobs nobody is
running back to the queue, and a job that is already running elsewhere is a no-op.

The dashboard runs one worker thread per process once a job exists (``Worker.start``); the
command line runs one in the foreground (``python -m connector worker``).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from huey import SqliteHuey, crontab
from huey.consumer import Consumer

from connector.engine.jobs import ReplayJobs
from connector.store.files import private_sqlite

if TYPE_CHECKING:
    from connector.entry.console import Console

__all__ = ["JobQueue", "Worker"]

_QUEUE_NAME = "connector-replays"


class JobQueue:
    """The queue of replay jobs for one data file (``jobs.db`` beside it)."""

    def __init__(self, data_file: Path, console: Console | None = None) -> None:
        self.path = private_sqlite(data_file.parent / "jobs.db")
        self._console = console
        self.huey = SqliteHuey(
            _QUEUE_NAME, filename=str(self.path), results=False, journal_mode="wal", timeout=10
        )
        self._run_task = self.huey.task(name="replay_job")(self._run)
        self.huey.periodic_task(crontab(minute="*"), name="hand_back_jobs")(self.hand_back)

    def enqueue(self, job_id: str) -> None:
        self._run_task(job_id)

    def hand_back(self) -> int:
        """Queue every job nobody is running (queued, or its process is gone)."""
        if self._console is None:
            return 0
        found = ReplayJobs(self._console.db).resumable()
        for job_id in found:
            self.enqueue(job_id)
        return len(found)

    def _run(self, job_id: str) -> None:
        if self._console is not None:
            ReplayJobs(self._console.db).run(job_id, self._console)


class _QuietConsumer(Consumer):
    """huey's consumer without signal handlers: it runs in a thread of the dashboard, and only
    the main thread may install them."""

    def _set_signal_handlers(self) -> None:
        return None


class Worker:
    """A huey consumer for ``console``'s jobs: ``start`` in a background thread (the
    dashboard), or ``run`` in the foreground (the CLI; Ctrl-C stops it)."""

    def __init__(self, console: Console, *, poll_seconds: float = 0.5) -> None:
        self.queue = JobQueue(console.db.path, console)
        self._jobs = ReplayJobs(console.db)
        self._options: dict[str, Any] = {
            "workers": 1,
            "worker_type": "thread",
            "initial_delay": 0.1,
            "backoff": 1.15,
            "max_delay": poll_seconds,
            "check_worker_health": True,
        }
        self._consumer: Consumer | None = None
        self._lock = threading.Lock()
        logging.getLogger("huey").setLevel(logging.WARNING)

    def start(self) -> None:
        """Consume in background threads; jobs left by a stopped process are queued again."""
        with self._lock:
            if self._consumer is not None:
                return
            self.queue.hand_back()
            self._consumer = _QuietConsumer(self.queue.huey, **self._options)
            self._consumer.start()

    def stop(self) -> None:
        with self._lock:
            if self._consumer is not None:
                self._consumer.stop(graceful=True)
                self._consumer = None

    def run(self, *, exit_when_idle: float | None = None) -> None:
        """Consume in the foreground until interrupted (Ctrl-C finishes the run under way),
        or, with ``exit_when_idle``, until no job has been active for that many seconds."""
        if exit_when_idle is None:
            self.queue.hand_back()
            Consumer(self.queue.huey, **self._options).run()
            return
        self.start()
        try:
            idle_since = time.monotonic()
            while time.monotonic() - idle_since < exit_when_idle:
                time.sleep(0.2)
                if self._jobs.active():
                    idle_since = time.monotonic()
        finally:
            self.stop()
