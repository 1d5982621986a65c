"""The action log: every run and every action attempt, the console's audit trail.

Two tables, one record each: ``runs`` (one interaction of one user, also one with no actions or
refused input) and ``action_log`` (one ``Attempt``: plan, checks, tries, outcome, evidence).

* A run and its whole plan are written in one transaction before anything is sent: every
  attempt ``planned``. An attempt turns ``pending`` (with the checks that decided to send it)
  just before its request leaves, and is concluded on evidence after. So a crash at any line
  leaves the remaining work in the log, and a worker resumes it (``engine.executor``): planned
  attempts run, pending ones are verified.
* Runs are leased (``store.leases``): the write that marks an attempt pending succeeds only
  while its executor still holds the run, so a run taken over is never sent twice.
* When an outcome cannot be written (lock held too long, disk full) the write is retried; if it
  still fails, the record says so (``unrecorded``) for the page and the CLI to show, and the
  write waits in an outbox that every later write tries first.
* Requests and responses are stored redacted (the client never puts the key in them).
* A replay is a new run whose rows point at the ones they retry (``retry_of``); the check that
  no other replay of those rows succeeded or is under way happens in the transaction that
  writes the replay's plan, so two operators (or a job and a CLI) never replay one row twice.
* An idempotency key makes a repeated submission the same run (unique in the store).

What the reads ask is built by ``log_query``: keyset pages, counts, search.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from connector.ac.actions import REGISTRY
from connector.core.errors import ConnectorError, StorageError
from connector.core.models import ActionType, ErrorBehaviour, Interaction
from connector.core.records import (
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
from connector.store.db import Database
from connector.store.log_query import EVERYTHING, Cursor, LogFilter, LogQuery

__all__ = ["ActionLog", "AlreadyReplayed", "Facets", "LogPage", "RunsPage"]


@dataclass
class LogPage:
    """One page of action rows, newest first."""

    rows: list[dict[str, Any]]
    next_cursor: Cursor | None = None  # where the next (older) page starts; None: last page


@dataclass
class RunsPage:
    """One page of runs, newest first, each with its attempts."""

    runs: list[Run]
    next_cursor: Cursor | None = None


@dataclass(frozen=True)
class Facets:
    """The values the log holds for the filters that are not fixed lists: what to offer."""

    accounts: tuple[str, ...] = ()
    operators: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    prompts: dict[int, str] = field(default_factory=dict)  # id -> latest name in the log


class AlreadyReplayed(ConnectorError):
    """The row has a replay that succeeded, was skipped, is running or is in doubt."""

    def __init__(self, row_id: int, replay_id: int, status: str) -> None:
        self.replay_id = replay_id
        super().__init__(
            f"Not replayed: entry #{row_id} was already replayed as #{replay_id} ({status}). "
            "A replay never repeats an action; replay the newest entry of the chain instead."
        )


_JSON_COLUMNS = ("request", "response", "planned", "checks", "tries", "evidence", "action")
_CONCLUDED = "status NOT IN ('planned', 'pending') AND verify_after IS NULL"
_REPLAY_BLOCKERS = ("planned", "pending", "succeeded", "skipped", "unknown")


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

    def record_plan(
        self, run: Run, *, lease_owner: str = "", lease_until: float | None = None
    ) -> Run | None:
        """Write the run and every attempt of its plan in one transaction, before anything is
        sent (``attempt.log_id`` set). With ``lease_owner`` the run is born leased to the
        executor about to run it. Returns the earlier run instead, writing nothing, when the
        run's idempotency key is taken. Raises ``AlreadyReplayed`` when an attempt replays a row
        another replay has (nothing written), ``StorageError`` when the file refuses."""
        run.started_at = run.started_at or utc_now()
        for attempt in run.attempts:
            attempt.started_at = attempt.started_at or run.started_at
            if attempt.done:
                attempt.finished_at = attempt.finished_at or run.started_at
        self._flush_outbox()
        earlier = None
        with self._db.write() as db:
            if run.idempotency_key:
                earlier = db.execute(
                    "SELECT run_id FROM runs WHERE idempotency_key = ?", [run.idempotency_key]
                ).fetchone()
            if earlier is None:
                _write_plan(db, run, lease_owner, lease_until)
        return self.run(str(earlier[0])) if earlier is not None else None

    def mark_sending(
        self, attempt: Attempt, run: Run, claim: tuple[str, str, str, str] | None = None
    ) -> bool:
        """Record that ``attempt``'s request is about to leave (``pending``, with the checks
        that decided to send it), only while ``run.lease_owner`` still holds the run and, for
        an action that claims its target, the claim ``(account, contact, action, target)``.
        False when another executor has taken either over: then nothing may be sent. Raises
        ``StorageError``: without this record nothing is sent (``attempt`` stays as it was)."""
        row = _attempt_row(replace(attempt, status=Status.PENDING), run)
        # Only what changed since the plan: an UPDATE touches every index (and the search
        # index's trigger) of every column it assigns, whether its value changed or not.
        changed = {k: row[k] for k in ("status", "contact_id", "planned", "checks", "request")}
        fence = "EXISTS (SELECT 1 FROM runs WHERE run_id = ? AND lease_owner = ?)"
        args: list[Any] = [run.run_id, run.lease_owner]
        if claim is not None:
            fence += (
                " AND EXISTS (SELECT 1 FROM claims WHERE account = ? AND contact = ? AND "
                "action_type = ? AND target_id = ? AND run_id = ? AND lease_owner = ?)"
            )
            args += [*claim, run.run_id, run.lease_owner]
        self._flush_outbox()
        with self._db.write() as db:
            updated = db.execute(
                f"UPDATE action_log SET {', '.join(f'{c} = ?' for c in changed)} "
                f"WHERE id = ? AND {fence}",
                [*changed.values(), attempt.log_id, *args],
            ).rowcount
        if updated:
            attempt.status = Status.PENDING
        return bool(updated)

    def in_doubt(
        self, claim: tuple[str, str, str, str], except_run: str
    ) -> tuple[str, float | None] | None:
        """Whether another run's write to this (account, contact, action, target) may still
        land: its row is ``pending`` (its executor died mid-request) or ``unknown`` awaiting
        verification. Returns (that run, when its verification is due; None: not set yet)."""
        account, contact, action_type, target_id = claim
        with self._db.read() as db:
            row = db.execute(
                "SELECT run_id, verify_after FROM action_log WHERE contact_email = ? "
                "AND action_type = ? AND target_id = ? AND account = ? AND run_id != ? "
                "AND (status = 'pending' OR (status = 'unknown' AND verify_after IS NOT NULL)) "
                "ORDER BY id DESC LIMIT 1",
                [contact, action_type, target_id, account, except_run],
            ).fetchone()
        return (str(row[0]), row[1]) if row else None

    def finish_run(self, run: Run, *, owner: str = "") -> None:
        """Record the run's state (concluded, or open until ``run.next_at``) and give back
        ``owner``'s lease on it; if that fails even after retries, ``run.unrecorded`` says so."""
        run.finished_at = "" if run.status is RunStatus.PENDING else utc_now()
        row = _run_row(run)
        values = {
            k: row[k] for k in ("status", "contact_email", "contact_id", "finished_at", "next_at")
        }

        def write() -> None:
            with self._db.write() as db:
                # Only its holder records a run's state and gives the lease back: an executor
                # whose lease was taken over must not overwrite what the new one records.
                db.execute(
                    f"UPDATE runs SET {', '.join(f'{c} = ?' for c in values)}, "
                    "lease_owner = NULL, lease_until = NULL WHERE run_id = ? "
                    "AND (lease_owner = ? OR lease_owner IS NULL)",
                    [*values.values(), run.run_id, owner],
                )

        run.unrecorded = self._persist(write, "the run's outcome")

    # -- writing attempts -----------------------------------------------------------------------

    def finish(self, attempt: Attempt, run: Run) -> None:
        """Record the attempt's outcome (or its awaited verification). An outcome is evidence:
        it is written whoever holds the run now. Failures end up in ``attempt.unrecorded``
        (and the outbox), never raised."""
        attempt.finished_at = utc_now() if attempt.done else ""
        attempt.started_at = attempt.started_at or utc_now()
        row = _attempt_row(attempt, run)

        # An outcome is evidence and always written; an open state (in doubt, deferred, not
        # sent yet) never replaces an outcome another executor recorded meanwhile.
        where = "id = ?" if attempt.done else f"id = ? AND NOT ({_CONCLUDED})"

        def write() -> None:
            with self._db.write() as db:
                _update(db, "action_log", row, where, [attempt.log_id])

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

    def flush(self) -> bool:
        """Write the outcomes waiting in the outbox (the store refused them earlier); True when
        none waits any more. Never raises: what still can't be written keeps waiting."""
        try:
            self._flush_outbox()
        except StorageError:
            return False
        return True

    @property
    def waiting(self) -> int:
        """How many writes wait in the outbox."""
        with self._outbox_lock:
            return len(self._outbox)

    def _flush_outbox(self) -> None:
        with self._outbox_lock:
            while self._outbox:
                self._outbox[0]()  # raises StorageError: the rest waits too
                self._outbox.pop(0)

    # -- reading --------------------------------------------------------------------------------

    def page(
        self,
        filters: LogFilter = EVERYTHING,
        *,
        limit: int = 50,
        cursor: Cursor | None = None,
        now: datetime | None = None,
    ) -> LogPage:
        """Action rows matching ``filters``, newest first, after ``cursor``."""
        self._db.keep_statistics()
        sql, args = LogQuery(filters, now).page(cursor, limit)
        with self._db.read() as db:
            rows = [dict(r) for r in db.query(sql, args)]
        more = len(rows) > limit
        rows = rows[:limit]
        last = rows[-1] if more and rows else None
        return LogPage(rows, Cursor(last["created_at"], last["id"]) if last else None)

    def counts(
        self, filters: LogFilter = EVERYTHING, *, now: datetime | None = None
    ) -> dict[str, int]:
        """How many matching rows have each status."""
        sql, args = LogQuery(filters, now).counts()
        with self._db.read() as db:
            return {status: n for status, n in db.execute(sql, args).fetchall()}

    def total(self, filters: LogFilter = EVERYTHING) -> int:
        return sum(self.counts(filters).values())

    def ids(self, filters: LogFilter, *, now: datetime | None = None) -> list[int]:
        """Every matching row id, oldest first."""
        sql, args = LogQuery(filters, now).ids()
        with self._db.read() as db:
            return [row_id for (row_id,) in db.execute(sql, args).fetchall()]

    def explain(self, filters: LogFilter, *, runs: bool = False) -> list[str]:
        """The query plan of a page for ``filters`` (tests check that every filter the page
        offers is an index walk)."""
        query = LogQuery(filters)
        sql, args = query.runs(None, 50) if runs else query.page(None, 50)
        with self._db.read() as db:
            return [row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", args).fetchall()]

    def runs_page(
        self,
        filters: LogFilter = EVERYTHING,
        *,
        limit: int = 50,
        cursor: Cursor | None = None,
        now: datetime | None = None,
    ) -> RunsPage:
        """Runs matching ``filters`` (an action filter keeps runs with such an action), newest
        first, each with its attempts in the order they were logged."""
        sql, args = LogQuery(filters, now).runs(cursor, limit)
        with self._db.read() as db:
            rows = [dict(r) for r in db.query(sql, args)]
            more = len(rows) > limit
            rows = rows[:limit]
            attempts = _attempts_of(db, [r["run_id"] for r in rows])
        runs = []
        for row in rows:
            run = _run_from(row)
            run.attempts = attempts.get(run.run_id, [])
            runs.append(run)
        last = rows[-1] if more and rows else None
        return RunsPage(runs, Cursor(last["started_at"], last["row_key"]) if last else None)

    def runs(self, *, limit: int = 50) -> list[Run]:
        """The most recent runs, newest first, with their attempts."""
        return self.runs_page(limit=limit).runs

    def contact_history(self, email: str, *, limit: int = 200) -> RunsPage:
        """Every run for one contact email, newest first, across prompts and accounts."""
        return self.runs_page(LogFilter(email=email), limit=limit)

    def facets(self) -> Facets:
        """The accounts, operators, sources and prompts the log holds, each read with a
        skip-scan of its index (a few lookups per distinct value, not a pass over the log);
        a deleted prompt keeps the last name it was logged under."""
        with self._db.read() as db:
            values = {
                column: tuple(v for v in _distinct(db, column) if v is not None)
                for column in ("account", "operator", "source", "prompt_id")
            }
            prompts = {}
            for prompt_id in values["prompt_id"]:
                row = db.execute(
                    "SELECT prompt_name FROM action_log WHERE prompt_id = ? "
                    "ORDER BY created_at DESC LIMIT 1",
                    [prompt_id],
                ).fetchone()
                prompts[int(prompt_id)] = (row[0] if row else "") or f"#{prompt_id}"
        return Facets(
            accounts=tuple(str(v) for v in values["account"] if v),
            operators=tuple(str(v) for v in values["operator"]),
            sources=tuple(str(v) for v in values["source"] if v),
            prompts=prompts,
        )

    def get(self, row_id: int) -> dict[str, Any] | None:
        """One row with its JSON columns parsed."""
        with self._db.read() as db:
            rows = list(db.query("SELECT * FROM action_log WHERE id = ?", [row_id]))
        return _parsed(rows[0]) if rows else None

    @staticmethod
    def entry(row: dict[str, Any]) -> dict[str, Any]:
        """A row of ``page`` as JSON-ready data: the attempt's own record (``Attempt.to_dict``,
        its one serialiser) with the context of its run."""
        context = ("prompt_id", "prompt_name", "interaction", "account", "source", "operator")
        return {
            **_attempt_from(_parsed(row)).to_dict(),
            **{key: row.get(key) for key in context},
        }

    def attempt(self, row_id: int) -> Attempt | None:
        """The attempt recorded in row ``row_id``, as the runner left it."""
        row = self.get(row_id)
        return _attempt_from(row) if row else None

    def retries(self, row_id: int) -> list[dict[str, Any]]:
        """The rows that replayed ``row_id``, oldest first (``retry_of`` the other way)."""
        with self._db.read() as db:
            return [
                dict(r)
                for r in db.query(
                    "SELECT id, status, created_at, operator, source FROM action_log "
                    "WHERE retry_of = ? ORDER BY id",
                    [row_id],
                )
            ]

    def replays_of(self, row_ids: list[int]) -> dict[int, list[tuple[int, str]]]:
        """For each of ``row_ids``, its replays (id, status), oldest first; dry runs left out
        (they changed nothing). One indexed query for a whole page."""
        found: dict[int, list[tuple[int, str]]] = {}
        if not row_ids:
            return found
        marks = ", ".join("?" * len(row_ids))
        with self._db.read() as db:
            for retry_of, row_id, status in db.execute(
                f"SELECT retry_of, id, status FROM action_log WHERE retry_of IN ({marks}) "
                "AND status != 'dry_run' ORDER BY id",
                row_ids,
            ).fetchall():
                found.setdefault(int(retry_of), []).append((int(row_id), str(status)))
        return found

    def run(self, run_id: str) -> Run | None:
        """A run with its attempts in the order they were logged."""
        with self._db.read() as db:
            found = list(db.query("SELECT * FROM runs WHERE run_id = ?", [run_id]))
            attempts = _attempts_of(db, [run_id])
        if not found:
            return None
        run = _run_from(found[0])
        run.attempts = attempts.get(run_id, [])
        return run

    def rows_of_run(self, run_id: str) -> list[dict[str, Any]]:
        with self._db.read() as db:
            return [
                dict(r)
                for r in db.query("SELECT * FROM action_log WHERE run_id = ? ORDER BY id", [run_id])
            ]

    def iter_rows(
        self, filters: LogFilter = EVERYTHING, *, chunk: int = 2000
    ) -> Iterator[dict[str, Any]]:
        """Every matching row, newest first, read ``chunk`` rows at a time (each chunk its own
        short read, so an export of millions neither holds a snapshot nor the whole set)."""
        cursor: Cursor | None = None
        now = datetime.now(UTC)  # one "now" for the whole walk: a relative range holds still
        while True:
            page = self.page(filters, limit=chunk, cursor=cursor, now=now)
            yield from page.rows
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def iter_chunks(
        self, filters: LogFilter, select: str, *, chunk: int = 2000
    ) -> Iterator[list[tuple[Any, ...]]]:
        """``select`` (SQL over ``action_log a`` starting with ``a.id, a.created_at``) of every
        matching row, newest first, as lists of up to ``chunk`` tuples, each list its own short
        read: for exports, which format a chunk at a time."""
        query = LogQuery(filters, datetime.now(UTC))  # one "now": a relative range holds still
        cursor: Cursor | None = None
        while True:
            sql, args = query.page(cursor, chunk, select=select)
            with self._db.read() as db:
                rows = db.conn.execute(sql, args).fetchall()
            if rows[:chunk]:
                yield rows[:chunk]
            if len(rows) <= chunk:
                return
            cursor = Cursor(rows[chunk - 1][1], rows[chunk - 1][0])


def _write_plan(db: Any, run: Run, lease_owner: str, lease_until: float | None) -> None:
    for attempt in run.attempts:
        if attempt.retry_of is not None:
            _refuse_second_replay(db, attempt.retry_of)
    row = _run_row(run)
    if lease_owner:
        row |= {"lease_owner": lease_owner, "lease_until": lease_until}
    _insert(db, "runs", row)
    for attempt in run.attempts:
        attempt.log_id = _insert(db, "action_log", _attempt_row(attempt, run))


def _refuse_second_replay(db: Any, row_id: int) -> None:
    marks = ", ".join("?" * len(_REPLAY_BLOCKERS))
    found = db.execute(
        f"SELECT id, status FROM action_log WHERE retry_of = ? AND status IN ({marks}) "
        "ORDER BY id LIMIT 1",
        [row_id, *_REPLAY_BLOCKERS],
    ).fetchone()
    if found:
        raise AlreadyReplayed(row_id, int(found[0]), str(found[1]))


def _distinct(db: Any, column: str) -> list[Any]:
    """Distinct values of an indexed column by a loose index scan: one seek per value."""
    rows = db.execute(
        f"WITH RECURSIVE v(x) AS (SELECT min({column}) FROM action_log UNION ALL "
        f"SELECT (SELECT min({column}) FROM action_log WHERE {column} > v.x) FROM v "
        "WHERE v.x IS NOT NULL) SELECT x FROM v WHERE x IS NOT NULL"
    ).fetchall()
    return [row[0] for row in rows]


def _attempts_of(db: Any, run_ids: list[str]) -> dict[str, list[Attempt]]:
    found: dict[str, list[Attempt]] = {run_id: [] for run_id in run_ids}
    for start in range(0, len(run_ids), 500):
        chunk = run_ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        for row in db.query(
            f"SELECT * FROM action_log WHERE run_id IN ({marks}) ORDER BY id", chunk
        ):
            found[row["run_id"]].append(_attempt_from(_parsed(dict(row))))
    return found


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
        "refusal": run.refusal or None,
        "definition": _dump(run.definition) if run.definition else None,
        "idempotency_key": run.idempotency_key or None,
        "next_at": run.next_at,
        "dry_run": int(run.dry_run),
        "contact": _dump({"payload": run.contact, "mapped": run.mapped}),
        "job_id": run.job_id or None,
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
    contact = json.loads(row.get("contact") or "{}")
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
        contact=contact.get("payload") or {},
        mapped=contact.get("mapped") or {},
        job_id=row.get("job_id") or "",
        status=RunStatus(row["status"]),
        contact_email=row.get("contact_email") or "",
        contact_id=row.get("contact_id") or "",
        started_at=row.get("started_at") or "",
        finished_at=row.get("finished_at") or "",
        refusal=row.get("refusal") or "",
        idempotency_key=row.get("idempotency_key") or "",
        definition=json.loads(row.get("definition") or "{}"),
        next_at=row.get("next_at"),
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
        "retry_of": attempt.retry_of,
        "job_id": attempt.job_id or None,
        "verify_after": attempt.verify_after,
        "action": _dump(
            {
                "type": attempt.action_type.value,
                "params": attempt.params,
                "on_error": attempt.on_error.value,
            }
        ),
    }


def _parsed(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for key in _JSON_COLUMNS:
        out[key] = json.loads(out[key]) if out.get(key) else None
    return out


def _attempt_from(row: dict[str, Any]) -> Attempt:
    action_type = ActionType(row["action_type"])
    evidence = row.get("evidence")
    action = row.get("action") or _action_before_m011(action_type, row)
    return Attempt(
        run_id=row["run_id"],
        position=int(row.get("position") or 0),
        action_type=action_type,
        label=REGISTRY[action_type].label,
        target_id=row.get("target_id") or "",
        target_name=row.get("target_name") or "",
        params=dict(action.get("params") or {}),
        on_error=ErrorBehaviour(action.get("on_error") or ErrorBehaviour.STOP),
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
        retry_of=row.get("retry_of"),
        job_id=row.get("job_id") or "",
        verify_after=row.get("verify_after"),
    )


def _action_before_m011(action_type: ActionType, row: dict[str, Any]) -> dict[str, Any]:
    """The configuration of a row logged before it was stored: the target from its columns,
    options at their defaults."""
    spec = REGISTRY[action_type]
    params: dict[str, str] = {}
    for param in spec.params[:1]:
        params[param.id_key] = row.get("target_id") or ""
        params[param.name_key] = row.get("target_name") or ""
    return {"params": params}
