"""The sandbox as a real HTTP server on a loopback port (stdlib ``ThreadingHTTPServer``).

Each HTTP request becomes an ``httpx.Request`` for ``Sandbox.handle`` and its response is written
back as is (status, headers, body), so the in-process transport and the server cannot drift apart::

    with SandboxServer(Sandbox(), port=0) as server:   # port 0: any free port
        httpx.get(server.base_url + "/api/3/lists", headers={"Api-Token": DEMO_API_KEY})

Only loopback hosts are accepted: the sandbox has a published demo key and must not be reachable
from the network.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self

import httpx

from .emulator import Sandbox

log = logging.getLogger(__name__)

# Framing headers are recomputed by http.server for the body we write.
SKIPPED_RESPONSE_HEADERS = {"content-length", "transfer-encoding", "connection"}


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
        request = httpx.Request(
            self.command,
            self.server.base_url + self.path,
            headers=list(self.headers.items()),
            content=body,
        )
        try:
            response = self.server.sandbox.handle(request)
        except Exception:
            log.exception("sandbox failed on %s %s", self.command, self.path)
            response = httpx.Response(500, json={"message": "Internal Server Error"})
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

    def log_message(self, format: str, *args: object) -> None:
        if self.server.log_requests:
            super().log_message(format, *args)


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
