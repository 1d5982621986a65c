from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from factories import FakeClock, api_client

from connector import Console
from connector.sandbox import Sandbox, SandboxServer


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data directory in effect for the app, with no live account in the environment."""
    monkeypatch.setenv("CONNECTOR_DB", str(tmp_path / "connector.db"))
    monkeypatch.delenv("AC_API_URL", raising=False)
    for name in ("AC_API_KEY", "CONNECTOR_SECRET_KEY", "AC_ALLOWED_HOSTS"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def console(tmp_path: Path, clock: FakeClock) -> Iterator[Console]:
    """A Console on a fresh file, on an in-memory sandbox; retries wait on a fake clock."""
    made = Console(
        tmp_path / "connector.db", env={}, sandbox=Sandbox(), clock=clock, sleep=clock.sleep
    )
    yield made
    made.close()


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    """An in-memory sandbox, closed after the test."""
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def client(sb: Sandbox) -> Iterator[httpx.Client]:
    """A raw httpx client on ``sb`` with its key."""
    with api_client(sb) as made:
        yield made


@pytest.fixture
def loopback_account() -> Iterator[tuple[Sandbox, dict[str, str]]]:
    """A sandbox served on loopback, and the environment that points the console at it (for
    the app in its own process, out of reach of an in-process sandbox)."""
    with Sandbox() as sandbox, SandboxServer(sandbox) as server:
        yield sandbox, {"AC_API_URL": server.base_url, "AC_API_KEY": sandbox.api_key}


@pytest.fixture
def cli(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run ``python -m connector`` in process on a fresh data dir: (exit code, stdout, stderr)."""
    from connector.entry.cli import main

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run
