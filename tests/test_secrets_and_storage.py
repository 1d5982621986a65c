"""The API key stays in the settings store; a broken data file is a sentence, not a traceback."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from factories import action, prompt_with
from streamlit.testing.v1 import AppTest

from connector import ActionType, Console, Interaction, SimulatedUser, StorageError
from connector.entry.cli import main
from connector.sandbox import Sandbox, SandboxServer
from connector.store.log_export import ExportFormat
from connector.store.log_export import export as export_log
from connector.store.log_query import EVERYTHING

LIVE_KEY = "live-secret-key-7f3a9c2e51d84b6e"
APP = str(Path(__file__).resolve().parents[1] / "app.py")


def test_the_key_is_only_in_the_settings_table(tmp_path: Path, capsys) -> None:
    with Sandbox(api_key=LIVE_KEY) as sandbox, SandboxServer(sandbox) as server:
        console = Console(tmp_path / "connector.db", env={}, sandbox=Sandbox())
        console.save_account(server.base_url, LIVE_KEY)
        console.refresh_catalog()
        prompt = prompt_with(
            action(ActionType.ADD_CONTACT), action(ActionType.ADD_TO_LIST, "999999")
        )
        for dry_run in (False, True):
            console.runner().run(
                prompt, Interaction.ACCEPT, SimulatedUser(), {0: "k@x.io"}, dry_run=dry_run
            )
        out = io.StringIO()
        export_log(console.log, EVERYTHING, ExportFormat.CSV, out)
        exported = out.getvalue()
        with console.db.read() as conn:
            tables = [t for t in conn.table_names() if t != "settings"]
            rows = {t: list(conn.table(t).rows) for t in tables}
            dump = json.dumps(rows, default=lambda blob: bytes(blob).decode("latin-1"))
            saved = list(conn.table("settings").rows)
        console.close()
    assert LIVE_KEY not in dump + exported
    assert any(row["value"] == LIVE_KEY for row in saved)  # ... where it is meant to be
    assert LIVE_KEY not in repr(console.account())


def test_an_unusable_data_file_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(StorageError) as caught:
        Console(blocker / "connector.db", env={})
    assert "can't be used" in caught.value.message and "CONNECTOR_DB" in caught.value.message


def test_the_app_explains_an_unusable_data_file(tmp_path: Path, monkeypatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("CONNECTOR_DB", str(blocker / "connector.db"))
    at = AppTest.from_file(APP, default_timeout=20).run()
    assert not at.exception
    assert "CONNECTOR_DB" in at.error[0].value


def test_the_cli_explains_an_unusable_data_file(tmp_path: Path, monkeypatch, capsys) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("CONNECTOR_DB", str(blocker / "connector.db"))
    assert main(["check"]) == 1
    assert "can't be used" in capsys.readouterr().err
