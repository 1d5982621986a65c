"""``python -m connector account|sandbox-reset|secret-key``: the Setup page from a shell."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from connector import Console
from connector.entry.cli import main
from connector.sandbox import Sandbox, SandboxServer

KEY = "cli-account-key-0123456789abcdef"


@pytest.fixture
def cli(data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Run the CLI in process; ``stdin`` is what is piped in. Returns (code, stdout, stderr)."""

    def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def server():
    with Sandbox(api_key=KEY) as sandbox, SandboxServer(sandbox) as running:
        yield running


def test_save_reads_the_key_from_stdin_checks_it_and_never_prints_it(cli, server) -> None:
    code, out, err = cli("account", "save", "--url", server.base_url, "--json", stdin="wrong\n")
    assert code == 1 and "refused the API key" in err and "wrong" not in err

    code, out, err = cli("account", "save", "--url", server.base_url, "--json", stdin=KEY + "\n")
    answer = json.loads(out)
    assert code == 0 and answer["in_effect"] == "saved" and answer["user"]["email"]
    assert answer["saved"]["masked_key"] == "••••••••" + KEY[-4:]
    assert KEY not in out + err

    code, out, _ = cli("account")
    assert code == 0 and "In effect: saved" in out and "unencrypted" in out and KEY not in out


def test_use_switches_without_the_key_and_remove_needs_yes(cli, server, data_dir) -> None:
    cli("account", "save", "--url", server.base_url, stdin=KEY)
    code, out, _ = cli("account", "use", "sandbox", "--json")
    assert code == 0 and json.loads(out)["in_effect"] == "sandbox"
    assert json.loads(out)["saved"]["in_use"] is False
    code, out, _ = cli("account", "use", "saved", "--json")
    assert code == 0 and json.loads(out)["in_effect"] == "saved"

    code, out, _ = cli("account", "remove")
    assert code == 0 and "run again with --yes" in out
    assert Console(data_dir / "connector.db").settings.account() is not None
    code, out, _ = cli("account", "remove", "--yes", "--json")
    assert code == 0 and json.loads(out) == {"in_effect": "sandbox", "saved": None, "removed": True}
    code, _, err = cli("account", "use", "saved")
    assert code == 2 and "No account is saved" in err

    events = [e.kind.value for e in Console(data_dir / "connector.db").audit.page()]
    assert events == ["account_removed", "account_switched", "account_switched", "account_saved"]


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("https://169.254.169.254", "link-local"),
        ("https://user:pw@acct.api-us1.com", "user name or password"),
        ("https://acct.api-us1.com:8443", "Remove the port"),
        ("https://evil.example", "not an ActiveCampaign API URL"),
    ],
)
def test_a_refused_host_is_refused_before_anything_is_sent(cli, url: str, says: str) -> None:
    code, out, err = cli("account", "save", "--url", url, stdin=KEY)
    assert code == 2 and says in err and KEY not in out + err


def test_save_without_a_piped_key_is_refused(cli, server) -> None:
    code, _, err = cli("account", "save", "--url", server.base_url, stdin="")
    assert code == 2 and "standard input" in err


def test_sandbox_reset_needs_yes(cli, data_dir) -> None:
    code, out, _ = cli("action", "add-contact", "--email", "reset@example.com")
    assert code == 0
    code, out, _ = cli("sandbox-reset", "--json")
    assert code == 0 and json.loads(out) == {"reset": False}
    code, out, _ = cli("sandbox-reset", "--yes", "--json")
    assert code == 0 and json.loads(out) == {"reset": True}
    console = Console(data_dir / "connector.db")
    assert console.client().find_contact("reset@example.com") is None
    assert console.audit.page()[0].kind.value == "sandbox_reset"


def test_secret_key_prints_a_usable_secret(cli, server, monkeypatch, data_dir) -> None:
    code, out, err = cli("secret-key")
    assert code == 0 and "CONNECTOR_SECRET_KEY" in err
    assert not (data_dir / "connector.db").exists()  # it needs no data file, and makes none
    monkeypatch.setenv("CONNECTOR_SECRET_KEY", out.strip())
    code, out, _ = cli("account", "save", "--url", server.base_url, "--json", stdin=KEY)
    assert code == 0 and json.loads(out)["saved"]["encrypted"] is True
    monkeypatch.setenv("CONNECTOR_SECRET_KEY", "not-a-secret")
    code, _, err = cli("check")
    assert code == 2 and "python -m connector secret-key" in err


def test_wider_modes_are_narrowed_and_said(cli, data_dir) -> None:
    cli("account")
    (data_dir / "connector.db").chmod(0o644)
    code, _, err = cli("account")
    assert code == 0 and "Owner-only files:" in err and "made owner-only (0644 → 0600)" in err
