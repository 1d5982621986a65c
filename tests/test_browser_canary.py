"""A canary key planted through Setup appears nowhere else: not in any page's HTML, SQLite file or
WAL, export, request trace, CLI output or server log.

The real app (`streamlit run app.py`) with ``CONNECTOR_SECRET_KEY`` set runs against a loopback
sandbox whose key is the canary. The test saves the account in the browser, drives every page
(a run in the Simulator makes request traces, the log shows them), runs every CLI command on
the same data file, then searches everything for the key and for the part its mask hides.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from browser import (
    REPO,
    browser_page,
    choose,
    click,
    fill,
    goto,
    require_chromium,
    segment,
    select_row,
    serve_app,
    wait_idle,
)
from playwright.sync_api import Page, expect

from connector.sandbox import Sandbox, SandboxServer
from connector.store.cipher import new_secret

pytestmark = pytest.mark.browser

CANARY = "canary" + secrets.token_hex(20)  # 46 characters, unique to this run
HIDDEN = CANARY[:-4]  # what the mask hides: no prefix of it may show either
EMAIL = "canary.user@example.com"


@pytest.fixture
def server(capfd: pytest.CaptureFixture[str]) -> Iterator[SandboxServer]:
    require_chromium()
    with Sandbox(api_key=CANARY) as sandbox, SandboxServer(sandbox, log_requests=True) as running:
        yield running


def _leaks(text: str) -> list[str]:
    return [needle for needle in (CANARY, HIDDEN, HIDDEN[:24]) if needle in text]


def _visit(page: Page, url: str, pages: dict[str, str], name: str) -> None:
    goto(page, url)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    pages[name] = page.content()


def _drive_every_page(base: str, page: Page, server_url: str) -> dict[str, str]:
    main = page.get_by_test_id("stMain")
    pages: dict[str, str] = {}
    goto(page, base + "/")  # the sandbox first: the demo prompts are seeded
    fill(main, "API URL", server_url, commit="Tab")
    box = main.get_by_label("API key", exact=True)
    box.fill(CANARY)
    box.press("Tab")
    click(main, "Save")
    expect(main.get_by_text("Connected as")).to_be_visible()
    expect(main.get_by_label("API key", exact=True)).to_have_value("")  # the key left the form
    expect(main.get_by_text("••••••••" + CANARY[-4:]).first).to_be_visible()
    pages["setup after save"] = page.content()

    _visit(page, base + "/catalog", pages, "catalog")
    _visit(page, base + "/prompts", pages, "prompts")

    goto(page, base + "/simulator")
    choose(main, "Prompt", "Newsletter signup")
    fill(main, "Email *", EMAIL, commit="Tab")
    click(main, "Subscribe")
    expect(main.get_by_text("2 succeeded")).to_be_visible()
    for summary in main.get_by_test_id("stExpander").locator("summary").all():
        summary.click()  # open every request trace
    wait_idle(page)
    pages["simulator run"] = page.content()

    goto(page, base + "/action_log")
    select_row(main.get_by_test_id("stDataFrame").first, 0)  # the run, its requests and answers
    wait_idle(page)
    for summary in main.get_by_test_id("stExpander").locator("summary").all():
        summary.click()
    wait_idle(page)
    pages["log run"] = page.content()
    for view in ("Actions", "Contact", "Charts", "Changes"):
        segment(main, "View", view)
        pages[f"log {view}"] = page.content()
    _visit(page, base + "/", pages, "setup")
    return pages


CLI_COMMANDS: list[list[str]] = [
    ["check", "--json"],
    ["check"],
    ["lists", "--json"],
    ["automations", "--json"],
    ["fields", "--json"],
    ["tags"],
    ["prompts", "--json"],
    ["simulate", "--prompt", "Newsletter signup", "--interaction", "accept",
     "--input", f"Email={EMAIL}", "--json"],
    ["action", "add-tag", "--email", EMAIL, "--tag", "1", "--json"],
    ["action", "add-to-list", "--email", "bad-email", "--list", "1"],
    ["log", "--json"],
    ["log"],
    ["runs", "--json"],
    ["export", "--format", "csv"],
    ["export", "--format", "jsonl"],
    ["action", "add-to-list", "--email", EMAIL, "--list", "999999", "--json"],  # fails: 404
    ["replay", "--status", "failed", "--dry-run", "--json"],
    ["replay", "--status", "failed", "--background", "--json"],
    ["jobs", "--json"],
    ["worker", "--exit-when-idle"],
    ["audit", "--json"],
    ["audit"],
    ["retention", "--older-than", "30", "--json"],
    ["account", "--json"],
    ["account", "use", "sandbox"],
    ["account", "use", "saved", "--json"],
    ["account", "remove", "--json"],
    ["sandbox-reset"],
    ["secret-key"],
]  # fmt: skip


def _run_every_command(data_dir: Path, env: dict[str, str], exports: Path) -> dict[str, str]:
    outputs: dict[str, str] = {}
    for argv in CLI_COMMANDS:
        done = subprocess.run(
            [sys.executable, "-m", "connector", *argv],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "Traceback" not in done.stderr, (argv, done.stderr)
        outputs[" ".join(argv)] = done.stdout + done.stderr
    for fmt in ("csv", "jsonl"):
        target = exports / f"log.{fmt}"
        done = subprocess.run(
            [sys.executable, "-m", "connector", "export", "--format", fmt, "--output", str(target)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        outputs[f"export {fmt} --output"] = done.stdout + done.stderr
    return outputs


def test_a_canary_key_is_nowhere_but_sealed_in_the_settings_store(
    server: SandboxServer, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    data_dir, exports = tmp_path / "data", tmp_path / "exports"
    data_dir.mkdir()
    exports.mkdir()
    secret = new_secret()
    env = {"CONNECTOR_SECRET_KEY": secret}
    with serve_app(data_dir, env=env) as base, browser_page() as page:
        pages = _drive_every_page(base, page, server.base_url)
        goto(page, base + "/action_log")
        segment(page.get_by_test_id("stMain"), "View", "Actions")
        with page.expect_download() as download_info:
            click(page.get_by_test_id("stMain"), "Download CSV")
        download_info.value.save_as(exports / "from-page.csv")

    # Sealed while the account is saved (the CLI below ends by removing it): every file of the
    # data folder checked now too, and the settings store holds a Fernet token.
    found_saved = {
        p.name: _leaks(p.read_bytes().decode("latin-1")) for p in data_dir.iterdir() if p.is_file()
    }
    assert {name: hits for name, hits in found_saved.items() if hits} == {}
    with closing(sqlite3.connect(data_dir / "connector.db")) as raw:
        stored = raw.execute("SELECT value FROM settings WHERE key = 'ac_api_key'").fetchone()[0]
    assert stored.startswith("fernet:")

    cli_env = {
        **{k: v for k, v in os.environ.items() if k not in ("AC_API_URL", "AC_API_KEY")},
        "CONNECTOR_DB": str(data_dir / "connector.db"),
        "CONNECTOR_SECRET_KEY": secret,
    }
    outputs = _run_every_command(data_dir, cli_env, exports)
    # The saved account was used by the commands above (their stderr names it)...
    assert server.base_url in outputs["check"]
    assert '"in_effect": "saved"' in outputs["account use saved --json"]
    # ... and the browser run's request trace is in the log, with the key redacted.
    assert "[redacted]" in pages["log run"]

    found: dict[str, list[str]] = {}
    for name, html in pages.items():
        found[f"page {name}"] = _leaks(html)
    for name, text in outputs.items():
        found[f"cli {name}"] = _leaks(text)
    files = [p for p in [*data_dir.rglob("*"), *exports.rglob("*")] if p.is_file()]
    assert {"connector.db", "sandbox.db", "streamlit.log"} <= {p.name for p in files}
    for path in files:
        found[f"file {path.name}"] = _leaks(path.read_bytes().decode("latin-1"))
    sandbox_log = capfd.readouterr()  # the sandbox server's request log
    assert "/api/3/users/me" in sandbox_log.err
    found["sandbox server log"] = _leaks(sandbox_log.out + sandbox_log.err)
    assert {where: hits for where, hits in found.items() if hits} == {}
