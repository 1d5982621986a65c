"""The README stays true: every action type and setting is documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector import REGISTRY, SETTINGS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


@pytest.mark.parametrize("action_type", list(REGISTRY))
def test_every_action_type_is_documented(action_type) -> None:
    spec = REGISTRY[action_type]
    assert f"`{action_type.value}` ({spec.label})" in README


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_documented(setting) -> None:
    assert f"| `{setting.name}` |" in README


def test_quick_start_is_the_two_make_commands() -> None:
    assert "make run" in README and "make test" in README


def test_every_cli_command_is_documented() -> None:
    from connector.cli import _COMMANDS

    for command in _COMMANDS:
        assert f"`python -m connector {command}" in README, command
