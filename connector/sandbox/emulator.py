"""``Sandbox``: the emulated ActiveCampaign account and its single request entry point.

A ``Sandbox`` on a file may share that file with other ``Sandbox`` instances in other processes
(the dashboard, CLI commands, tests): the account's data is one (every request is one ``BEGIN
IMMEDIATE`` transaction, see ``store``), and so is its request budget (``faults.SharedBudget``:
admissions are recorded in the file, with wall-clock times from the injectable ``clock``).
Everything else is per instance: traffic settings, scripted faults, ``stats()`` and
``arrivals()`` (the times of the requests this instance admitted).
"""

from __future__ import annotations

import enum
import logging
import math
import random
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import httpx

from . import routes
from .errors import FORBIDDEN, NOT_FOUND, ApiError
from .faults import (
    MALFORMED_BODY,
    TOO_MANY_REQUESTS,
    Budget,
    Fault,
    FaultBook,
    Hangup,
    Reset,
    SharedBudget,
    retry_after_header,
    status_body,
    whole_seconds,
)
from .seed import SeedSpec
from .shapes import JSON, Links
from .store import DEFAULT_BUSY_TIMEOUT, Store

SANDBOX_URL = "https://sandbox.invalid"  # .invalid (RFC 2606) can never reach a real host
DEMO_API_KEY = "sandbox-demo-key-0000000000000000"
DEFAULT_SEED = SeedSpec()
MAX_ARRIVALS = 10_000  # arrival times kept by ``arrivals()``, the most recent ones
# ``rename()``: kind -> (table, the columns that hold its name)
_RENAMEABLE: dict[str, tuple[str, tuple[str, ...]]] = {
    "list": ("lists", ("name",)),
    "automation": ("automations", ("name",)),
    "field": ("fields", ("title",)),
    "field_option": ("field_options", ("value", "label")),
    "tag": ("tags", ("tag",)),
}

log = logging.getLogger(__name__)


class _Unchanged(enum.Enum):
    UNCHANGED = "unchanged"


UNCHANGED = _Unchanged.UNCHANGED  # ``configure()``'s "leave this setting as it is"


class Sandbox:
    """An emulated ActiveCampaign account answering the API v3 endpoints the console uses.

    Thread-safe: one lock guards the account (the SQLite connection), another the traffic state
    (counters, faults, settings), and the budget has its own, so one instance can back many
    Streamlit sessions and the threaded loopback server at once, and neither a slow handler nor
    the latency sleep holds up the budget (on a file, an admission waits only for whichever
    transaction holds the file's write lock, so that admissions are recorded in order).

    ``path=None`` keeps the account in memory; a path keeps it in that SQLite file, which is seeded
    on first creation only (exactly once, even when several processes create it at once) and
    otherwise reopened as it was left. ``reset()`` restores the seed. Other processes may open
    the same file at the same time: requests are transactions across processes, waiting up to
    ``busy_timeout`` seconds for one another. Use it in-process through ``transport()``, or over
    HTTP with ``SandboxServer``.

    It can fight back, like the live account: ``rate_limit`` admits at most that many requests in
    any sliding ``rate_window`` seconds and refuses the others with 429 + ``Retry-After`` (None or
    0: no limit, the default here; the CLI defaults to 5 per second). On a file the budget is the
    account's, shared by every instance on that file in any process (each applies its own
    ``rate_limit`` to the shared admissions); in memory it is the instance's. Arrival times come
    from ``clock`` (wall-clock seconds, ``time.time`` by default; tests may drive it). Every
    request waits ``latency`` seconds plus up to ``jitter`` more; ``inject(Fault(...))`` scripts
    failures for the next matching requests of this instance. ``configure()`` changes the traffic
    settings at runtime; ``stats()`` counts what happened here; ``arrivals()`` lists when.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        api_key: str = DEMO_API_KEY,
        seed: SeedSpec = DEFAULT_SEED,
        base_url: str = SANDBOX_URL,
        rate_limit: int | None = None,
        rate_window: float = 1.0,
        latency: float = 0.0,
        jitter: float = 0.0,
        clock: Callable[[], float] = time.time,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    ) -> None:
        if not api_key:
            raise ValueError("The sandbox needs a non-empty API key to check requests against.")
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.seed_spec = seed
        # Routes live under <base path>/api/3, like https://<account>.api-us1.com/api/3.
        self._api_root = urlsplit(self.base_url).path + "/api/3"
        self._lock = threading.RLock()
        # Traffic state: never held while sleeping or while the account lock is taken.
        self._traffic = threading.Lock()
        self._requests = self._admitted = self._refused = self._faults_fired = 0
        self._arrivals: deque[float] = deque(maxlen=MAX_ARRIVALS)
        limit = _limit(rate_limit)
        window = _seconds("rate_window", rate_window, zero=False)
        self._latency = _seconds("latency", latency)
        self._jitter = _seconds("jitter", jitter)
        timeout = _seconds("busy_timeout", busy_timeout)
        if not callable(clock):
            raise ValueError(f"clock must be a callable returning seconds, not {clock!r}.")
        self._clock = clock
        self._random = random.Random()
        self._faults = FaultBook()
        self._closing = threading.Event()  # wakes requests sleeping in latency or a hang
        self._closed = False
        self._store = Store(path, busy_timeout=timeout)
        try:
            self._store.ensure_seeded(seed)
            self._budget: Budget = (
                Budget(limit, window)
                if path is None
                else SharedBudget(path, limit, window, busy_timeout=timeout)
            )
        except BaseException:
            self._store.close()
            raise

    # -- the one entry point ---------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one API request. Both faces (transport and HTTP server) call only this.

        A ``hang`` or ``reset`` fault raises ``faults.Hangup`` (an ``httpx.ReadTimeout``) or
        ``faults.Reset`` (an ``httpx.RemoteProtocolError``): in process the client gets them as
        is; the loopback server catches them and drops the connection instead of answering."""
        early = self._intercept(request)
        if early is not None:
            return early
        return self._answer(request)

    def _intercept(self, request: httpx.Request) -> httpx.Response | None:
        """Traffic shaping, run before authentication like the live account-wide limiter.

        In order: the budget (its arrival time is taken here, before any sleep, outside the
        account lock and, on a file, under the file's write lock); count the request; the first
        matching fault; then the latency, slept outside every lock so that concurrent requests
        overlap. Returns the 429 or the fault's answer, or None to carry on.
        """
        self._check_open()
        try:
            arrived, wait = self._budget.arrive(self._clock)
        except sqlite3.OperationalError:
            # The account's file stayed locked past the busy timeout: answer as an overloaded
            # server would (ASSUMED body), never with an exception the client can't type.
            log.warning("sandbox file locked: answering 503 %s %s", request.method, request.url)
            return _json(request, 503, {"message": "Service Unavailable"}, {"Retry-After": "1"})
        with self._traffic:
            self._requests += 1
            fault: Fault | None = None
            if wait is not None:
                self._refused += 1
            else:
                self._admitted += 1
                self._arrivals.append(arrived)
                fault = self._faults.take(request.method, self._relative(request.url.path))
                if fault is not None:
                    self._faults_fired += 1
            delay = self._latency
            if self._jitter:
                delay += self._random.uniform(0.0, self._jitter)
        if delay > 0:
            self._closing.wait(delay)  # a 429 crosses the network too
        if wait is not None:
            retry_after = str(whole_seconds(wait))
            return _json(request, 429, TOO_MANY_REQUESTS, {"Retry-After": retry_after})
        if fault is not None:
            return self._misbehave(request, fault)
        return None

    def _misbehave(self, request: httpx.Request, fault: Fault) -> httpx.Response:
        if fault.commit:
            self._answer(request)  # the write lands; its answer is what gets lost
        if fault.kind == "hang":
            self._closing.wait(fault.hang_seconds)
            raise Hangup("sandbox fault: no answer", request=request)
        if fault.kind == "reset":
            raise Reset("sandbox fault: connection reset", request=request)
        headers = {"Content-Type": "application/json"}
        if fault.retry_after is not None:
            headers["Retry-After"] = retry_after_header(fault.retry_after)
        status = fault.status or 500  # always set by Fault itself; `or` narrows the type
        if fault.kind == "status":
            return _json(request, status, status_body(status), headers)
        content = MALFORMED_BODY if fault.kind == "malformed" else b""
        return httpx.Response(status, headers=headers, content=content, request=request)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        """Authenticate and dispatch: the account's own answer, with no traffic shaping."""
        if request.headers.get("Api-Token") != self.api_key:
            return _json(request, 403, FORBIDDEN)
        return self._dispatch(request)

    def _relative(self, path: str) -> str | None:
        """The path under /api/3 without a trailing slash, as faults match it; None outside."""
        if not path.startswith(self._api_root):
            return None
        relative = path[len(self._api_root) :]
        if relative and not relative.startswith("/"):
            return None  # e.g. /api/30
        return relative.rstrip("/") or "/"

    def _dispatch(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        relative = path[len(self._api_root) :] if path.startswith(self._api_root) else None
        found = routes.resolve(request.method, relative) if relative is not None else None
        if found is None:
            return _json(request, 404, NOT_FOUND)
        handler, ids = found
        origin = f"{request.url.scheme}://{request.url.netloc.decode('ascii')}"
        call = routes.Call(
            store=self._store,
            # Links name the host the request came in on, as the live API's do.
            links=Links(origin + self._api_root),
            query=request.url.params,
            content=request.read(),
            ids=ids,
        )
        with self._lock:
            self._check_open()
            try:
                with self._store.transaction():
                    reply = handler(call)
            except ApiError as error:
                return _json(request, error.status, error.body)
            except Exception:
                log.exception("sandbox handler failed: %s %s", request.method, request.url)
                return _json(request, 500, {"message": "Internal Server Error"})
        return _json(request, reply.status, reply.body)

    # -- faces and lifecycle ---------------------------------------------------------------

    def transport(self) -> httpx.BaseTransport:
        """An httpx transport answering in-process: ``httpx.Client(transport=sb.transport())``."""
        return httpx.MockTransport(self.handle)

    def reset(self) -> None:
        """Put the account back to its seed (same ``SeedSpec``), drop pending faults and forget
        the budget's recent requests (on a file: the account's, for every instance on it).
        Counters, ``arrivals()`` and traffic settings are kept."""
        with self._lock:
            self._check_open()
            self._store.seed(self.seed_spec)
        with self._traffic:
            self._faults.clear()
            self._budget.forget()

    def rename(self, kind: str, ident: str, name: str) -> None:
        """Give the seeded ``kind`` object with id ``ident`` (the API's string id) the name
        ``name``, as someone could in ActiveCampaign: ``kind`` is ``list``, ``automation``,
        ``field`` (its title), ``field_option`` (its value and label) or ``tag``. For tests and
        demos of names the console did not choose; ``reset()`` brings the seeded names back.
        Raises ``KeyError`` when there is no such object."""
        table, columns = _RENAMEABLE[kind]
        assignments = ", ".join(f"{column} = ?" for column in columns)
        with self._lock:
            self._check_open()
            with self._store.transaction():
                changed = self._store.conn.execute(
                    f"UPDATE {table} SET {assignments} WHERE id = ?",
                    [*(name for _ in columns), int(ident)],
                ).rowcount
        if not changed:
            raise KeyError(f"The sandbox has no {kind} {ident}.")

    def request_count(self) -> int:
        """Requests handled since this instance was created, refused ones included."""
        with self._traffic:
            return self._requests

    def refused_count(self) -> int:
        """Requests the budget refused with 429 (scripted 429 faults are not counted here)."""
        with self._traffic:
            return self._refused

    def stats(self) -> dict[str, int]:
        """``requests`` (all), ``admitted`` (within the budget), ``refused`` (429 by the budget)
        and ``faults_fired``; requests = admitted + refused. Counts this instance's requests only,
        even when the budget is shared with other instances on the same file."""
        with self._traffic:
            return {
                "requests": self._requests,
                "admitted": self._admitted,
                "refused": self._refused,
                "faults_fired": self._faults_fired,
            }

    def arrivals(self) -> list[float]:
        """When the requests this instance admitted arrived: ``clock()`` seconds (wall-clock by
        default), oldest first; the last ``MAX_ARRIVALS`` (10,000) only. Refused requests are
        not included. On a file, the times are those the shared budget judged them by."""
        with self._traffic:
            return sorted(self._arrivals)

    # -- traffic settings and faults -------------------------------------------------------

    def configure(
        self,
        *,
        rate_limit: int | None | _Unchanged = UNCHANGED,
        rate_window: float | _Unchanged = UNCHANGED,
        latency: float | _Unchanged = UNCHANGED,
        jitter: float | _Unchanged = UNCHANGED,
    ) -> dict[str, Any]:
        """Change the traffic settings given (seconds; ``rate_limit`` None or 0 lifts the limit)
        and return them all, as ``config()``. All are checked before any is applied."""
        with self._traffic:
            limit = self._budget.limit if rate_limit is UNCHANGED else _limit(rate_limit)
            window = (
                self._budget.window
                if rate_window is UNCHANGED
                else _seconds("rate_window", rate_window, zero=False)
            )
            new_latency = self._latency if latency is UNCHANGED else _seconds("latency", latency)
            new_jitter = self._jitter if jitter is UNCHANGED else _seconds("jitter", jitter)
            self._budget.configure(limit, window)
            self._latency, self._jitter = new_latency, new_jitter
        return self.config()

    def config(self) -> dict[str, Any]:
        """The traffic settings: ``rate_limit`` (None: no limit), ``rate_window``, ``latency``
        and ``jitter`` (seconds)."""
        with self._traffic:
            return {
                "rate_limit": self._budget.limit,
                "rate_window": self._budget.window,
                "latency": self._latency,
                "jitter": self._jitter,
            }

    def inject(self, *faults: Fault) -> None:
        """Queue faults; each request fires the first pending one that matches it (if any)."""
        with self._traffic:
            self._faults.add(*faults)

    def clear_faults(self) -> None:
        with self._traffic:
            self._faults.clear()

    def pending_faults(self) -> list[Fault]:
        """The faults not used up yet, in order, each with its remaining ``count``."""
        with self._traffic:
            return self._faults.pending()

    def close(self) -> None:
        """Close the database. Idempotent; later requests raise ``RuntimeError``."""
        self._closing.set()
        with self._lock:
            if not self._closed:
                self._closed = True
                self._store.close()
                self._budget.close()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("This Sandbox is closed; create a new one.")

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _json(
    request: httpx.Request, status: int, body: JSON, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers, request=request)


def _limit(value: object) -> int | None:
    """None or 0: no limit; else a positive whole number of requests per window."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"rate_limit must be a whole number >= 0 or None, not {value!r}.")
    return value or None


def _seconds(name: str, value: object, *, zero: bool = True) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
        or (value == 0 and not zero)
    ):
        bound = ">= 0" if zero else "> 0"
        raise ValueError(f"{name} must be a number of seconds {bound}, not {value!r}.")
    return float(value)
