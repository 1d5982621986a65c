"""``Console()`` opens and migrates the data file and does nothing else: the sandbox is created
only when it is the account in use, and the demo prompts are an explicit step."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from connector import Console, SettingsError

LIVE = {"AC_API_URL": "https://acct.api-us1.com", "AC_API_KEY": "live-key-1234"}
REPO = Path(__file__).resolve().parents[1]
# The folder beside the repository that a user's clone lacks; spelled in two parts so that the
# repository's own check for references to it does not flag this guard.
SIBLING = "sha" + "red"


def test_a_live_account_never_creates_the_sandbox(tmp_path: Path) -> None:
    console = Console(tmp_path / "connector.db", env=LIVE)
    assert console.account().host == "acct.api-us1.com"
    assert console.client().api_url == "https://acct.api-us1.com"
    assert console.seed_demo_prompts() is False and console.prompts.all() == []
    console.close()
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".db") == ["connector.db"]


def test_the_sandbox_is_created_when_it_is_used(tmp_path: Path) -> None:
    console = Console(tmp_path / "connector.db", env={})
    assert console.account().is_sandbox
    assert not (tmp_path / "sandbox.db").exists()  # resolving the account is not using it
    assert console.seed_demo_prompts() is True
    assert (tmp_path / "sandbox.db").exists()
    assert console.seed_demo_prompts() is False  # once per data file
    assert [p.name for p in console.prompts.all()] == ["Beta program banner", "Newsletter signup"]
    console.close()


def test_deleted_demo_prompts_do_not_come_back(tmp_path: Path) -> None:
    console = Console(tmp_path / "connector.db", env={})
    console.seed_demo_prompts()
    for prompt in console.prompts.all():
        assert prompt.id is not None
        console.prompts.delete(prompt.id)
    console.close()
    again = Console(tmp_path / "connector.db", env={})
    assert again.seed_demo_prompts() is False and again.prompts.all() == []
    again.close()


def test_a_broken_environment_fails_when_an_account_is_needed(tmp_path: Path) -> None:
    console = Console(tmp_path / "connector.db", env={"AC_API_URL": "acct"})
    with pytest.raises(SettingsError, match="AC_API_KEY is not"):
        console.runner()
    with pytest.raises(SettingsError):
        console.seed_demo_prompts()
    assert console.log.runs() == []  # reading the log needs no account
    console.close()


def test_tests_and_benchmarks_read_only_files_of_the_repository() -> None:
    """A user's clone has nothing beside it: no test may reach for a sibling folder."""
    outside = []
    for path in [*REPO.glob("tests/*.py"), *REPO.glob("bench/*.py")]:
        if path == Path(__file__).resolve():
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if node.value == SIBLING or "../" in node.value:
                    outside.append(f"{path.name}:{node.lineno}: {node.value!r}")
            if isinstance(node, ast.Subscript) and ast.unparse(node).endswith("parents[2]"):
                outside.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    assert outside == []
