"""The sandbox as a real HTTP server on a loopback port (stdlib ``ThreadingHTTPServer``).

Each HTTP request becomes an ``httpx.Request`` for ``Sandbox.handle`` and its response is written
back as is (status, headers, body), so the in-process transport and the server cannot drift apart::

    with SandboxServer(Sandbox(), port=0) as server:   # port 0: any free port
        httpx.get(server.base_url + "/api/3/lists", headers={"Api-Token": DEMO_API_KEY})

Only loopback hosts are accepted: the sandbox has a published demo key and must not be reachable
from the network.

Scripted ``hang`` and ``reset`` faults (see ``faults.Fault``) act on the socket here: a hang waits
``hang_seconds`` and then closes the connection without a word (a client with a shorter read
timeout sees it time out); a reset closes it at once with SO_LINGER 0, so the peer gets an RST.

Admin endpoints, outside ``/api/3`` and without ``Api-Token`` (the server is loopback only),
under ``<base_url>/__sandbox`` (``SandboxServer.admin_url``). Bodies are JSON; times in seconds;
a bad body gets 400 ``{"message": ...}``; admin requests are not counted in the stats:

* ``GET /__sandbox/stats`` -> 200 ``{"requests", "admitted", "refused", "faults_fired",
  "arrivals"}``: this sandbox instance's counters (``Sandbox.stats()``) and the arrival times of
  the requests it admitted (``Sandbox.arrivals()``: wall-clock seconds, oldest first, the last
  10,000), from which a test can check how a client spread its requests;
* ``GET /__sandbox/faults`` -> 200 ``{"faults": [...]}``, the pending faults with remaining counts;
* ``POST /__sandbox/faults`` with one fault object (``{"kind": "status", "status": 503,
  "path": "/contacts/*", "count": 2, "retry_after": 1}``: the fields of ``Fault``) or a list
  of them -> 201 ``{"faults": [...]}`` (all pending faults after the injection);
* ``DELETE /__sandbox/faults`` -> 200 ``{"faults": []}``;
* ``GET /__sandbox/config`` -> 200 ``{"rate_limit", "rate_window", "latency", "jitter"}``;
* ``POST /__sandbox/config`` with any of those keys (``rate_limit`` null or 0: no limit)
  -> 200 with the whole resulting config;
* ``POST /__sandbox/reset`` -> 200: the account back to its seed, faults dropped, the budget's
  window forgotten (counters and config kept).

The server serves one ``Sandbox`` instance: when other processes open the same file, they share
its account data and its request budget (see ``emulator``), but the stats, faults and config
here are this instance's.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import httpx

from .emulator import Sandbox
from .faults import Fault, Hangup, Reset

log = logging.getLogger(__name__)

# Framing headers are recomputed by http.server for the body we write.
SKIPPED_RESPONSE_HEADERS = {"content-length", "transfer-encoding", "connection"}
ADMIN_ROOT = "/__sandbox"
CONFIG_KEYS = ("rate_limit", "rate_window", "latency", "jitter")


def check_loopback(host: str) -> None:
    """Raise ``ValueError`` unless ``host`` is ``localhost`` or a loopback address."""
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(
            f"The sandbox only listens on loopback (127.0.0.1, ::1 or localhost), not {host!r}."
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a client holding a keep-alive connection must not block shutdown

    def __init__(self, address: tuple[str, int], sandbox: Sandbox, log_requests: bool) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.sandbox = sandbox
        self.log_requests = log_requests
        self.base_url = ""
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx clients expect

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        path = urlsplit(self.path).path
        if path == ADMIN_ROOT or path.startswith(ADMIN_ROOT + "/"):
            self._write(self._admin(path[len(ADMIN_ROOT) :], body))
            return
        request = httpx.Request(
            self.command,
            self.server.base_url + self.path,
            headers=list(self.headers.items()),
            content=body,
        )
        try:
            response = self.server.sandbox.handle(request)
        except Hangup:
            # handle() has already waited hang_seconds: leave without a word.
            self.close_connection = True
            return
        except Reset:
            self._reset_connection()
            return
        except Exception:
            log.exception("sandbox failed on %s %s", self.command, self.path)
            response = httpx.Response(500, json={"message": "Internal Server Error"})
        self._write(response)

    def _reset_connection(self) -> None:
        """Drop the connection with an RST: linger 0, then close. The descriptor really closes
        once http.server lets go of its file objects, right after this request."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:  # pragma: no cover - a platform without SO_LINGER still drops the line
            pass
        self.connection.close()

    def _write(self, response: httpx.Response) -> None:
        payload = response.content
        self.send_response(response.status_code)
        for name, value in response.headers.multi_items():
            if name.lower() not in SKIPPED_RESPONSE_HEADERS:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _forward

    def _admin(self, path: str, body: bytes) -> httpx.Response:
        sandbox = self.server.sandbox
        routes = {
            "/stats": ("GET",),
            "/faults": ("GET", "POST", "DELETE"),
            "/config": ("GET", "POST"),
            "/reset": ("POST",),
        }
        path = path.rstrip("/")
        if path not in routes:
            return _admin_json(404, {"message": f"No admin endpoint {ADMIN_ROOT}{path}"})
        if self.command not in routes[path]:
            allowed = ", ".join(routes[path])
            return _admin_json(405, {"message": "Method Not Allowed"}, {"Allow": allowed})
        try:
            if path == "/stats":
                return _admin_json(200, {**sandbox.stats(), "arrivals": sandbox.arrivals()})
            if path == "/faults":
                if self.command == "POST":
                    data = _json_body(body)
                    items = data if isinstance(data, list) else [data]
                    sandbox.inject(*[Fault.from_dict(item) for item in items])
                elif self.command == "DELETE":
                    sandbox.clear_faults()
                pending = [fault.to_dict() for fault in sandbox.pending_faults()]
                return _admin_json(201 if self.command == "POST" else 200, {"faults": pending})
            if path == "/config":
                if self.command == "GET":
                    return _admin_json(200, sandbox.config())
                data = _json_body(body)
                if not isinstance(data, dict):
                    raise ValueError("The config is a JSON object.")
                unknown = sorted(set(data) - set(CONFIG_KEYS))
                if unknown:
                    raise ValueError(f"Unknown setting(s): {', '.join(unknown)}.")
                return _admin_json(200, sandbox.configure(**data))
            sandbox.reset()
            return _admin_json(200, {"message": "Account restored to its seed; faults cleared."})
        except (ValueError, TypeError) as error:
            return _admin_json(400, {"message": str(error)})

    def log_message(self, format: str, *args: object) -> None:
        if self.server.log_requests:
            super().log_message(format, *args)


def _json_body(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError:
        raise ValueError("The body is not valid JSON.") from None


def _admin_json(status: int, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


class SandboxServer:
    """Serve a ``Sandbox`` over HTTP from a background thread.

    ``start()`` (or entering the context manager) binds and begins serving; ``base_url`` is then
    ``http://127.0.0.1:<port>`` (what to paste as the account's API URL); ``stop()`` shuts down and
    releases the port. It does not close the sandbox: whoever created it owns it.
    """

    def __init__(
        self,
        sandbox: Sandbox,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        log_requests: bool = False,
    ) -> None:
        check_loopback(host)
        self.sandbox = sandbox
        self.host = host
        self.port = port
        self.log_requests = log_requests
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("SandboxServer is not running; call start() first.")
        return self._server.base_url

    @property
    def admin_url(self) -> str:
        """Where the admin endpoints live: ``<base_url>/__sandbox`` (see the module docstring)."""
        return self.base_url + ADMIN_ROOT

    def start(self) -> Self:
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), self.sandbox, self.log_requests)
        self.port = int(server.server_address[1])
        shown = f"[{self.host}]" if ":" in self.host else self.host
        server.base_url = f"http://{shown}:{self.port}"
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},  # so stop() returns promptly
            name=f"sandbox-server-{self.port}",
            daemon=True,
        )
        self._server = server
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket. Idempotent."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
