"""The sandbox account's state in SQLite: schema, seeding, and every query the routes need.

Several OS processes (the Streamlit dashboard, CLI commands, test processes) may open the same
file at once, each with its own ``Sandbox``. So a file is opened in WAL mode (readers never block
the writer) with a busy timeout (``busy_timeout`` seconds, 10 by default: how long a writer waits
for another process's transaction before ``sqlite3.OperationalError: database is locked``), and the
connection runs with ``isolation_level=None`` so that transactions are ours alone:
``Store.transaction()`` is ``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on any exception). The
write lock is thus taken up front, and a handler's read-then-write (``enroll`` checking
``has_entered`` before inserting) is atomic across processes, not just across threads.

Opening is safe when N processes open a fresh file at once: the schema is created with ``IF NOT
EXISTS`` inside an immediate transaction, and ``ensure_seeded`` checks for the seed and writes it
in one immediate transaction, so the seed is written exactly once and never over data another
process already wrote. ``seed()`` (what ``Sandbox.reset()`` calls) replaces everything
unconditionally. An in-memory store (``path=None``) is private to its connection.

Within one process the connection is opened with ``check_same_thread=False`` because the HTTP
server calls in from many threads; the caller (``Sandbox``) serialises access with its lock, so the
connection is never used by two threads at once. Ids are stored as integers and flags as integers;
turning them into the API's strings is the serialisers' job (``shapes.py``), not the database's.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict
from pathlib import Path

from connector.store.files import private_sqlite
from connector.store.sqlite import retry_while_locked

from .seed import SeedSpec, build

SCHEMA_VERSION = "1"
MAX_ID = 2**63 - 1  # SQLite INTEGER range: larger ids cannot exist
DEFAULT_BUSY_TIMEOUT = 10.0  # seconds a writer waits for another process's transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS sandbox_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS lists (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, stringid TEXT NOT NULL, sender_url TEXT,
    sender_reminder TEXT, cdate TEXT NOT NULL, udate TEXT);
CREATE TABLE IF NOT EXISTS automations (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, status INTEGER NOT NULL,
    multientry INTEGER NOT NULL, entered INTEGER NOT NULL, exited INTEGER NOT NULL,
    blocks INTEGER NOT NULL, cdate TEXT NOT NULL, mdate TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS fields (
    id INTEGER PRIMARY KEY, title TEXT NOT NULL, type TEXT NOT NULL, perstag TEXT NOT NULL,
    descript TEXT, isrequired INTEGER NOT NULL, defval TEXT, ordernum INTEGER NOT NULL,
    cdate TEXT NOT NULL, udate TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS field_options (
    id INTEGER PRIMARY KEY, field_id INTEGER NOT NULL, orderid INTEGER NOT NULL,
    value TEXT NOT NULL, label TEXT NOT NULL, isdefault INTEGER NOT NULL, cdate TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS field_rels (
    id INTEGER PRIMARY KEY, field_id INTEGER NOT NULL, relid INTEGER NOT NULL,
    dorder INTEGER NOT NULL, cdate TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tags (
    id INTEGER PRIMARY KEY, tag TEXT NOT NULL, tag_type TEXT NOT NULL, description TEXT NOT NULL,
    cdate TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS contacts (
    id INTEGER PRIMARY KEY, email TEXT NOT NULL, email_key TEXT NOT NULL UNIQUE,
    first_name TEXT NOT NULL, last_name TEXT NOT NULL, phone TEXT NOT NULL, hash TEXT NOT NULL,
    cdate TEXT NOT NULL, udate TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS field_values (
    id INTEGER PRIMARY KEY, contact_id INTEGER NOT NULL, field_id INTEGER NOT NULL, value TEXT,
    cdate TEXT NOT NULL, udate TEXT NOT NULL, UNIQUE (contact_id, field_id));
CREATE TABLE IF NOT EXISTS contact_lists (
    id INTEGER PRIMARY KEY, contact_id INTEGER NOT NULL, list_id INTEGER NOT NULL,
    status INTEGER NOT NULL, sourceid INTEGER NOT NULL, sdate TEXT, udate TEXT,
    created TEXT NOT NULL, updated TEXT NOT NULL, UNIQUE (contact_id, list_id));
CREATE TABLE IF NOT EXISTS contact_automations (
    id INTEGER PRIMARY KEY, contact_id INTEGER NOT NULL, automation_id INTEGER NOT NULL,
    status INTEGER NOT NULL, adddate TEXT NOT NULL, remdate TEXT, lastblock INTEGER NOT NULL,
    lastdate TEXT NOT NULL, completed_elements INTEGER NOT NULL, total_elements INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS contact_automations_by_contact
    ON contact_automations (contact_id, automation_id);
CREATE TABLE IF NOT EXISTS contact_tags (
    id INTEGER PRIMARY KEY, contact_id INTEGER NOT NULL, tag_id INTEGER NOT NULL,
    cdate TEXT NOT NULL, UNIQUE (contact_id, tag_id));
"""

# Seeding and wiping walk the tables in this order (SeedData's fields carry the same names).
TABLES = (
    "lists",
    "automations",
    "fields",
    "field_options",
    "field_rels",
    "tags",
    "contacts",
    "field_values",
    "contact_lists",
    "contact_automations",
    "contact_tags",
)

# Text filter operators of the API (`filters[name][contains]=...`), as SQL. LIKE is
# case-insensitive for ASCII in SQLite, which matches the live API's MySQL collation closely enough.
TEXT_OPERATORS = {
    "eq": "{col} = ? COLLATE NOCASE",
    "neq": "{col} <> ? COLLATE NOCASE",
    "lt": "{col} < ? COLLATE NOCASE",
    "lte": "{col} <= ? COLLATE NOCASE",
    "gt": "{col} > ? COLLATE NOCASE",
    "gte": "{col} >= ? COLLATE NOCASE",
    "contains": "{col} LIKE ? ESCAPE '\\'",
    "starts_with": "{col} LIKE ? ESCAPE '\\'",
}

# SCHEMA one statement at a time, to run inside our own transaction (``executescript`` would
# commit it). No statement contains a semicolon of its own.
SCHEMA_STATEMENTS = tuple(part.strip() for part in SCHEMA.split(";") if part.strip())

TextFilter = tuple[str, str]  # (operator from TEXT_OPERATORS, value)
Page = tuple[list[sqlite3.Row], int]  # rows of one page, total matching rows


def connect(
    path: str | Path | None, busy_timeout: float = DEFAULT_BUSY_TIMEOUT
) -> sqlite3.Connection:
    """A connection shared safely with other processes: for a file, WAL mode and a busy timeout
    of ``busy_timeout`` seconds; ``isolation_level=None`` always, so transactions are explicit
    (``immediate``). ``path=None``: a private in-memory database."""
    if path is None:
        return sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    private_sqlite(Path(path))  # owner-only, like the console's own file beside it
    conn = sqlite3.connect(
        str(path), timeout=busy_timeout, check_same_thread=False, isolation_level=None
    )
    try:
        # Changing the journal mode needs a moment of exclusive access: when N processes open a
        # fresh file at once, one may find the others mid-change. WAL is persistent, so once one
        # of them has switched the file, the others' PRAGMA is a no-op.
        retry_while_locked(
            lambda: conn.execute("PRAGMA journal_mode = WAL").fetchone(), busy_timeout
        )
        conn.execute("PRAGMA synchronous = NORMAL")  # safe in WAL mode; no fsync per commit
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` (the write lock first, waiting up to the busy timeout for it), then
    ``COMMIT``; ``ROLLBACK`` on any exception, including a failed commit."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            with suppress(sqlite3.Error):  # the original error says more than a failed rollback
                conn.execute("ROLLBACK")
        raise


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class Where:
    """A small WHERE-clause builder, so optional filters never need string surgery."""

    def __init__(self) -> None:
        self.clauses: list[str] = []
        self.params: list[object] = []

    def add(self, clause: str, *params: object) -> None:
        self.clauses.append(clause)
        self.params.extend(params)

    def text(self, column: str, text_filter: TextFilter | None) -> None:
        if text_filter is None:
            return
        op, value = text_filter
        if op == "contains":
            value = f"%{_like(value)}%"
        elif op == "starts_with":
            value = f"{_like(value)}%"
        self.add(TEXT_OPERATORS[op].format(col=column), value)

    def sql(self) -> str:
        return f" WHERE {' AND '.join(self.clauses)}" if self.clauses else ""


class Store:
    """The persistence of one sandbox account. Not thread-safe by itself: see module docstring."""

    def __init__(
        self, path: str | Path | None, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT
    ) -> None:
        self.path = None if path is None else Path(path)
        self.busy_timeout = busy_timeout
        self.conn = connect(path, busy_timeout)
        try:
            self.conn.row_factory = sqlite3.Row
            # IF NOT EXISTS under the write lock: concurrent first opens take turns, and the
            # later ones find the tables already there.
            with self.transaction():
                for statement in SCHEMA_STATEMENTS:
                    self.conn.execute(statement)
        except BaseException:
            self.conn.close()
            raise

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One request = one transaction: ``BEGIN IMMEDIATE`` (so a read-then-write cannot
        interleave with another process's), ``COMMIT`` on success, ``ROLLBACK`` on any exception.
        Waits up to ``busy_timeout`` seconds for another process's transaction to finish."""
        with immediate(self.conn):
            yield

    # -- seeding ---------------------------------------------------------------------------

    def is_seeded(self) -> bool:
        return self._meta("seed") is not None

    def ensure_seeded(self, spec: SeedSpec) -> bool:
        """Seed with ``spec`` unless the account was already seeded (by this or any other
        process); True if this call seeded it. Check and seed are one immediate transaction, so
        processes opening a fresh file at once write the seed exactly once."""
        with self.transaction():
            if self.is_seeded():
                return False
            self._replace_with_seed(spec)
            return True

    def seed(self, spec: SeedSpec) -> None:
        """Replace all account data with the seed for ``spec``, unconditionally (``reset()``)."""
        with self.transaction():
            self._replace_with_seed(spec)

    def _replace_with_seed(self, spec: SeedSpec) -> None:
        data = build(spec)
        for table in TABLES:
            self.conn.execute(f"DELETE FROM {table}")
        for table in TABLES:
            self._insert_many(table, getattr(data, table))
        self._set_meta("seed", json.dumps(asdict(spec)))
        self._set_meta("schema_version", SCHEMA_VERSION)

    def _insert_many(self, table: str, rows: Sequence[tuple[object, ...]]) -> None:
        if rows:
            marks = ", ".join("?" * len(rows[0]))
            self.conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)

    def _meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM sandbox_meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO sandbox_meta VALUES (?, ?)", (key, value))

    # -- generic helpers -------------------------------------------------------------------

    def _page(self, table: str, where: Where, limit: int, offset: int) -> Page:
        total = self.conn.execute(f"SELECT count(*) FROM {table}{where.sql()}", where.params)
        rows = self.conn.execute(
            f"SELECT * FROM {table}{where.sql()} ORDER BY id LIMIT ? OFFSET ?",
            [*where.params, limit, offset],
        )
        return rows.fetchall(), int(total.fetchone()[0])

    def _by_id(self, table: str, ident: int) -> sqlite3.Row | None:
        if not 0 <= ident <= MAX_ID:  # sqlite3 would raise OverflowError binding it
            return None
        row: sqlite3.Row | None = self.conn.execute(
            f"SELECT * FROM {table} WHERE id = ?", (ident,)
        ).fetchone()
        return row

    def _delete_by_id(self, table: str, ident: int) -> bool:
        """Delete one row by id; False if there was none."""
        if not 0 <= ident <= MAX_ID:
            return False
        cursor = self.conn.execute(f"DELETE FROM {table} WHERE id = ?", (ident,))
        return cursor.rowcount > 0

    def _where_in(self, table: str, column: str, values: Iterable[int]) -> list[sqlite3.Row]:
        ids = list(values)
        if not ids:
            return []
        marks = ", ".join("?" * len(ids))
        sql = f"SELECT * FROM {table} WHERE {column} IN ({marks}) ORDER BY id"
        return self.conn.execute(sql, ids).fetchall()

    # -- catalog ---------------------------------------------------------------------------

    def lists_page(self, name: TextFilter | None, limit: int, offset: int) -> Page:
        where = Where()
        where.text("name", name)
        return self._page("lists", where, limit, offset)

    def list_by_id(self, ident: int) -> sqlite3.Row | None:
        return self._by_id("lists", ident)

    def automations_page(
        self, name: TextFilter | None, status: int | None, limit: int, offset: int
    ) -> Page:
        where = Where()
        where.text("name", name)
        if status is not None:
            where.add("status = ?", status)
        return self._page("automations", where, limit, offset)

    def automation_by_id(self, ident: int) -> sqlite3.Row | None:
        return self._by_id("automations", ident)

    def count_entered(self, automation_id: int) -> None:
        self.conn.execute(
            "UPDATE automations SET entered = entered + 1 WHERE id = ?", (automation_id,)
        )

    def fields_page(self, perstag: str | None, limit: int, offset: int) -> Page:
        where = Where()
        if perstag is not None:
            where.add("perstag = ? COLLATE NOCASE", perstag)
        return self._page("fields", where, limit, offset)

    def field_options(self, field_ids: Iterable[int]) -> list[sqlite3.Row]:
        return self._where_in("field_options", "field_id", field_ids)

    def field_rels(self, field_ids: Iterable[int]) -> list[sqlite3.Row]:
        return self._where_in("field_rels", "field_id", field_ids)

    def existing_field_ids(self, field_ids: Iterable[int]) -> set[int]:
        return {int(row["id"]) for row in self._where_in("fields", "id", field_ids)}

    def tags_page(self, search: TextFilter | None, limit: int, offset: int) -> Page:
        where = Where()
        where.text("tag", search)
        return self._page("tags", where, limit, offset)

    def tag_by_id(self, ident: int) -> sqlite3.Row | None:
        return self._by_id("tags", ident)

    def tag_subscriber_count(self, tag_id: int) -> int:
        row = self.conn.execute("SELECT count(*) FROM contact_tags WHERE tag_id = ?", (tag_id,))
        return int(row.fetchone()[0])

    # -- contacts --------------------------------------------------------------------------

    def contacts_page(self, email: str | None, search: str | None, limit: int, offset: int) -> Page:
        where = Where()
        if email is not None:
            where.add("email_key = ?", email.lower())
        if search:
            pattern = f"%{_like(search)}%"
            columns = ("email", "first_name", "last_name", "phone")
            either = " OR ".join(f"{column} LIKE ? ESCAPE '\\'" for column in columns)
            where.add(f"({either})", *([pattern] * len(columns)))
        return self._page("contacts", where, limit, offset)

    def contact_by_id(self, ident: int) -> sqlite3.Row | None:
        return self._by_id("contacts", ident)

    def contact_by_email(self, email: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.conn.execute(
            "SELECT * FROM contacts WHERE email_key = ?", (email.lower(),)
        ).fetchone()
        return row

    def insert_contact(self, email: str, names: dict[str, str], contact_hash: str, now: str) -> int:
        cursor = self.conn.execute(
            "INSERT INTO contacts (email, email_key, first_name, last_name, phone, hash, cdate, "
            "udate) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                email,
                email.lower(),
                names.get("first_name", ""),
                names.get("last_name", ""),
                names.get("phone", ""),
                contact_hash,
                now,
                now,
            ),
        )
        return int(cursor.lastrowid or 0)

    def update_contact(
        self, contact_id: int, names: dict[str, str], now: str, email: str | None = None
    ) -> None:
        """Set the given name/phone columns (and the email, when given) and ``udate``. The caller
        checks that no other contact has ``email``; the unique ``email_key`` backs that up."""
        columns = dict(names)
        if email is not None:
            columns.update(email=email, email_key=email.lower())
        assignments = [f"{column} = ?" for column in columns]
        self.conn.execute(
            f"UPDATE contacts SET {', '.join([*assignments, 'udate = ?'])} WHERE id = ?",
            [*columns.values(), now, contact_id],
        )

    def field_values_for(self, contact_id: int) -> list[sqlite3.Row]:
        return self._where_in("field_values", "contact_id", [contact_id])

    def upsert_field_value(
        self, contact_id: int, field_id: int, value: str | None, now: str
    ) -> None:
        self.conn.execute(
            "INSERT INTO field_values (contact_id, field_id, value, cdate, udate) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (contact_id, field_id) "
            "DO UPDATE SET value = excluded.value, udate = excluded.udate",
            (contact_id, field_id, value, now, now),
        )

    # -- list memberships ------------------------------------------------------------------

    def contact_lists_for(self, contact_id: int) -> list[sqlite3.Row]:
        return self._where_in("contact_lists", "contact_id", [contact_id])

    def contact_list(self, contact_id: int, list_id: int) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.conn.execute(
            "SELECT * FROM contact_lists WHERE contact_id = ? AND list_id = ?",
            (contact_id, list_id),
        ).fetchone()
        return row

    def upsert_contact_list(
        self, contact_id: int, list_id: int, status: int, sourceid: int, now: str
    ) -> sqlite3.Row:
        """Insert or update the (contact, list) row. ``sdate`` moves when the contact
        (re)subscribes, ``udate`` when it unsubscribes, so a read-back shows when each happened."""
        current = self.contact_list(contact_id, list_id)
        if current is None:
            unsubscribed = now if status == 2 else None
            self.conn.execute(
                "INSERT INTO contact_lists (contact_id, list_id, status, sourceid, sdate, udate, "
                "created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (contact_id, list_id, status, sourceid, now, unsubscribed, now, now),
            )
        elif current["status"] != status:
            sdate = now if status == 1 else current["sdate"]
            udate = now if status == 2 else current["udate"]
            self.conn.execute(
                "UPDATE contact_lists SET status = ?, sourceid = ?, sdate = ?, udate = ?, "
                "updated = ? WHERE id = ?",
                (status, sourceid, sdate, udate, now, current["id"]),
            )
        row = self.contact_list(contact_id, list_id)
        assert row is not None
        return row

    # -- automations and tags on a contact -------------------------------------------------

    def contact_automations_for(self, contact_id: int) -> list[sqlite3.Row]:
        return self._where_in("contact_automations", "contact_id", [contact_id])

    def has_entered(self, contact_id: int, automation_id: int) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM contact_automations WHERE contact_id = ? AND automation_id = ?",
            (contact_id, automation_id),
        ).fetchone()
        return row is not None

    def insert_contact_automation(
        self, contact_id: int, automation_id: int, blocks: int, now: str
    ) -> sqlite3.Row:
        """A fresh run: in progress, first block done."""
        cursor = self.conn.execute(
            "INSERT INTO contact_automations (contact_id, automation_id, status, adddate, remdate, "
            "lastblock, lastdate, completed_elements, total_elements) "
            "VALUES (?, ?, 1, ?, NULL, 1, ?, 1, ?)",
            (contact_id, automation_id, now, now, blocks),
        )
        row = self._by_id("contact_automations", int(cursor.lastrowid or 0))
        assert row is not None
        return row

    def delete_contact_automation(self, ident: int) -> bool:
        """Remove a run (the contact leaves the automation); False if there was none."""
        return self._delete_by_id("contact_automations", ident)

    def contact_tags_for(self, contact_id: int) -> list[sqlite3.Row]:
        return self._where_in("contact_tags", "contact_id", [contact_id])

    def add_contact_tag(self, contact_id: int, tag_id: int, now: str) -> sqlite3.Row:
        """Idempotent: a tag already on the contact keeps its original row."""
        self.conn.execute(
            "INSERT OR IGNORE INTO contact_tags (contact_id, tag_id, cdate) VALUES (?, ?, ?)",
            (contact_id, tag_id, now),
        )
        row: sqlite3.Row = self.conn.execute(
            "SELECT * FROM contact_tags WHERE contact_id = ? AND tag_id = ?", (contact_id, tag_id)
        ).fetchone()
        return row

    def delete_contact_tag(self, ident: int) -> bool:
        """Take a tag off its contact; False if there was no such contactTag."""
        return self._delete_by_id("contact_tags", ident)
