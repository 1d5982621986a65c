"""Traffic shaping for the sandbox: the account's request budget and scripted faults.

``Sandbox.handle`` consults these before authentication, as the live account-wide limiter would.
The budget is a sliding-window log (api.md §5: 5 requests per second per account): at most
``limit`` admitted requests in any ``window`` seconds; a refused request is told how long until a
slot frees and does not use one up.

Two logs, one behaviour:

* ``Budget`` keeps the admissions in memory, for a sandbox with no file (``Sandbox()``);
* ``SharedBudget`` keeps them in the sandbox's SQLite file (table ``sandbox_admissions``, on a
  connection of its own), so every ``Sandbox`` on that file, in any process, draws on one budget
  per account, as clients sharing a live account do. Each admission is one ``BEGIN IMMEDIATE``
  transaction that reads the clock (wall-clock ``time.time`` by default, injectable) only once it
  holds the file's write lock, so recorded times increase in the order admissions happened across
  processes. Each instance applies its own ``limit`` and ``window`` to the shared log, and records
  its admissions even with no limit, so its traffic counts against the others'.

``FaultBook`` holds the ``Fault`` scripts a test injects (per ``Sandbox`` instance, in memory); a
fault that loses the connection is signalled by raising ``Hangup`` or ``Reset``, which are httpx
transport errors, so the in-process face simply lets them reach the client and the loopback server
catches them and drops the socket instead.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from fnmatch import fnmatchcase
from http import HTTPStatus
from pathlib import Path
from typing import Any, Literal, get_args

import httpx

from .store import DEFAULT_BUSY_TIMEOUT, connect, immediate

FaultKind = Literal["status", "hang", "reset", "empty", "malformed"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
# A JSON body cut short, as a proxy dropping the connection mid-body would leave it.
MALFORMED_BODY = b'{"contact": '
# ASSUMED: api.md §5 says the 429 body is UNVERIFIED; the docs only show the status and headers.
TOO_MANY_REQUESTS: dict[str, Any] = {"message": "Too Many Requests"}


@dataclass(frozen=True)
class Fault:
    """A scripted misbehaviour for the next ``count`` requests matching ``method`` and ``path``.

    ``path`` is an ``fnmatch`` pattern over the path relative to ``/api/3`` (no query string, no
    trailing slash), e.g. ``"/contactAutomations"`` or ``"/contacts/*/contactLists"``; ``*`` also
    crosses ``/``. ``status`` defaults to 500 for ``"status"`` and 200 for ``"empty"`` and
    ``"malformed"`` (it is not used by ``"hang"`` and ``"reset"``). ``commit=True`` processes the
    request for real (the write lands) before the fault replaces or loses the answer.
    """

    kind: FaultKind
    method: str = "*"
    path: str = "*"
    count: int = 1
    status: int | None = None  # None: 200 for "empty"/"malformed", else 500 (set on creation)
    retry_after: float | None = None
    commit: bool = False
    hang_seconds: float = 2.0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"Unknown fault kind {self.kind!r}; use one of {FAULT_KINDS}.")
        if self.status is None:
            default = 200 if self.kind in ("empty", "malformed") else 500
            object.__setattr__(self, "status", default)
        if isinstance(self.status, bool) or not isinstance(self.status, int):
            raise ValueError(f"Fault status must be an int, not {self.status!r}.")
        if not 100 <= self.status <= 599:
            raise ValueError(f"Fault status must be an HTTP status (100-599), not {self.status}.")
        if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 1:
            raise ValueError(f"Fault count must be a positive int, not {self.count!r}.")
        if self.retry_after is not None and not _non_negative(self.retry_after):
            raise ValueError(f"retry_after must be >= 0 seconds, not {self.retry_after!r}.")
        if not _non_negative(self.hang_seconds):
            raise ValueError(f"hang_seconds must be >= 0, not {self.hang_seconds!r}.")
        if not isinstance(self.method, str) or not isinstance(self.path, str):
            raise ValueError("Fault method and path must be strings.")
        if not isinstance(self.commit, bool):
            raise ValueError(f"Fault commit must be true or false, not {self.commit!r}.")
        object.__setattr__(self, "method", self.method.upper())

    @classmethod
    def from_dict(cls, data: object) -> Fault:
        """A fault from its JSON form (the admin endpoint's body); ``ValueError`` if invalid."""
        if not isinstance(data, dict):
            raise ValueError(f"A fault is a JSON object, not {data!r}.")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"Unknown fault field(s): {', '.join(unknown)}.")
        if "kind" not in data:
            raise ValueError("A fault needs a 'kind'.")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method.upper())) and fnmatchcase(path, self.path)


def _non_negative(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


class FaultBook:
    """Pending faults in injection order; the first match fires and loses one of its uses.

    Not thread-safe by itself: the sandbox calls it under its traffic lock."""

    def __init__(self) -> None:
        self._pending: list[Fault] = []

    def add(self, *faults: Fault) -> None:
        for fault in faults:
            if not isinstance(fault, Fault):
                raise TypeError(f"Expected a Fault, got {fault!r}.")
        self._pending.extend(faults)

    def clear(self) -> None:
        self._pending.clear()

    def pending(self) -> list[Fault]:
        return list(self._pending)  # frozen, so the copies' counts are the remaining uses

    def take(self, method: str, path: str | None) -> Fault | None:
        """The first fault matching the request, used once; None if none (or not an API path)."""
        if path is None:
            return None
        for index, fault in enumerate(self._pending):
            if fault.matches(method, path):
                if fault.count > 1:
                    self._pending[index] = replace(fault, count=fault.count - 1)
                else:
                    del self._pending[index]
                return fault
        return None


Clock = Callable[[], float]

# The shared log keeps at least this many seconds of admissions, whatever this instance's window:
# another instance on the same file may use a longer one.
SHARED_HISTORY = 60.0
ADMISSIONS_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS sandbox_admissions (at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS sandbox_admissions_by_time ON sandbox_admissions (at)",
)


class Budget:
    """At most ``limit`` admitted requests in any sliding window of ``window`` seconds, in memory.

    Keeps the arrival times of admitted requests from the last window (always, so that a limit
    switched on at runtime already knows the recent traffic). Thread-safe: ``arrive`` reads the
    clock and admits under one lock, so admissions are recorded in the order of their times."""

    def __init__(self, limit: int | None, window: float) -> None:
        self.limit = limit
        self.window = window
        self._lock = threading.Lock()
        self._admitted: deque[float] = deque()

    def configure(self, limit: int | None, window: float) -> None:
        with self._lock:
            self.limit, self.window = limit, window

    def arrive(self, clock: Clock) -> tuple[float, float | None]:
        """A request arrives now (``clock()``): its arrival time, and None if admitted (and
        recorded) or the seconds until a slot frees if refused."""
        with self._lock:
            now = clock()
            return now, self._admit(now)

    def admit(self, now: float) -> float | None:
        """Record and admit a request arriving at ``now``; or refuse it: seconds until a slot."""
        with self._lock:
            return self._admit(now)

    def _admit(self, now: float) -> float | None:
        while self._admitted and self._admitted[0] <= now - self.window:
            self._admitted.popleft()
        if self.limit is not None and len(self._admitted) >= self.limit:
            # The slot frees when the oldest of the last `limit` admissions leaves the window.
            return self._admitted[-self.limit] + self.window - now
        self._admitted.append(now)
        return None

    def forget(self) -> None:
        """Forget the recent admissions: the next ``limit`` requests are admitted."""
        with self._lock:
            self._admitted.clear()

    def close(self) -> None:
        """Nothing to release in memory."""


class SharedBudget(Budget):
    """The same budget with its log in the SQLite file at ``path``, shared by every instance on
    that file in any process (see the module docstring). Waits up to ``busy_timeout`` seconds
    for the file's write lock. ``forget()`` empties the shared log, for every instance."""

    def __init__(
        self,
        path: str | Path,
        limit: int | None,
        window: float,
        *,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    ) -> None:
        super().__init__(limit, window)
        self._conn = connect(path, busy_timeout)
        self._closed = False
        try:
            with immediate(self._conn):
                for statement in ADMISSIONS_SCHEMA:
                    self._conn.execute(statement)
        except BaseException:
            self._conn.close()
            raise

    def arrive(self, clock: Clock) -> tuple[float, float | None]:
        with self._lock:
            self._check_open()
            with immediate(self._conn):
                now = clock()  # under the file's write lock: times increase across processes
                return now, self._admit(now)

    def admit(self, now: float) -> float | None:
        with self._lock:
            self._check_open()
            with immediate(self._conn):
                return self._admit(now)

    def _admit(self, now: float) -> float | None:
        """Within the caller's immediate transaction: the same rule as ``Budget._admit``."""
        horizon = now - max(self.window, SHARED_HISTORY)
        self._conn.execute("DELETE FROM sandbox_admissions WHERE at <= ?", (horizon,))
        if self.limit is not None:
            # The limit-th most recent admission in the window, if there are that many.
            row = self._conn.execute(
                "SELECT at FROM sandbox_admissions WHERE at > ? ORDER BY at DESC LIMIT 1 OFFSET ?",
                (now - self.window, self.limit - 1),
            ).fetchone()
            if row is not None:
                return float(row[0]) + self.window - now
        self._conn.execute("INSERT INTO sandbox_admissions (at) VALUES (?)", (now,))
        return None

    def forget(self) -> None:
        with self._lock:
            self._check_open()
            with immediate(self._conn):
                self._conn.execute("DELETE FROM sandbox_admissions")

    def close(self) -> None:
        """Close the connection. Idempotent; later admissions raise ``RuntimeError``."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("This Sandbox is closed; create a new one.")


def retry_after_header(seconds: float) -> str:
    """Whole seconds as the HTTP header wants them; fractions are kept (handy in fast tests,
    and clients that parse the header as a float, like ours, accept them)."""
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


def whole_seconds(seconds: float) -> int:
    """The budget's Retry-After: rounded up, at least 1."""
    return max(1, math.ceil(seconds))


def status_body(status: int) -> dict[str, Any]:
    """ASSUMED bodies for scripted status faults: ``{"message": <reason phrase>}``, the shape of
    the API's other plain errors (api.md §6 shape 1); what a live 5xx carries is UNVERIFIED."""
    if status == 429:
        return dict(TOO_MANY_REQUESTS)
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Sandbox fault"
    return {"message": phrase}


class Hangup(httpx.ReadTimeout):
    """A ``hang`` fault: no answer came. In process it reaches the client as a read timeout;
    the loopback server closes the connection without writing anything instead."""


class Reset(httpx.RemoteProtocolError):
    """A ``reset`` fault: the connection dropped. In process it reaches the client as is; the
    loopback server resets the socket (SO_LINGER 0) instead."""
