"""The console's one SQLite file: connections, pragmas, migrations, and the single writer.

Every Streamlit session is a thread, and CLI processes, workers and benchmarks run beside the
dashboard on the same file, so:

* WAL: readers never block the writer;
* a busy timeout: a second process waits for the write lock instead of failing at once;
* every write is one ``BEGIN IMMEDIATE`` transaction: the write lock is taken before the first
  read, so a read-then-write (a claim, a budget slot, seeding the demo prompts) is atomic across
  processes and never fails half-way with "database is locked" on a lock upgrade;
* one connection per operation at a time, from a small pool (closing the last connection to a
  WAL file checkpoints it, which made every log write cost ~1 ms instead of ~0.05 ms), and one
  process-wide lock around writes so threads queue here rather than in SQLite's busy handler;
* migrations applied under that same write lock, so any number of processes may open a fresh
  file at once.

Connections run in autocommit mode (``isolation_level=None``); ``write()`` owns the transaction,
and sqlite-utils calls made inside it nest as savepoints.

``Database`` is thread-safe and meant to be shared by all sessions of a process.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils
from sqlite_utils import Migrations

from connector.core.errors import StorageError
from connector.store.files import private_sqlite
from connector.store.sqlite import retry_while_locked

__all__ = [
    "BUSY_TIMEOUT_SECONDS",
    "LOG_FILTER_COLUMNS",
    "RUN_FILTER_COLUMNS",
    "SEARCHED_COLUMNS",
    "Database",
]

BUSY_TIMEOUT_SECONDS = 10.0

migrations = Migrations("connector")


@migrations()
def m001_settings(db: sqlite_utils.Database) -> None:
    db.table("settings").create({"key": str, "value": str, "updated_at": str}, pk="key")


@migrations()
def m002_prompts(db: sqlite_utils.Database) -> None:
    db.table("prompts").create(
        {
            "id": int,
            "name": str,
            "prompt_type": str,
            "definition": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
    )
    db.table("prompts").create_index(["name"], unique=True)


@migrations()
def m003_catalog(db: sqlite_utils.Database) -> None:
    # One row per catalog item per account; ``data`` keeps the API's object for the detail view.
    db.table("catalog").create(
        {"account": str, "kind": str, "id": str, "name": str, "data": str},
        pk=("account", "kind", "id"),
    )
    db.table("catalog_refresh").create(
        {"account": str, "kind": str, "refreshed_at": str, "total": int},
        pk=("account", "kind"),
    )


@migrations()
def m004_action_log(db: sqlite_utils.Database) -> None:
    db.table("action_log").create(
        {
            "id": int,
            "run_id": str,
            "prompt_id": int,
            "prompt_name": str,
            "interaction": str,
            "action_type": str,
            "position": int,
            "target_id": str,
            "target_name": str,
            "contact_email": str,
            "contact_id": str,
            "status": str,
            "http_status": int,
            "attempts": int,
            "duration_ms": float,
            "request": str,
            "response": str,
            "error": str,
            "operator": str,
            "source": str,
            "account": str,
            "created_at": str,
            "finished_at": str,
        },
        pk="id",
        not_null={"run_id", "action_type", "status", "created_at"},
    )
    log = db.table("action_log")
    # Newest-first pages are keyset scans on id; each filter gets an index that ends in id so a
    # filtered page stays an index walk (measured: 0.2 ms vs 180 ms on 1M rows).
    log.create_index(["created_at"])
    for column in ("status", "action_type", "prompt_id", "interaction", "contact_email"):
        log.create_index([column, "id"])
    log.create_index(["run_id"])


@migrations()
def m005_action_log_last_error(db: sqlite_utils.Database) -> None:
    # Why an action needed more than one attempt, even when it finally succeeded.
    db.table("action_log").add_column("last_error", str)


@migrations()
def m006_runs(db: sqlite_utils.Database) -> None:
    # One row per interaction of one user, also when it carried no action or was refused; the
    # owner (host, pid, process start) tells whether a pending run's process is still alive.
    db.table("runs").create(
        {
            "run_id": str,
            "prompt_id": int,
            "prompt_name": str,
            "interaction": str,
            "user_id": str,
            "traits": str,
            "inputs": str,
            "input_errors": str,
            "dry_run": int,
            "status": str,
            "contact_email": str,
            "contact_id": str,
            "operator": str,
            "source": str,
            "account": str,
            "owner_host": str,
            "owner_pid": int,
            "owner_started": float,
            "started_at": str,
            "finished_at": str,
        },
        pk="run_id",
        not_null={"status", "started_at"},
    )
    runs = db.table("runs")
    runs.create_index(["status", "started_at"])
    runs.create_index(["started_at"])


@migrations()
def m007_attempt_record(db: sqlite_utils.Database) -> None:
    # The whole attempt: its plan, the checks with their exchanges, every try, the evidence.
    log = db.table("action_log")
    for column in ("reason_code", "planned", "checks", "tries", "evidence"):
        log.add_column(column, str)


@migrations()
def m008_claims(db: sqlite_utils.Database) -> None:
    # Held while an action acts on one contact and target, so no two threads or processes
    # act on the same target at once.
    db.table("claims").create(
        {
            "account": str,
            "contact": str,
            "action_type": str,
            "target_id": str,
            "run_id": str,
            "owner_host": str,
            "owner_pid": int,
            "owner_started": float,
            "claimed_at": str,
        },
        pk=("account", "contact", "action_type", "target_id"),
    )


@migrations()
def m009_request_budget(db: sqlite_utils.Database) -> None:
    # Request slots per account in the last window, and 429 holds: one budget per account
    # for every process on this data file. Slot ids only grow (AUTOINCREMENT): they are the
    # order in which requests queued.
    db.execute(
        "CREATE TABLE request_starts (id INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT, "
        "started FLOAT)"
    )
    db.table("request_starts").create_index(["account", "started"])
    db.table("request_holds").create({"account": str, "until": float}, pk="account")


@migrations()
def m010_prompt_name_key(db: sqlite_utils.Database) -> None:
    # Names are unique whatever their case and spacing: "Newsletter" and " newsletter " are one.
    from connector.engage.prompts import name_key  # the one definition of "the same name"

    db.table("prompts").add_column("name_key", str)
    taken: set[str] = set()
    for prompt_id, name in db.execute("SELECT id, name FROM prompts ORDER BY id").fetchall():
        key, label, n = name_key(name), name.strip(), 1
        while key in taken:  # an older duplicate by case: keep both, tell them apart
            n += 1
            label = f"{name.strip()} ({n})"
            key = name_key(label)
        taken.add(key)
        db.execute(
            "UPDATE prompts SET name = ?, name_key = ? WHERE id = ?", [label, key, prompt_id]
        )
    db.table("prompts").create_index(["name_key"], unique=True)


# Filters the log page offers on action rows and on runs: each gets an index ending in the
# row's time, so a filtered page is an index walk in the log's order (newest first).
LOG_FILTER_COLUMNS = (
    "status",
    "action_type",
    "prompt_id",
    "interaction",
    "account",
    "operator",
    "source",
    "contact_email",
)
RUN_FILTER_COLUMNS = (
    "status",
    "prompt_id",
    "interaction",
    "account",
    "operator",
    "source",
    "contact_email",
)
SEARCHED_COLUMNS = ("contact_email", "target_name", "prompt_name", "error", "last_error")


@migrations()
def m011_audit_trail(db: sqlite_utils.Database) -> None:
    """The log as an audit trail: replays linked to what they retry, the action's whole
    configuration (to replay it), the run's contact payload, indexes for every filter,
    full-text search, configuration changes, and replay jobs."""
    log, runs = db.table("action_log"), db.table("runs")
    log.add_column("retry_of", int)
    log.add_column("job_id", str)
    log.add_column("action", str)  # the ActionConfig: type, params, error behaviour
    runs.add_column("contact", str)  # the /contact/sync payload the run computed
    runs.add_column("job_id", str)
    for table in ("action_log", "runs"):
        for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL",
            [table],
        ).fetchall():
            db.execute(f"DROP INDEX {name}")
    # Pages are ordered by (created_at, id); an index on (column, created_at) ends in the
    # rowid, so it serves the filter and the order at once.
    log.create_index(["created_at"])
    for column in LOG_FILTER_COLUMNS:
        log.create_index([column, "created_at"])
    log.create_index(["run_id"])
    log.create_index(["retry_of"])
    log.create_index(["job_id"])
    runs.create_index(["started_at"])
    for column in RUN_FILTER_COLUMNS:
        runs.create_index([column, "started_at"])
    runs.create_index(["job_id"])
    # Full text over what an operator remembers: the email, the target, the prompt, the error.
    # External content: the text lives once, in action_log; triggers keep the index current.
    columns = ", ".join(SEARCHED_COLUMNS)
    old = ", ".join(f"old.{c}" for c in SEARCHED_COLUMNS)
    new = ", ".join(f"new.{c}" for c in SEARCHED_COLUMNS)
    db.execute(
        f"CREATE VIRTUAL TABLE log_search USING fts5({columns}, content='action_log', "
        "content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
    )
    db.execute(
        "CREATE TRIGGER log_search_insert AFTER INSERT ON action_log BEGIN "
        f"INSERT INTO log_search (rowid, {columns}) VALUES (new.id, {new}); END"
    )
    db.execute(
        "CREATE TRIGGER log_search_delete AFTER DELETE ON action_log BEGIN "
        f"INSERT INTO log_search (log_search, rowid, {columns}) "
        f"VALUES ('delete', old.id, {old}); END"
    )
    db.execute(
        f"CREATE TRIGGER log_search_update AFTER UPDATE OF {columns} ON action_log BEGIN "
        f"INSERT INTO log_search (log_search, rowid, {columns}) "
        f"VALUES ('delete', old.id, {old}); "
        f"INSERT INTO log_search (rowid, {columns}) VALUES (new.id, {new}); END"
    )
    db.execute("INSERT INTO log_search (log_search) VALUES ('rebuild')")
    # Who changed the configuration, when, and what: before and after, never the key.
    db.table("audit_events").create(
        {
            "id": int,
            "at": str,
            "operator": str,
            "source": str,
            "kind": str,
            "subject": str,
            "summary": str,
            "before": str,
            "after": str,
        },
        pk="id",
        not_null={"at", "kind"},
    )
    db.table("audit_events").create_index(["at"])
    # A bulk replay and the rows it was asked to replay, in order, each with what became of
    # it: replayed (the new row), refused (why), or still queued.
    db.table("replay_jobs").create(
        {
            "job_id": str,
            "created_at": str,
            "operator": str,
            "source": str,
            "account": str,
            "description": str,
            "dry_run": int,
            "total": int,
            "status": str,
            "owner_host": str,
            "owner_pid": int,
            "owner_started": float,
            "started_at": str,
            "finished_at": str,
            "error": str,
        },
        pk="job_id",
        not_null={"created_at", "status"},
    )
    db.table("replay_jobs").create_index(["status", "created_at"])
    db.table("replay_items").create(
        {
            "job_id": str,
            "position": int,
            "row_id": int,
            "state": str,
            "replay_row_id": int,
            "outcome": str,
            "note": str,
        },
        pk=("job_id", "position"),
        not_null={"state"},
    )
    db.table("replay_items").create_index(["job_id", "state"])


@migrations()
def m012_chart_indexes(db: sqlite_utils.Database) -> None:
    """Indexes for the log page's charts (``log_charts``): each chart reads one index alone,
    never a 7 KB row, at a million rows. ``log_charts`` names them and repeats the partial
    indexes' conditions word for word (SQLite uses a partial index only for a query that
    states its condition)."""
    # Counts per day, action type and status, for any time range and any filter but the
    # selective ones: the day first, so a GROUP BY on it streams in index order (no sort).
    db.execute(
        "CREATE INDEX idx_action_log_chart_day ON action_log (substr(created_at, 1, 10), "
        "action_type, status, created_at, attempts, duration_ms, account, operator, source, "
        "interaction, prompt_id)"
    )
    # Durations of the actions that were sent and finished, in order per action type: a
    # percentile is one step to its rank (LIMIT 1 OFFSET k), not a sort.
    db.execute(
        "CREATE INDEX idx_action_log_chart_latency ON action_log (action_type, duration_ms, "
        "status, attempts, created_at, account, operator, source, interaction, prompt_id) "
        "WHERE attempts > 0 AND status NOT IN ('pending', 'interrupted')"
    )
    # The error sentences of what failed (a few percent of the log), with their time.
    db.execute(
        "CREATE INDEX idx_action_log_chart_errors ON action_log (status, created_at, error, "
        "action_type, account, operator, source, interaction, prompt_id) "
        "WHERE status IN ('failed', 'unknown', 'interrupted')"
    )
    # A file whose log was analysed gets statistics for the new indexes too (sampled, as
    # Database.keep_statistics does), so no plan meets an index it knows nothing about.
    if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone():
        db.execute("PRAGMA analysis_limit = 1000")
        db.execute("ANALYZE action_log")


@migrations()
def m013_durable_runs(db: sqlite_utils.Database) -> None:
    """Runs that survive anything: a run keeps the prompt it was submitted with, why intake
    refused it, its idempotency key, and a lease (owner, expiry) instead of a process id;
    ``next_at`` says when a worker should take it up. An attempt awaiting the verification of
    a lost answer keeps when that check is due. Claims and replay jobs are leased too."""
    runs = db.table("runs")
    for column, kind in (
        ("definition", str),
        ("refusal", str),
        ("idempotency_key", str),
        ("lease_owner", str),
        ("lease_until", float),
        ("next_at", float),
    ):
        runs.add_column(column, kind)
    db.execute(
        "CREATE UNIQUE INDEX idx_runs_idempotency_key ON runs (idempotency_key) "
        "WHERE idempotency_key IS NOT NULL"
    )
    # The worker's question, "which open run is due?", is a walk of this small partial index.
    db.execute("CREATE INDEX idx_runs_due ON runs (next_at) WHERE status = 'pending'")
    # Open runs left by the process-id era are due now: a worker resumes them.
    db.execute("UPDATE runs SET next_at = 0 WHERE status = 'pending'")
    db.table("action_log").add_column("verify_after", float)
    for table in ("claims", "replay_jobs"):
        db.table(table).add_column("lease_owner", str)
        db.table(table).add_column("lease_until", float)


@migrations()
def m014_lease_owners(db: sqlite_utils.Database) -> None:
    """The heartbeat renews every lease of its owners every few seconds: an index walk over the
    few leased rows, not a scan of every run ever logged."""
    for table in ("runs", "claims", "replay_jobs"):
        db.execute(
            f"CREATE INDEX idx_{table}_lease_owner ON {table} (lease_owner) "
            "WHERE lease_owner IS NOT NULL"
        )


class Database:
    """The SQLite file at ``path`` (created with its parents on first use). Thread-safe."""

    def __init__(
        self,
        path: str | Path,
        *,
        pool_size: int = 8,
        busy_timeout: float = BUSY_TIMEOUT_SECONDS,
    ) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._write_lock = threading.RLock()
        self._stats_lock = threading.Lock()
        self._stats_checked = -float("inf")
        self._scrub_pending = False
        self._idle: queue.LifoQueue[sqlite_utils.Database] = queue.LifoQueue(maxsize=pool_size)
        try:
            private_sqlite(self.path)  # owner-only before SQLite creates its WAL beside it
        except OSError as exc:
            raise self._failure(exc) from None
        with self._connection() as db:
            # Switching a new file to WAL answers "locked" at once (no busy handler) while
            # another process opens it too: wait for that like for any other lock.
            retry_while_locked(
                lambda: db.execute("PRAGMA journal_mode=WAL").fetchone(), self.busy_timeout
            )
            pending = bool(migrations.pending(db))
        if pending:
            with self.write() as db:
                migrations.apply(db)  # checks again under the lock: another process may have

    def keep_statistics(self, *, every: float = 60.0) -> None:
        """Give the query planner current statistics (``ANALYZE`` on a sample) when they are
        missing or the log has doubled since; checked at most once per ``every`` seconds per
        process. Without them SQLite picked the status index for a time range (0.76 s instead
        of 45 ms on 1M rows). Skipped, not waited for, when another process holds the lock."""
        now = time.monotonic()
        with self._stats_lock:
            if now - self._stats_checked < every:
                return
            self._stats_checked = now
        try:
            with self.read() as db:
                rows = db.execute("SELECT max(id) FROM action_log").fetchone()[0] or 0
                analysed = _analysed_rows(db, "action_log")
            if analysed is not None and rows <= 2 * analysed + 1000:
                return
            with self.write(patience=0.2) as db:
                db.execute("PRAGMA analysis_limit = 1000")
                db.execute("ANALYZE")
        except StorageError:
            return

    def _failure(self, exc: Exception) -> StorageError:
        return StorageError(
            f"The console's data file {self.path} can't be used: {exc}. Check that its folder "
            "is writable and the disk has room (or that no other program holds it locked), or "
            "point CONNECTOR_DB at another file.",
            detail=f"{type(exc).__name__}: {exc}",
        )

    def _open(self) -> sqlite_utils.Database:
        conn = sqlite3.connect(
            self.path, timeout=self.busy_timeout, check_same_thread=False, isolation_level=None
        )
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        conn.execute("PRAGMA synchronous = NORMAL")
        # Deleted and overwritten content is zeroed, not left in free space: a replaced API key
        # and the emails of deleted log rows leave the file.
        conn.execute("PRAGMA secure_delete = ON")
        return sqlite_utils.Database(conn)

    @contextmanager
    def _connection(self) -> Iterator[sqlite_utils.Database]:
        try:
            db = self._idle.get_nowait()
        except queue.Empty:
            try:
                db = self._open()
            except sqlite3.Error as exc:
                raise self._failure(exc) from None
        try:
            yield db
        except (sqlite3.IntegrityError, sqlite3.ProgrammingError):
            raise  # a constraint the caller handles, or a bug: not the file's fault
        except sqlite3.DatabaseError as exc:
            # Locked past the busy timeout, disk full, read-only or corrupt file: say so.
            raise self._failure(exc) from exc
        finally:
            self._release(db)

    def _release(self, db: sqlite_utils.Database) -> None:
        """Back to the pool, never with an open transaction; a connection that can't roll back
        is closed instead."""
        try:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            self._idle.put_nowait(db)
        except (sqlite3.Error, queue.Full):
            db.close()

    def close(self) -> None:
        """Close the pooled connections; the database stays usable and reopens on demand."""
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return

    def checkpoint(self, *, wait: float = 2.0) -> bool:
        """Copy the WAL into the file and truncate it to nothing, so a value just overwritten
        (a rotated key) is in no file any more. Waits up to ``wait`` seconds for readers of an
        older snapshot (a long export, another process); when they outlast it, returns False
        and the next write of this process tries again, until it succeeds."""
        deadline = time.monotonic() + wait
        while True:
            with self._write_lock, self._connection() as db:
                done = _truncate_wal(db)
            if done or time.monotonic() >= deadline:
                self._scrub_pending = not done
                return done
            time.sleep(0.05)

    @property
    def scrub_pending(self) -> bool:
        """Whether a checkpoint asked for is still to be done (see ``checkpoint``)."""
        return self._scrub_pending

    @contextmanager
    def read(self) -> Iterator[sqlite_utils.Database]:
        """A connection for reads; never blocks on the writer (WAL)."""
        with self._connection() as db:
            yield db

    @contextmanager
    def write(self, *, patience: float | None = None) -> Iterator[sqlite_utils.Database]:
        """The one writer: a process-wide lock and one ``BEGIN IMMEDIATE`` transaction,
        committed on exit and rolled back on any exception. ``patience`` waits less than the
        busy timeout for another process's lock, for writes that can be left for later."""
        with self._write_lock, self._connection() as db:
            if patience is not None:
                db.conn.execute(f"PRAGMA busy_timeout = {int(patience * 1000)}")
            try:
                db.conn.execute("BEGIN IMMEDIATE")
                yield db
                db.conn.execute("COMMIT")
                if self._scrub_pending:
                    self._scrub_pending = not _truncate_wal(db)
            finally:
                if patience is not None:
                    db.conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")


def _truncate_wal(db: sqlite_utils.Database) -> bool:
    """One TRUNCATE checkpoint that waits for no one: True when the WAL is now empty."""
    timeout = db.execute("PRAGMA busy_timeout").fetchone()[0]
    db.execute("PRAGMA busy_timeout = 50")  # the checkpoint itself waits on readers with it
    try:
        busy = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    except sqlite3.OperationalError:  # another process writing right now
        busy = 1
    finally:
        db.execute(f"PRAGMA busy_timeout = {timeout}")
    return not busy


def _analysed_rows(db: sqlite_utils.Database, table: str) -> int | None:
    """How many rows ``table`` had when ANALYZE last ran, None if it never did."""
    try:
        row = db.execute(
            "SELECT stat FROM sqlite_stat1 WHERE tbl = ? AND idx IS NOT NULL LIMIT 1", [table]
        ).fetchone()
    except sqlite3.OperationalError:  # no sqlite_stat1: ANALYZE never ran on this file
        return None
    return int(row[0].split()[0]) if row else None
