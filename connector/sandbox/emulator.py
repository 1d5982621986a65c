"""``Sandbox``: the emulated ActiveCampaign account and its single request entry point."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

import httpx

from . import routes
from .errors import FORBIDDEN, NOT_FOUND, ApiError
from .seed import SeedSpec
from .shapes import JSON, Links
from .store import Store

SANDBOX_URL = "https://sandbox.invalid"  # .invalid (RFC 2606) can never reach a real host
DEMO_API_KEY = "sandbox-demo-key-0000000000000000"
DEFAULT_SEED = SeedSpec()

log = logging.getLogger(__name__)


class Sandbox:
    """An emulated ActiveCampaign account answering the API v3 endpoints the console uses.

    Thread-safe: one lock guards all state (the SQLite connection and the request counter), so one
    instance can back many Streamlit sessions and the threaded loopback server at once.

    ``path=None`` keeps the account in memory; a path keeps it in that SQLite file, which is seeded
    on first creation only and otherwise reopened as it was left. ``reset()`` restores the seed.
    Use it in-process through ``transport()``, or over HTTP with ``SandboxServer``.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        api_key: str = DEMO_API_KEY,
        seed: SeedSpec = DEFAULT_SEED,
        base_url: str = SANDBOX_URL,
    ) -> None:
        if not api_key:
            raise ValueError("The sandbox needs a non-empty API key to check requests against.")
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.seed_spec = seed
        # Routes live under <base path>/api/3, like https://<account>.api-us1.com/api/3.
        self._api_root = urlsplit(self.base_url).path + "/api/3"
        self._lock = threading.RLock()
        self._requests = 0
        self._store = Store(path)
        try:
            if not self._store.is_seeded():
                self._store.seed(seed)
        except BaseException:
            self._store.close()
            raise
        self._closed = False

    # -- the one entry point ---------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one API request. Both faces (transport and HTTP server) call only this."""
        with self._lock:
            self._requests += 1
        early = self._intercept(request)
        if early is not None:
            return early
        if request.headers.get("Api-Token") != self.api_key:
            return _json(request, 403, FORBIDDEN)
        return self._dispatch(request)

    def _intercept(self, request: httpx.Request) -> httpx.Response | None:
        """Traffic shaping seam, run before authentication like the live account-wide limiter.

        This is where a per-second request budget (429 + ``Retry-After``), latency injection and
        scripted faults belong: return a response to short-circuit, or None to carry on. Sleep for
        latency here, outside the lock, so a slow request never blocks the others. Today: no-op.
        """
        return None

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
        """Put the account back to its seed (same ``SeedSpec``). The request counter keeps going."""
        with self._lock:
            self._check_open()
            self._store.seed(self.seed_spec)

    def request_count(self) -> int:
        """Requests handled since this instance was created, refused ones included."""
        with self._lock:
            return self._requests

    def close(self) -> None:
        """Close the database. Idempotent; later requests raise ``RuntimeError``."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._store.close()

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


def _json(request: httpx.Request, status: int, body: JSON) -> httpx.Response:
    return httpx.Response(status, json=body, request=request)
