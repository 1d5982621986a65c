"""The action log: one row per action attempt, the console's audit trail.

A row is written ``pending`` before its request leaves and finalised after, so a crash leaves
evidence instead of silence; ``recover_interrupted`` marks such rows ``interrupted`` at start-up.
Requests and responses are stored redacted (the client never puts the key in them). Pages are
keyset-paginated on ``id`` (newest first): an OFFSET deep into a big log costs a scan, a keyset
page an index seek.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from .db import Database

__all__ = ["EXPORT_COLUMNS", "ActionLog", "LogEntry", "LogFilter", "LogPage", "Status", "utc_now"]


class Status(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    DRY_RUN = "dry_run"
    INTERRUPTED = "interrupted"


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class LogEntry:
    """The facts known before an action runs."""

    run_id: str
    action_type: str
    interaction: str = ""
    prompt_id: int | None = None
    prompt_name: str = ""
    position: int = 0
    target_id: str = ""
    target_name: str = ""
    contact_email: str = ""
    contact_id: str = ""
    operator: str = ""
    source: str = "simulator"
    account: str = ""


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


class ActionLog:
    """The ``action_log`` table. Thread-safe."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- writing --------------------------------------------------------------------------------

    def start(self, entry: LogEntry, *, status: Status = Status.PENDING, **final: Any) -> int:
        """Write the row before anything is sent; returns its id. ``final`` for rows that are
        born final (skipped, dry run)."""
        row = {**entry.__dict__, "status": status.value, "attempts": 0, "created_at": utc_now()}
        row["contact_email"] = (row["contact_email"] or "").lower()
        if status is not Status.PENDING:
            row.update(self._final(final))
        # Plain SQL: the log is written twice per action on the hot path, and sqlite-utils'
        # insert/update introspect the table on every call (measured: 10 ms vs 1 ms a pair).
        columns = ", ".join(row)
        marks = ", ".join("?" * len(row))
        with self._db.write() as conn:
            cursor = conn.execute(
                f"INSERT INTO action_log ({columns}) VALUES ({marks})", list(row.values())
            )
            return int(cursor.lastrowid or 0)

    def finish(self, row_id: int, status: Status, **final: Any) -> None:
        values = {"status": status.value, **self._final(final)}
        assignments = ", ".join(f"{column} = ?" for column in values)
        with self._db.write() as conn:
            conn.execute(
                f"UPDATE action_log SET {assignments} WHERE id = ?", [*values.values(), row_id]
            )

    @staticmethod
    def _final(values: dict[str, Any]) -> dict[str, Any]:
        out = dict(values)
        for key in ("request", "response"):
            if key in out and out[key] is not None and not isinstance(out[key], str):
                out[key] = json.dumps(out[key])
        out["finished_at"] = utc_now()
        return out

    def recover_interrupted(self, older_than: timedelta = timedelta(minutes=5)) -> int:
        """Mark rows left ``pending`` by a crash as ``interrupted``; returns how many."""
        cutoff = _iso(datetime.now(UTC) - older_than)
        with self._db.write() as conn:
            cursor = conn.execute(
                "UPDATE action_log SET status = ?, finished_at = ?, error = ? "
                "WHERE status = ? AND created_at < ?",
                [
                    Status.INTERRUPTED.value,
                    utc_now(),
                    "The console stopped before this action finished; whether ActiveCampaign "
                    "received it is unknown. Check the contact before retrying.",
                    Status.PENDING.value,
                    cutoff,
                ],
            )
            return cursor.rowcount

    # -- reading --------------------------------------------------------------------------------

    def page(
        self, filters: LogFilter = LogFilter(), *, limit: int = 50, before_id: int | None = None
    ) -> LogPage:
        where, args = filters.where()
        if before_id is not None:
            where, args = f"({where}) AND id < ?", [*args, before_id]
        with self._db.read() as conn:
            rows = [
                dict(r)
                for r in conn.table("action_log").rows_where(
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
        with self._db.read() as conn:
            result = conn.execute(
                f"SELECT status, count(*) FROM action_log WHERE {where} GROUP BY status", args
            ).fetchall()
        return {status: n for status, n in result}

    def get(self, row_id: int) -> dict[str, Any] | None:
        with self._db.read() as conn:
            rows = list(conn.table("action_log").rows_where("id = ?", [row_id]))
        if not rows:
            return None
        row = dict(rows[0])
        for key in ("request", "response"):
            row[key] = json.loads(row[key]) if row.get(key) else None
        return row

    def run(self, run_id: str) -> list[dict[str, Any]]:
        with self._db.read() as conn:
            return [
                dict(r)
                for r in conn.table("action_log").rows_where("run_id = ?", [run_id], order_by="id")
            ]

    def iter_rows(self, filters: LogFilter = LogFilter()) -> Iterator[dict[str, Any]]:
        where, args = filters.where()
        with self._db.read() as conn:
            yield from conn.table("action_log").rows_where(where, args, order_by="id DESC")

    def export_csv(self, filters: LogFilter = LogFilter()) -> str:
        """The filtered rows as CSV (newest first), every column, request/response as JSON."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in self.iter_rows(filters):
            writer.writerow({k: ("" if row.get(k) is None else row[k]) for k in EXPORT_COLUMNS})
        return out.getvalue()


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
