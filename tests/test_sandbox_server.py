"""The sandbox over real HTTP: the in-thread loopback server and ``python -m connector.sandbox``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from connector.sandbox import Sandbox, SandboxServer

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with Sandbox() as sb, SandboxServer(sb, port=0) as running:
        yield running


def test_get_post_and_403_over_http(server: SandboxServer) -> None:
    assert server.base_url.startswith("http://127.0.0.1:")
    headers = {"Api-Token": server.sandbox.api_key}
    with httpx.Client(base_url=server.base_url + "/api/3", headers=headers, timeout=5) as client:
        lists = client.get("/lists", params={"limit": 5})
        assert lists.status_code == 200
        assert lists.headers["content-type"] == "application/json"
        assert lists.json()["meta"]["total"] == "48"
        # Links name the host the request came in on.
        first = lists.json()["lists"][0]
        assert first["links"]["user"] == f"{server.base_url}/api/3/lists/1/user"

        synced = client.post("/contact/sync", json={"contact": {"email": "http@example.com"}})
        assert synced.status_code == 201
        found = client.get("/contacts", params={"email": "HTTP@example.com"}).json()
        assert [c["id"] for c in found["contacts"]] == [synced.json()["contact"]["id"]]

        bad = client.post("/contactLists", content=b"{oops", headers={"Content-Type": "text/x"})
        assert (bad.status_code, bad.json()) == (400, {})

        forbidden = client.get("/users/me", headers={"Api-Token": "wrong"})
        assert forbidden.status_code == 403
        assert forbidden.json() == {"message": "Forbidden"}
    assert server.sandbox.request_count() == 5


def test_server_refuses_non_loopback_hosts() -> None:
    with Sandbox() as sb:
        for host in ("0.0.0.0", "192.168.1.10", "example.com"):
            with pytest.raises(ValueError, match="loopback"):
                SandboxServer(sb, host=host)


def test_stop_releases_the_port() -> None:
    with Sandbox() as sb:
        server = SandboxServer(sb).start()
        port = server.port
        server.stop()
        server.stop()  # idempotent
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", port))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_command_line_server(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    port = free_port()
    command = [sys.executable, "-m", "connector.sandbox", "--port", str(port), "--db", str(db)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with (
        (tmp_path / "stderr.log").open("w") as stderr,
        subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True
        ) as process,
    ):
        try:
            assert process.stdout is not None
            printed: dict[str, str] = {}
            deadline = time.monotonic() + 20
            while len(printed) < 2 and time.monotonic() < deadline:
                line = process.stdout.readline()
                if not line:
                    break
                label, _, value = line.strip().partition(": ")
                if label in ("Sandbox API URL", "Sandbox API key"):
                    printed[label] = value
            assert printed.get("Sandbox API URL") == f"http://127.0.0.1:{port}", printed

            with httpx.Client(
                base_url=printed["Sandbox API URL"] + "/api/3",
                headers={"Api-Token": printed["Sandbox API key"]},
                timeout=5,
            ) as client:
                assert client.get("/users/me").json()["user"]["email"] == "sandbox@example.com"
        finally:
            process.terminate()
            remaining, _ = process.communicate(timeout=10)
    assert process.returncode == 0, (tmp_path / "stderr.log").read_text()
    assert "Sandbox stopped." in remaining
    assert "Traceback" not in (tmp_path / "stderr.log").read_text()
    assert db.is_file()


def test_command_line_refuses_other_hosts() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "connector.sandbox", "--host", "0.0.0.0", "--port", "0"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 2
    assert "loopback" in result.stderr
