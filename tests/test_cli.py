"""``python -m connector``: every subcommand, its JSON, its errors (one line, no traceback)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from connector.cli import main
from connector.sandbox import Sandbox, SandboxServer


@pytest.fixture
def cli(data_dir: Path, capsys: pytest.CaptureFixture[str]):
    """Run the CLI in process on a fresh data dir; returns (exit code, stdout, stderr)."""

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_check_prints_the_user(cli) -> None:
    code, out, err = cli("check")
    assert code == 0 and "Connected to the built-in sandbox as Sandy Box" in out and not err


@pytest.mark.parametrize(
    ("command", "count"), [("lists", 48), ("automations", 8), ("fields", 5), ("tags", 10)]
)
def test_catalog_commands_print_every_item(cli, command: str, count: int) -> None:
    code, out, _ = cli(command, "--json")
    items = json.loads(out)
    assert code == 0 and len(items) == count
    assert all(item["id"] and item["name"] for item in items)
    code, out, _ = cli(command)
    assert len(out.splitlines()) == count and "\t" in out


def test_action_runs_through_the_runner_and_is_logged(cli) -> None:
    code, out, _ = cli(
        "action", "add-to-list", "--email", "cli@example.com", "--list", "3", "--json"
    )
    outcome = json.loads(out)
    assert code == 0
    assert (outcome["status"], outcome["attempts"], outcome["target_id"]) == ("succeeded", 1, "3")
    assert outcome["contact_id"]

    code, out, _ = cli("log", "--json", "--limit", "5")
    rows = json.loads(out)
    assert [(r["action_type"], r["source"]) for r in rows] == [
        ("add_to_list", "cli"),
        ("add_contact", "cli"),
    ]

    code, out, _ = cli("action", "add-to-list", "--email", "cli@example.com", "--list", "3")
    assert code == 0 and "Already subscribed" in out


@pytest.mark.parametrize(
    ("kind", "flag", "target"),
    [
        ("add-contact", None, None),
        ("add-to-automation", "--automation", "1"),
        ("add-tag", "--tag", "1"),
    ],
)
def test_each_action_kind(cli, kind: str, flag: str | None, target: str | None) -> None:
    argv = ["action", kind, "--email", f"{kind}@example.com", "--first-name", "Ada", "--json"]
    if flag:
        argv += [flag, target]
    code, out, err = cli(*argv)
    assert code == 0, err
    assert json.loads(out)["status"] == "succeeded"


def test_dry_run_sends_nothing(cli) -> None:
    code, out, _ = cli(
        "action", "add-tag", "--email", "d@example.com", "--tag", "1", "--dry-run", "--json"
    )
    assert code == 0 and json.loads(out)["status"] == "dry_run"
    code, out, _ = cli("log", "--status", "dry_run", "--json")
    assert len(json.loads(out)) == 2


def test_log_filters_by_status(cli) -> None:
    cli("action", "add-to-list", "--email", "f@example.com", "--list", "999999")
    code, out, _ = cli("log", "--status", "failed")
    assert code == 0 and len(out.splitlines()) == 1 and "add_to_list" in out


def test_failures_are_one_line_and_non_zero(cli) -> None:
    code, out, err = cli("action", "add-to-list", "--email", "f@example.com", "--list", "999999")
    assert code == 1 and "could not find" in err and len(err.strip().splitlines()) == 1

    code, _, err = cli("action", "add-contact", "--email", "not-an-email")
    assert code == 2 and "not an email address" in err


def test_a_wrong_key_and_an_unreachable_host(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    with Sandbox() as sandbox, SandboxServer(sandbox) as server:
        monkeypatch.setenv("AC_API_URL", server.base_url)
        monkeypatch.setenv("AC_API_KEY", "wrong-key-1234")
        code, out, err = cli("check")
        assert code == 1 and "refused the API key" in err and "wrong-key" not in err + out
        monkeypatch.setenv("AC_API_KEY", sandbox.api_key)
        code, out, _ = cli("lists", "--json")
        assert code == 0 and len(json.loads(out)) == 48

    monkeypatch.setenv("AC_API_URL", "http://127.0.0.1:9")  # discard port: nothing listens
    code, _, err = cli("check")
    assert code == 1 and "127.0.0.1:9 refused the connection" in err


def test_the_real_entry_point_has_no_traceback(data_dir: Path) -> None:
    env = {
        "CONNECTOR_DB": str(data_dir / "c.db"),
        "AC_API_URL": "http://127.0.0.1:9",
        "AC_API_KEY": "k",
    }
    done = subprocess.run(
        [sys.executable, "-m", "connector", "check"],
        capture_output=True,
        text=True,
        env={**env, "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert done.returncode == 1
    assert "refused the connection" in done.stderr and "Traceback" not in done.stderr
