"""Replay jobs: a replay of many rows that outlives the page that started it.

A job is a row in ``replay_jobs`` plus the rows it was asked to replay (``replay_items``), each
marked once it is replayed (with the new row) or refused (with why). Whoever runs a job (a
worker, or the CLI in the foreground) first leases it (``store.leases``); a job whose lease
expired (its holder died, on any machine) is taken over and resumed where it stopped.
Resuming never replays a row twice: an item still marked queued whose chain already ends in a
row of this job is marked from that row instead (see ``replay.plan_replay``), and the log
refuses a second replay of a row in the transaction that would write it.

Cancelling is a flag the running job reads between runs: what is under way finishes and is
recorded, nothing more starts.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from connector.core.errors import ConnectorError
from connector.core.owner import Owner
from connector.core.records import Attempt, Run, utc_now
from connector.engine.heartbeat import Heartbeat
from connector.engine.replay import plan_replay
from connector.engine.runner import Runner
from connector.store.db import Database
from connector.store.leases import Leases
from connector.store.log import ActionLog
from connector.store.settings import AccountSettings

__all__ = ["JobHost", "JobState", "ReplayJob", "ReplayJobs"]


class JobHost(Protocol):
    """What running a job needs from the composition root (``Console``)."""

    log: ActionLog
    heartbeat: Heartbeat

    def account(self) -> AccountSettings: ...

    def runner(
        self,
        *,
        operator: str = "",
        source: str = "simulator",
        account: AccountSettings | None = None,
        expect: str | None = None,
    ) -> Runner: ...


BATCH = 20  # rows planned at a time: a run's rows replay together, and cancel is read between


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    CANCELLING = "cancelling"
    CANCELLED = "cancelled"
    DONE = "done"
    FAILED = "failed"  # stopped by an error; resumable

    @property
    def active(self) -> bool:
        return self in (JobState.QUEUED, JobState.RUNNING, JobState.CANCELLING)


@dataclass
class ReplayJob:
    """A replay job and its progress."""

    job_id: str
    created_at: str
    operator: str
    source: str
    account: str
    description: str
    dry_run: bool
    total: int
    state: JobState
    started_at: str = ""
    finished_at: str = ""
    error: str = ""
    owner: str = ""
    lease_until: float | None = None  # while running: until when its holder is known alive
    # Items by what became of them: queued, refused, and the replayed ones by the outcome of
    # their new row (succeeded, failed, skipped, unknown, dry_run …).
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def finished(self) -> int:
        return self.total - self.counts.get("queued", 0)

    @property
    def fraction(self) -> float:
        return self.finished / self.total if self.total else 1.0

    def seconds_left(self, now: datetime | None = None) -> float | None:
        """Remaining time at this job's pace so far; None before the first row is done."""
        if not self.started_at or not self.finished or self.state is not JobState.RUNNING:
            return None
        started = datetime.fromisoformat(self.started_at.replace("Z", "+00:00"))
        elapsed = ((now or datetime.now(UTC)) - started).total_seconds()
        return max(0.0, elapsed / self.finished * (self.total - self.finished))

    def summary(self) -> str:
        done = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(self.counts.items()))
        return f"{self.finished} of {self.total} rows ({done})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "state": self.state.value,
            "description": self.description,
            "account": self.account,
            "operator": self.operator,
            "source": self.source,
            "dry_run": self.dry_run,
            "total": self.total,
            "finished": self.finished,
            "counts": dict(self.counts),
            "created_at": self.created_at,
            "started_at": self.started_at or None,
            "finished_at": self.finished_at or None,
            "seconds_left": self.seconds_left(),
            "error": self.error or None,
        }


class ReplayJobs:
    """The replay jobs on one data file."""

    def __init__(self, db: Database, leases: Leases | None = None) -> None:
        self._db = db
        self._leases = leases or Leases(db)

    # -- creating and reading -----------------------------------------------------------------

    def create(
        self,
        row_ids: Sequence[int],
        *,
        account: str,
        description: str,
        operator: str = "",
        source: str = "replay",
        dry_run: bool = False,
    ) -> ReplayJob:
        """Record a job over ``row_ids`` (replayed in that order), queued."""
        job_id = uuid.uuid4().hex[:12]
        with self._db.write() as db:
            db.execute(
                "INSERT INTO replay_jobs (job_id, created_at, operator, source, account, "
                "description, dry_run, total, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    job_id,
                    utc_now(),
                    operator,
                    source,
                    account,
                    description,
                    int(dry_run),
                    len(row_ids),
                    JobState.QUEUED.value,
                ],
            )
            db.conn.executemany(
                "INSERT INTO replay_items (job_id, position, row_id, state) VALUES (?, ?, ?, ?)",
                [(job_id, n, row_id, "queued") for n, row_id in enumerate(row_ids)],
            )
        job = self.get(job_id)
        assert job is not None
        return job

    def get(self, job_id: str) -> ReplayJob | None:
        with self._db.read() as db:
            rows = list(db.query("SELECT * FROM replay_jobs WHERE job_id = ?", [job_id]))
            if not rows:
                return None
            return _job(rows[0], _counts(db, job_id))

    def active(self) -> list[ReplayJob]:
        """Jobs queued, running or being cancelled, oldest first (cheap: an index lookup)."""
        return self._where("status IN ('queued', 'running', 'cancelling')", "created_at")

    def recent(self, limit: int = 20) -> list[ReplayJob]:
        return self._where("1 = 1", "created_at DESC", limit)

    def _where(self, where: str, order: str, limit: int = 100) -> list[ReplayJob]:
        with self._db.read() as db:
            rows = list(
                db.query(f"SELECT * FROM replay_jobs WHERE {where} ORDER BY {order} LIMIT {limit}")
            )
            return [_job(row, _counts(db, row["job_id"])) for row in rows]

    def items(self, job_id: str) -> list[dict[str, Any]]:
        with self._db.read() as db:
            return [
                dict(r)
                for r in db.query(
                    "SELECT * FROM replay_items WHERE job_id = ? ORDER BY position", [job_id]
                )
            ]

    # -- control ------------------------------------------------------------------------------

    def cancel(self, job_id: str) -> ReplayJob:
        """Stop a job: a queued one at once, a running one after the run under way."""
        with self._db.write() as db:
            db.execute(
                "UPDATE replay_jobs SET status = CASE status WHEN 'running' THEN 'cancelling' "
                "ELSE 'cancelled' END, finished_at = CASE status WHEN 'running' THEN "
                "finished_at ELSE ? END WHERE job_id = ? AND status IN ('queued', 'running', "
                "'failed')",
                [utc_now(), job_id],
            )
        job = self.get(job_id)
        if job is None:
            raise ConnectorError(f"No replay job {job_id}.")
        return job

    def resumable(self) -> list[str]:
        """Jobs a worker may take: queued ones, and running ones whose holder's lease
        expired."""
        return [
            job.job_id
            for job in self.active()
            if job.state is JobState.QUEUED or not self._leases.alive(job.lease_until)
        ]

    def claim(self, job_id: str, holder: str = "", seconds: float = 30.0) -> bool:
        """Lease the job to ``holder`` (a lease token; default: this process): when queued,
        failed, or held under an expired lease, whoever held it (a job being cancelled is
        ended instead). False when it is finished, missing, or its holder's lease is current."""
        me = Owner.current()
        holder = holder or me.name
        now = self._leases.clock()
        with self._db.write() as db:
            row = db.execute(
                "SELECT status, lease_owner, lease_until FROM replay_jobs WHERE job_id = ?",
                [job_id],
            ).fetchone()
            if row is None:
                return False
            state = JobState(row[0])
            if state in (JobState.RUNNING, JobState.CANCELLING):
                if self._leases.alive(row[2]):
                    return False
            elif state not in (JobState.QUEUED, JobState.FAILED):
                return False
            next_state = JobState.CANCELLED if state is JobState.CANCELLING else JobState.RUNNING
            db.execute(
                "UPDATE replay_jobs SET status = ?, owner_host = ?, lease_owner = ?, "
                "lease_until = ?, started_at = coalesce(started_at, ?), error = NULL "
                "WHERE job_id = ?",
                [next_state.value, me.node, holder, now + seconds, utc_now(), job_id],
            )
        return next_state is JobState.RUNNING

    # -- running ------------------------------------------------------------------------------

    def run(
        self,
        job_id: str,
        console: JobHost,
        *,
        on_run: Callable[[Run], None] | None = None,
    ) -> ReplayJob:
        """Lease the job and replay its queued rows, in order, until done or cancelled.
        Returns the job as it ended, or as it is when it is finished or another process runs
        it (``owner`` says which)."""
        return self.run_if_free(job_id, console, on_run=on_run)[0]

    def run_if_free(
        self,
        job_id: str,
        console: JobHost,
        *,
        on_run: Callable[[Run], None] | None = None,
    ) -> tuple[ReplayJob, bool]:
        """``run``, and whether this call ran it (False: finished, or another holder's)."""
        heartbeat = console.heartbeat
        token = heartbeat.token()
        claimed = self.claim(job_id, token, heartbeat.leases.seconds)
        job = self.get(job_id)
        if job is None:
            raise ConnectorError(f"No replay job {job_id}.")
        if not claimed:
            return job, False
        with heartbeat.holding(token):
            return self._run(job_id, job, console, on_run), True

    def _run(
        self,
        job_id: str,
        job: ReplayJob,
        console: JobHost,
        on_run: Callable[[Run], None] | None,
    ) -> ReplayJob:
        try:
            account = console.account()
            if account.label != job.account:
                raise ConnectorError(
                    f"The account in effect is {account.label}, not {job.account} (the one "
                    "this replay was started on): nothing was replayed. Switch back to it "
                    "and resume the job."
                )
            runner = console.runner(operator=job.operator, source="replay", account=account)
            while True:
                if self._state(job_id) is JobState.CANCELLING:
                    return self._end(job_id, JobState.CANCELLED)
                batch = self._queued(job_id, BATCH)
                if not batch:
                    return self._end(job_id, JobState.DONE)
                positions = {row_id: position for position, row_id in batch}
                plan = plan_replay(
                    console.log,
                    [row_id for _, row_id in batch],
                    account=job.account,
                    job_id=job_id,
                )
                for refusal in plan.refused:
                    self._mark(job_id, positions[refusal.row_id], "refused", note=refusal.reason)
                for asked, replayed in plan.done:
                    self._mark_replayed(job_id, positions[asked], replayed)
                for group in plan.groups:
                    if self._state(job_id) is JobState.CANCELLING:
                        break
                    run = runner.replay(
                        group.run, group.replayed, job_id=job_id, dry_run=job.dry_run
                    )
                    by_retry = {a.retry_of: a for a in run.attempts if a.retry_of is not None}
                    for asked, head in zip(group.asked, group.attempts, strict=True):
                        new = by_retry.get(head.log_id) if head.log_id is not None else None
                        self._mark_replayed(job_id, positions[asked], new)
                    if on_run is not None:
                        on_run(run)
        except ConnectorError as exc:
            return self._end(job_id, JobState.FAILED, exc.message)

    def _mark_replayed(self, job_id: str, position: int, replay: Attempt | None) -> None:
        if replay is None:  # the runner always records one; guard the item all the same
            self._mark(job_id, position, "replayed", outcome="unknown", note="No replay row.")
            return
        self._mark(
            job_id,
            position,
            "replayed",
            replay_row_id=replay.log_id,
            outcome=replay.status.value,
            note=replay.reason,
        )

    def _queued(self, job_id: str, limit: int) -> list[tuple[int, int]]:
        with self._db.read() as db:
            return [
                (int(p), int(r))
                for p, r in db.execute(
                    "SELECT position, row_id FROM replay_items WHERE job_id = ? AND state = "
                    "'queued' ORDER BY position LIMIT ?",
                    [job_id, limit],
                ).fetchall()
            ]

    def _state(self, job_id: str) -> JobState:
        with self._db.read() as db:
            row = db.execute("SELECT status FROM replay_jobs WHERE job_id = ?", [job_id]).fetchone()
        return JobState(row[0]) if row else JobState.CANCELLED

    def _mark(
        self,
        job_id: str,
        position: int,
        state: str,
        *,
        replay_row_id: int | None = None,
        outcome: str = "",
        note: str = "",
    ) -> None:
        with self._db.write() as db:
            db.execute(
                "UPDATE replay_items SET state = ?, replay_row_id = ?, outcome = ?, note = ? "
                "WHERE job_id = ? AND position = ?",
                [state, replay_row_id, outcome or None, note or None, job_id, position],
            )

    def _end(self, job_id: str, state: JobState, error: str = "") -> ReplayJob:
        with self._db.write() as db:
            db.execute(
                "UPDATE replay_jobs SET status = ?, finished_at = ?, error = ?, "
                "lease_owner = NULL, lease_until = NULL WHERE job_id = ?",
                [state.value, utc_now(), error or None, job_id],
            )
        job = self.get(job_id)
        assert job is not None
        return job


def wait_for(jobs: ReplayJobs, job_id: str, *, timeout: float, poll: float = 0.05) -> ReplayJob:
    """The job once it is no longer active (for the CLI's --wait and tests)."""
    deadline = time.monotonic() + timeout
    while True:
        job = jobs.get(job_id)
        if job is None or not job.state.active or time.monotonic() >= deadline:
            if job is None:
                raise ConnectorError(f"No replay job {job_id}.")
            return job
        time.sleep(poll)


def _counts(db: Any, job_id: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    # A replayed item's outcome is its replay row's status now (a replay still being verified
    # concludes after the job): read, not copied.
    for state, outcome, n in db.execute(
        "SELECT i.state, coalesce(a.status, i.outcome), count(*) FROM replay_items i "
        "LEFT JOIN action_log a ON a.id = i.replay_row_id WHERE i.job_id = ? "
        "GROUP BY i.state, coalesce(a.status, i.outcome)",
        [job_id],
    ).fetchall():
        key = outcome if state == "replayed" and outcome else state
        counts[key] = counts.get(key, 0) + n
    return counts


def _job(row: dict[str, Any], counts: dict[str, int]) -> ReplayJob:
    owner = Owner.described(row["lease_owner"]) if row.get("lease_owner") else ""
    return ReplayJob(
        job_id=row["job_id"],
        created_at=row["created_at"],
        operator=row.get("operator") or "",
        source=row.get("source") or "",
        account=row.get("account") or "",
        description=row.get("description") or "",
        dry_run=bool(row.get("dry_run")),
        total=int(row.get("total") or 0),
        state=JobState(row["status"]),
        started_at=row.get("started_at") or "",
        finished_at=row.get("finished_at") or "",
        error=row.get("error") or "",
        owner=owner,
        counts=counts,
        lease_until=row.get("lease_until"),
    )
