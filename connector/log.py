"""The action log: every run and every action attempt, the console's audit trail.

Two tables, one record each: ``runs`` (one interaction of one user, also one with no actions or
refused input) and ``action_log`` (one ``Attempt``: plan, checks, tries, outcome, evidence).

* An attempt's row is written ``pending`` before its request leaves and finalised after, so a
  crash leaves evidence instead of silence. Runs record their owner process; whoever reads the
  log turns the pending rows of a process that is gone into ``interrupted`` (rows of live
  processes are never touched).
* When an outcome cannot be written (lock held too long, disk full) the write is retried; if it
  still fails, the record says so (``unrecorded``) for the page and the CLI to show, and the
  write waits in an outbox that every later write tries first.
* Requests and responses are stored redacted (the client never puts the key in them). Pages are
  keyset-paginated on ``id`` (newest first): an OFFSET deep into a big log costs a scan, a keyset
  page an index seek.
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .actions import REGISTRY
from .db import Database
from .errors import StorageError
from .models import ActionType, Interaction
from .owner import Owner
from .records import (
    Attempt,
    Check,
    Exchange,
    Reason,
    Run,
    RunStatus,
    SimulatedUser,
    Status,
    utc_now,
)

__all__ = ["EXPORT_COLUMNS", "ActionLog", "LogFilter", "LogPage"]

_INTERRUPTED = (
    "The console process running this action ({owner}) ended before it finished; whether "
    "ActiveCampaign received it is unknown. Check the contact before retrying."
)


@dataclass(frozen=True)
class LogFilter:
    since: datetime | None = None
    until: datetime | None = None
    statuses: tuple[str, ...] = ()
    action_types: tuple[str, ...] = ()
    prompt_ids: tuple[int, ...] = ()
    interactions: tuple[str, ...] = ()
    email: str = ""
    run_id: str = ""

    def where(self) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        if self.since:
            clauses.append("created_at >= ?")
            args.append(_iso(self.since))
        if self.until:
            clauses.append("created_at < ?")
            args.append(_iso(self.until))
        for column, values in (
            ("status", self.statuses),
            ("action_type", self.action_types),
            ("prompt_id", self.prompt_ids),
            ("interaction", self.interactions),
        ):
            if values:
                clauses.append(f"{column} IN ({', '.join('?' * len(values))})")
                args.extend(values)
        if self.email.strip():
            clauses.append("contact_email LIKE ? ESCAPE '\\'")
            args.append(f"%{_escape_like(self.email.strip().lower())}%")
        if self.run_id:
            clauses.append("run_id = ?")
            args.append(self.run_id)
        return (" AND ".join(clauses) or "1 = 1"), args


@dataclass
class LogPage:
    rows: list[dict[str, Any]]
    # Pass as ``before_id`` for the next (older) page; None on the last page.
    next_before_id: int | None = None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


EXPORT_COLUMNS = (
    "id",
    "created_at",
    "finished_at",
    "run_id",
    "prompt_id",
    "prompt_name",
    "interaction",
    "position",
    "action_type",
    "target_id",
    "target_name",
    "contact_email",
    "contact_id",
    "status",
    "reason_code",
    "http_status",
    "attempts",
    "duration_ms",
    "error",
    "last_error",
    "operator",
    "source",
    "account",
    "request",
    "response",
)
_JSON_COLUMNS = ("request", "response", "planned", "checks", "tries", "evidence")


class ActionLog:
    """The ``runs`` and ``action_log`` tables. Thread-safe.

    ``retries`` and ``sleep`` govern how a failed write of an outcome is tried again."""

    def __init__(
        self,
        db: Database,
        *,
        retries: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._db = db
        self._retries = retries
        self._sleep = sleep
        self._outbox: list[Callable[[], None]] = []
        self._outbox_lock = threading.Lock()

    # -- writing runs ---------------------------------------------------------------------------

    def start_run(self, run: Run) -> None:
        """Record the run as pending, owned by this process. Raises ``StorageError``: without a
        record nothing may be sent."""
        run.started_at = run.started_at or utc_now()
        owner = Owner.current()
        row = {
            **_run_row(run),
            "owner_host": owner.host,
            "owner_pid": owner.pid,
            "owner_started": owner.started,
        }
        self._flush_outbox()
        with self._db.write() as db:
            _insert(db, "runs", row)

    def finish_run(self, run: Run) -> None:
        """Record the run's outcome; if that fails even after retries, ``run.unrecorded`` says
        so. A run that never started (refused input) is written whole."""
        run.finished_at = utc_now()
        values = {
            k: v
            for k, v in _run_row(run).items()
            if k in ("status", "contact_email", "contact_id", "finished_at", "input_errors")
        }

        def write() -> None:
            with self._db.write() as db:
                updated = _update(db, "runs", values, "run_id = ?", [run.run_id])
                if not updated:  # born final: never started
                    owner = Owner.current()
                    _insert(
                        db,
                        "runs",
                        {
                            **_run_row(run),
                            "owner_host": owner.host,
                            "owner_pid": owner.pid,
                            "owner_started": owner.started,
                        },
                    )

        run.unrecorded = self._persist(write, "the run's outcome")

    # -- writing attempts -----------------------------------------------------------------------

    def start(self, attempt: Attempt, run: Run) -> None:
        """Write the attempt's row before anything is sent (``attempt.log_id``). Raises
        ``StorageError`` if it can't: then nothing may be sent."""
        attempt.started_at = attempt.started_at or utc_now()
        self._flush_outbox()
        with self._db.write() as db:
            attempt.log_id = _insert(db, "action_log", _attempt_row(attempt, run))

    def finish(self, attempt: Attempt, run: Run) -> None:
        """Record the attempt's outcome (inserting it whole when it has no row yet, as for a
        skip or a dry run). Failures end up in ``attempt.unrecorded``, never raised."""
        attempt.finished_at = utc_now()
        attempt.started_at = attempt.started_at or attempt.finished_at
        row = _attempt_row(attempt, run)

        def write() -> None:
            with self._db.write() as db:
                if attempt.log_id is None:
                    attempt.log_id = _insert(db, "action_log", row)
                else:
                    _update(db, "action_log", row, "id = ?", [attempt.log_id])

        what = f"{attempt.label} {attempt.target}".strip()
        attempt.unrecorded = self._persist(write, f"the outcome of {what}")

    def _persist(self, write: Callable[[], None], what: str) -> str:
        """Run ``write`` with retries; "" when it landed, else a sentence for the operator (and
        the write waits in the outbox)."""
        for attempt in range(1, self._retries + 1):
            try:
                self._flush_outbox()
                write()
                return ""
            except StorageError as exc:
                failure = exc
                if attempt < self._retries:
                    self._sleep(0.25 * 2 ** (attempt - 1))
        with self._outbox_lock:
            self._outbox.append(write)
        return (
            f"The action log could not record {what} after {self._retries} tries "
            f"({failure.detail or failure.message}). It will be written with the next entry "
            "this process logs; until then the log shows it as pending."
        )

    def _flush_outbox(self) -> None:
        with self._outbox_lock:
            while self._outbox:
                self._outbox[0]()  # raises StorageError: the rest waits too
                self._outbox.pop(0)

    # -- interrupted runs -----------------------------------------------------------------------

    def recover_interrupted(self) -> int:
        """Mark the pending rows of processes that are gone ``interrupted``; returns how many
        attempts were marked. Cheap when nothing is pending; called by every read below. When
        the data file refuses the write (held by another process), it is left for the next
        read: looking at the log must not fail because of it."""
        try:
            return self._recover_interrupted()
        except StorageError:
            return 0

    def _recover_interrupted(self) -> int:
        with self._db.read() as db:
            owners = db.execute(
                "SELECT DISTINCT owner_host, owner_pid, owner_started FROM runs "
                "WHERE status = 'pending'"
            ).fetchall()
        marked = 0
        for host, pid, started in owners:
            owner = Owner(host or "", int(pid or 0), float(started or 0.0))
            if owner.is_alive():
                continue
            now = utc_now()
            same_owner = "owner_host = ? AND owner_pid = ? AND owner_started = ?"
            with self._db.write(patience=0.2) as db:
                cursor = db.execute(
                    "UPDATE action_log SET status = ?, finished_at = ?, error = ? "
                    "WHERE status = 'pending' AND run_id IN "
                    f"(SELECT run_id FROM runs WHERE status = 'pending' AND {same_owner})",
                    [
                        Status.INTERRUPTED.value,
                        now,
                        _INTERRUPTED.format(owner=owner.describe()),
                        host,
                        pid,
                        started,
                    ],
                )
                marked += cursor.rowcount
                db.execute(
                    f"UPDATE runs SET status = ?, finished_at = ? WHERE status = 'pending' "
                    f"AND {same_owner}",
                    [RunStatus.INTERRUPTED.value, now, host, pid, started],
                )
                db.execute(f"DELETE FROM claims WHERE {same_owner}", [host, pid, started])
        return marked

    # -- reading --------------------------------------------------------------------------------

    def page(
        self, filters: LogFilter = LogFilter(), *, limit: int = 50, before_id: int | None = None
    ) -> LogPage:
        self.recover_interrupted()
        where, args = filters.where()
        if before_id is not None:
            where, args = f"({where}) AND id < ?", [*args, before_id]
        with self._db.read() as db:
            rows = [
                dict(r)
                for r in db.table("action_log").rows_where(
                    where, args, order_by="id DESC", limit=limit + 1
                )
            ]
        more = len(rows) > limit
        rows = rows[:limit]
        return LogPage(
            rows=rows,
            next_before_id=rows[-1]["id"] if more and rows else None,
            counts=self.counts(filters),
        )

    def counts(self, filters: LogFilter = LogFilter()) -> dict[str, int]:
        where, args = filters.where()
        with self._db.read() as db:
            result = db.execute(
                f"SELECT status, count(*) FROM action_log WHERE {where} GROUP BY status", args
            ).fetchall()
        return {status: n for status, n in result}

    def get(self, row_id: int) -> dict[str, Any] | None:
        """One row with its JSON columns parsed."""
        self.recover_interrupted()
        with self._db.read() as db:
            rows = list(db.table("action_log").rows_where("id = ?", [row_id]))
        return _parsed(rows[0]) if rows else None

    def attempt(self, row_id: int) -> Attempt | None:
        """The attempt recorded in row ``row_id``, as the runner left it."""
        row = self.get(row_id)
        return _attempt_from(row) if row else None

    def run(self, run_id: str) -> Run | None:
        """A run with its attempts in the order they were logged."""
        self.recover_interrupted()
        with self._db.read() as db:
            found = list(db.table("runs").rows_where("run_id = ?", [run_id]))
            rows = list(db.table("action_log").rows_where("run_id = ?", [run_id], order_by="id"))
        if not found:
            return None
        run = _run_from(found[0])
        run.attempts = [_attempt_from(_parsed(row)) for row in rows]
        return run

    def runs(self, *, limit: int = 50, before: str | None = None) -> list[Run]:
        """Recent runs, newest first, without their attempts (``run()`` has them)."""
        self.recover_interrupted()
        where, args = ("started_at < ?", [before]) if before else ("1 = 1", [])
        with self._db.read() as db:
            rows = db.table("runs").rows_where(where, args, order_by="started_at DESC", limit=limit)
            return [_run_from(row) for row in rows]

    def rows_of_run(self, run_id: str) -> list[dict[str, Any]]:
        with self._db.read() as db:
            return [
                dict(r)
                for r in db.table("action_log").rows_where("run_id = ?", [run_id], order_by="id")
            ]

    def iter_rows(self, filters: LogFilter = LogFilter()) -> Iterator[dict[str, Any]]:
        where, args = filters.where()
        with self._db.read() as db:
            yield from db.table("action_log").rows_where(where, args, order_by="id DESC")

    def export_csv(self, filters: LogFilter = LogFilter()) -> str:
        """The filtered rows as CSV (newest first), request/response as JSON."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in self.iter_rows(filters):
            writer.writerow({k: ("" if row.get(k) is None else row[k]) for k in EXPORT_COLUMNS})
        return out.getvalue()


# -- rows <-> records -------------------------------------------------------------------------


def _insert(db: Any, table: str, row: dict[str, Any]) -> int:
    # Plain SQL: the log is written twice per action on the hot path, and sqlite-utils'
    # insert/update introspect the table on every call (measured: 10 ms vs 1 ms a pair).
    columns = ", ".join(row)
    marks = ", ".join("?" * len(row))
    cursor = db.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(row.values()))
    return int(cursor.lastrowid or 0)


def _update(db: Any, table: str, row: dict[str, Any], where: str, args: list[Any]) -> int:
    assignments = ", ".join(f"{column} = ?" for column in row)
    cursor = db.execute(f"UPDATE {table} SET {assignments} WHERE {where}", [*row.values(), *args])
    return int(cursor.rowcount)


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _run_row(run: Run) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "prompt_id": run.prompt_id,
        "prompt_name": run.prompt_name,
        "interaction": run.interaction.value,
        "user_id": run.user.user_id,
        "traits": _dump(dict(run.user.traits)),
        "inputs": _dump(run.inputs),
        "input_errors": _dump({str(k): v for k, v in run.input_errors.items()}),
        "dry_run": int(run.dry_run),
        "status": run.status.value,
        "contact_email": run.contact_email,
        "contact_id": run.contact_id,
        "operator": run.operator,
        "source": run.source,
        "account": run.account,
        "started_at": run.started_at or utc_now(),
        "finished_at": run.finished_at or None,
    }


def _run_from(row: dict[str, Any]) -> Run:
    errors = json.loads(row.get("input_errors") or "{}")
    return Run(
        run_id=row["run_id"],
        prompt_id=row.get("prompt_id"),
        prompt_name=row.get("prompt_name") or "",
        interaction=Interaction(row["interaction"]),
        user=SimulatedUser(row.get("user_id") or "", json.loads(row.get("traits") or "{}")),
        dry_run=bool(row.get("dry_run")),
        operator=row.get("operator") or "",
        source=row.get("source") or "",
        account=row.get("account") or "",
        inputs=json.loads(row.get("inputs") or "[]"),
        input_errors={int(k): v for k, v in errors.items()},
        status=RunStatus(row["status"]),
        contact_email=row.get("contact_email") or "",
        contact_id=row.get("contact_id") or "",
        started_at=row.get("started_at") or "",
        finished_at=row.get("finished_at") or "",
    )


def _attempt_row(attempt: Attempt, run: Run) -> dict[str, Any]:
    shown = attempt.shown
    failures = [t.error for t in attempt.tries if t.error]
    request = shown.request_dict() if shown is not None else attempt.planned
    return {
        "run_id": attempt.run_id,
        "prompt_id": run.prompt_id,
        "prompt_name": run.prompt_name,
        "interaction": run.interaction.value,
        "action_type": attempt.action_type.value,
        "position": attempt.position,
        "target_id": attempt.target_id,
        "target_name": attempt.target_name,
        "contact_email": attempt.contact_email.lower(),
        "contact_id": attempt.contact_id,
        "status": attempt.status.value,
        "reason_code": attempt.reason_code.value if attempt.reason_code else None,
        "http_status": attempt.http_status,
        "attempts": attempt.attempts,
        "duration_ms": attempt.duration_ms,
        "request": _dump(request),
        "response": _dump(shown.response_dict() if shown is not None else None),
        "error": attempt.reason,
        "last_error": failures[-1] if failures else "",
        "operator": run.operator,
        "source": run.source,
        "account": run.account,
        "created_at": attempt.started_at,
        "finished_at": attempt.finished_at or None,
        "planned": _dump(attempt.planned),
        "checks": _dump([c.to_dict() for c in attempt.checks]),
        "tries": _dump([t.to_dict() for t in attempt.tries]),
        "evidence": _dump(attempt.evidence.to_dict() if attempt.evidence else None),
    }


def _parsed(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for key in _JSON_COLUMNS:
        out[key] = json.loads(out[key]) if out.get(key) else None
    return out


def _attempt_from(row: dict[str, Any]) -> Attempt:
    action_type = ActionType(row["action_type"])
    evidence = row.get("evidence")
    return Attempt(
        run_id=row["run_id"],
        position=int(row.get("position") or 0),
        action_type=action_type,
        label=REGISTRY[action_type].label,
        target_id=row.get("target_id") or "",
        target_name=row.get("target_name") or "",
        implicit=int(row.get("position") or 0) == 0 and action_type is ActionType.ADD_CONTACT,
        planned=row.get("planned"),
        checks=[Check.from_dict(c) for c in row.get("checks") or []],
        tries=[Exchange.from_dict(t) for t in row.get("tries") or []],
        status=Status(row["status"]),
        reason=row.get("error") or "",
        reason_code=Reason(row["reason_code"]) if row.get("reason_code") else None,
        contact_email=row.get("contact_email") or "",
        contact_id=row.get("contact_id") or "",
        evidence=Exchange.from_dict(evidence) if evidence else None,
        started_at=row.get("created_at") or "",
        finished_at=row.get("finished_at") or "",
        duration_ms=float(row.get("duration_ms") or 0.0),
        log_id=row.get("id"),
    )


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
