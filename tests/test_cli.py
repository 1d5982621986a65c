"""``python -m connector``: every subcommand, its JSON, its errors (one line, no traceback)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from connector.sandbox import Sandbox, SandboxServer


def test_check_prints_the_user_and_names_the_account(cli) -> None:
    code, out, err = cli("check")
    assert code == 0 and "Connected to the built-in sandbox as Sandy Box" in out
    assert err == "Account: sandbox\n"
    code, out, _ = cli("check", "--json")
    assert json.loads(out)["account"] == "sandbox" and json.loads(out)["user"]["email"]


@pytest.mark.parametrize(
    ("command", "count"), [("lists", 48), ("automations", 8), ("fields", 5), ("tags", 10)]
)
def test_catalog_commands_print_every_item(cli, command: str, count: int) -> None:
    code, out, _ = cli(command, "--json")
    answer = json.loads(out)
    assert code == 0 and answer["account"] == "sandbox" and len(answer[command]) == count
    assert all(item["id"] and item["name"] for item in answer[command])
    code, out, _ = cli(command)
    assert len(out.splitlines()) == count and "\t" in out


def test_action_runs_through_the_runner_and_is_logged(cli) -> None:
    code, out, _ = cli(
        "action", "add-to-list", "--email", "cli@example.com", "--list", "3", "--json"
    )
    run = json.loads(out)
    assert code == 0 and run["status"] == "succeeded" and run["account"] == "sandbox"
    subscribe = run["actions"][-1]
    assert (subscribe["status"], subscribe["attempts"], subscribe["target_id"]) == (
        "succeeded",
        1,
        "3",
    )
    assert run["contact_id"] and subscribe["evidence"]["status"] == 200

    code, out, _ = cli("log", "--json", "--limit", "5")
    rows = json.loads(out)
    assert [(r["action"], r["source"]) for r in rows] == [
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
    assert {a["status"] for a in json.loads(out)["actions"]} == {"succeeded"}


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


def test_failures_say_why_and_exit_non_zero(cli) -> None:
    code, out, err = cli("action", "add-to-list", "--email", "f@example.com", "--list", "999999")
    assert code == 1 and "could not find" in out and "Traceback" not in err

    code, _, err = cli("action", "add-contact", "--email", "not-an-email")
    assert code == 2 and "--email: “not-an-email” is not an email address" in err


# -- prompts and simulate ----------------------------------------------------------------------


def test_prompts_lists_the_demo_prompts_on_a_fresh_install(cli) -> None:
    code, out, _ = cli("prompts", "--json")
    prompts = {p["name"]: p for p in json.loads(out)["prompts"]}
    assert code == 0 and set(prompts) == {"Newsletter signup", "Beta program banner"}
    assert [i["label"] for i in prompts["Newsletter signup"]["inputs"]][:2] == [
        "Email",
        "First name",
    ]
    code, out, _ = cli("prompts")
    assert "Newsletter signup" in out and "accept" in out and "Add to List" in out


def test_simulate_runs_an_interaction_with_the_same_runner(cli) -> None:
    argv = ["simulate", "--prompt", "newsletter signup ", "--interaction", "accept"]
    code, out, _ = cli(*argv, "--input", "Email=Sim@Example.com", "--input", "first name=Sim")
    assert code == 0 and "succeeded" in out and "sim@example.com" in out
    code, out, _ = cli(*argv, "--input", "Email=sim@example.com", "--json")
    run = json.loads(out)
    assert code == 0 and run["status"] == "succeeded" and run["source"] == "cli"
    assert [a["reason_code"] for a in run["actions"]] == [None, "already_done"]
    assert run["inputs"][0] == {"label": "Email", "value": "sim@example.com"}


def test_simulate_exit_status_2_names_the_refused_input(cli) -> None:
    argv = ["simulate", "--prompt", "Newsletter signup", "--interaction", "accept"]
    code, _, err = cli(*argv)
    assert code == 2 and "Email: Email is required." in err
    code, _, err = cli(*argv, "--input", "Email=nope")
    assert code == 2 and "Email: “nope” is not an email address" in err
    code, _, err = cli(*argv, "--input", "Colour=blue")
    assert code == 2 and "has no input “Colour”" in err
    code, _, err = cli(*argv, "--trait", "novalue")
    assert code == 2 and "--trait takes KEY=VALUE" in err
    code, _, err = cli("simulate", "--prompt", "Nope", "--interaction", "accept")
    assert code == 2 and "No prompt is named “Nope”" in err and "Newsletter signup" in err


def test_simulate_decline_uses_traits_and_ignores_the_form(cli) -> None:
    code, out, err = cli(
        "simulate",
        "--prompt",
        "Newsletter signup",
        "--interaction",
        "decline",
        "--trait",
        "email_address=decliner@example.com",
        "--input",
        "Email=typed@example.com",
        "--json",
    )
    run = json.loads(out)
    assert code == 0 and run["status"] == "no_actions" and run["inputs"] == []
    assert run["traits"] == {"email_address": "decliner@example.com"}
    assert "does not submit the form" in err
    code, out, _ = cli("runs", "--json", "--limit", "1")
    assert json.loads(out)[0]["run_id"] == run["run_id"]


def test_simulate_dry_run_predicts_without_sending(cli) -> None:
    argv = ["simulate", "--prompt", "Newsletter signup", "--interaction", "accept"]
    cli(*argv, "--input", "Email=twice@example.com")
    code, out, _ = cli(*argv, "--input", "Email=twice@example.com", "--dry-run", "--json")
    run = json.loads(out)
    assert code == 0 and run["status"] == "dry_run"
    assert run["actions"][1]["reason"].startswith("Would be skipped: Already subscribed")


# -- accounts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"AC_API_URL": "http://acct.api-us1.com", "AC_API_KEY": "k"}, "only accepts https"),
        ({"AC_API_URL": "https://acct.api-us1.com"}, "AC_API_KEY is not"),
        ({"AC_API_KEY": "k"}, "AC_API_URL is not"),
        ({"AC_API_URL": "acct", "AC_API_KEY": "clé-secrète"}, "can't be part of a key"),
        ({"AC_API_URL": "acct", "AC_API_KEY": "k" * 300}, "300 characters long"),
    ],
)
def test_a_broken_environment_refuses_every_account_command(
    cli, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], says: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for argv in (
        ["action", "add-contact", "--email", "wrong@example.com"],
        ["simulate", "--prompt", "x", "--interaction", "accept"],
        ["check"],
        ["lists"],
    ):
        code, out, err = cli(*argv)
        assert code == 2 and says in err and "Traceback" not in err, argv
        assert "Account:" not in err and not out
    monkeypatch.delenv("AC_API_URL", raising=False)
    monkeypatch.delenv("AC_API_KEY", raising=False)
    code, out, _ = cli("log", "--json")
    assert code == 0 and json.loads(out) == []  # nothing was sent anywhere


def test_a_wrong_key_and_an_unreachable_host(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    with Sandbox() as sandbox, SandboxServer(sandbox) as server:
        monkeypatch.setenv("AC_API_URL", server.base_url)
        monkeypatch.setenv("AC_API_KEY", "wrong-key-1234")
        code, out, err = cli("check")
        assert code == 1 and "refused the API key" in err and "wrong-key" not in err + out
        assert f"Account: {server.base_url} (from AC_API_URL / AC_API_KEY)" in err
        monkeypatch.setenv("AC_API_KEY", sandbox.api_key)
        code, out, _ = cli("lists", "--json")
        assert code == 0 and len(json.loads(out)["lists"]) == 48

    monkeypatch.setenv("AC_API_URL", "http://127.0.0.1:9")  # discard port: nothing listens
    monkeypatch.setenv("AC_RETRY_SECONDS", "0")
    code, _, err = cli("check")
    assert code == 1 and "127.0.0.1:9 refused the connection" in err


def test_the_real_entry_point_has_no_traceback(data_dir: Path) -> None:
    env = {
        "CONNECTOR_DB": str(data_dir / "c.db"),
        "AC_API_URL": "http://127.0.0.1:9",
        "AC_API_KEY": "k",
        "AC_MAX_ATTEMPTS": "1",
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
    assert not (data_dir / "sandbox.db").exists()  # a live account never creates the sandbox


def test_an_outcome_the_log_could_not_keep_is_printed_and_fails_the_command(capsys) -> None:
    from connector import ActionType, Attempt, Interaction, Run, RunStatus, SimulatedUser, Status
    from connector.entry.cli import _report

    run = Run("r1", 1, "P", Interaction.ACCEPT, SimulatedUser("u"), account="sandbox")
    attempt = Attempt("r1", 1, ActionType.ADD_TO_LIST, "Add to List", "3", "News")
    attempt.finish(Status.SUCCEEDED)
    attempt.unrecorded = "The action log could not record it (database is locked)."
    run.attempts = [attempt]
    run.conclude()
    assert run.status is RunStatus.SUCCEEDED
    assert _report(run, False, labels=[]) == 1
    err = capsys.readouterr().err
    assert "NOT RECORDED in the action log: Add to List “News” (#3): The action log" in err


def test_a_dry_run_exits_as_the_live_run_would(cli) -> None:
    """A dry run that predicts a failure must not say all is well."""
    argv = ["simulate", "--prompt", "Beta program banner", "--interaction", "accept"]
    code, out, _ = cli(*argv, "--dry-run", "--json")  # no email trait: nothing could run
    assert code == 1 and json.loads(out)["status"] == "dry_run"
    code, _, _ = cli(*argv)
    assert code == 1  # as the live run
    code, _, _ = cli(*argv, "--trait", "email_address=ok@example.com", "--dry-run")
    assert code == 0


# -- every action, checked before anything is sent (issue 13) ----------------------------------


def test_action_offers_every_action_of_the_registry() -> None:
    from connector.ac.actions import REGISTRY
    from connector.entry.cli import _ACTIONS

    assert set(_ACTIONS.values()) == set(REGISTRY) and len(_ACTIONS) == 8
    assert set(_ACTIONS) >= {"update-contact", "unsubscribe-from-list", "remove-tag"}


# (action, its flags, what runs first so it has something to act on)
EVERY_ACTION = [
    ("add-contact", [], []),
    ("add-to-list", ["--list", "3", "--resubscribe"], []),
    ("add-to-automation", ["--automation", "1", "--allow-reentry"], []),
    ("add-tag", ["--tag", "1"], []),
    ("update-contact", ["--first-name", "Grace", "--phone", "+1 555 010 0199"], ["add-contact"]),
    ("update-contact-fields", ["--last-name", "Hopper"], ["add-contact"]),
    ("unsubscribe-from-list", ["--list", "3"], ["add-to-list", "--list", "3"]),
    ("remove-from-automation", ["--automation", "1"], ["add-to-automation", "--automation", "1"]),
    ("remove-tag", ["--tag", "1"], ["add-tag", "--tag", "1"]),
]


@pytest.mark.parametrize(
    ("kind", "flags", "before"), EVERY_ACTION, ids=[a[0] for a in EVERY_ACTION]
)
def test_every_action_runs_on_the_sandbox(
    cli, kind: str, flags: list[str], before: list[str]
) -> None:
    email = f"{kind}@example.com"
    if before:
        code, _, err = cli(
            "action", before[0], "--email", email, "--first-name", "Ada", *before[1:]
        )
        assert code == 0, err
    code, out, err = cli("action", kind, "--email", email, *flags, "--json")
    assert code == 0, err
    run = json.loads(out)
    done = run["actions"][-1]
    wanted = "update_contact" if kind.startswith("update-contact") else kind.replace("-", "_")
    assert (done["action"], done["status"]) == (wanted, "succeeded"), done
    assert done["reason_code"] is None, done  # sent and shown done, not skipped
    if "--allow-reentry" in flags:  # enrolls again: not in this single-entry automation
        return
    code, out, _ = cli("action", kind, "--email", email, *flags, "--json")
    again = json.loads(out)["actions"][-1]["status"]
    assert code == 0 and again == ("succeeded" if kind == "add-contact" else "skipped")  # done


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["add-to-list", "--list", "abc"], "--list takes a list id, digits only"),
        (["add-to-list", "--list", "3\nX-Injected: 1"], "not “3\\nX-Injected: 1”"),
        (["add-to-automation", "--automation", "1\n"], "not “1\\n”"),
        (["add-tag", "--tag", "\x1b[31m1"], "not “\\u001b[31m1”"),
        (["remove-tag", "--tag", "٣"], "digits only"),  # not ASCII digits
        (["add-tag", "--tag", "1" * 21], "digits only"),
        (["add-to-list"], "--list ID is required"),
        (["add-tag", "--list", "3", "--tag", "1"], "add-tag takes no --list (only add-to-list"),
        (["add-tag", "--tag", "1", "--resubscribe"], "takes no --resubscribe"),
        (["add-contact", "--phone", "call me"], "--phone: “call me” is not a phone number"),
    ],
)
def test_refused_action_input_sends_nothing(
    cli, loopback_account, monkeypatch: pytest.MonkeyPatch, argv: list[str], says: str
) -> None:
    sandbox, env = loopback_account
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, out, err = cli("action", *argv[:1], "--email", "refused@example.com", *argv[1:])
    assert code == 2 and says in err and not out, err
    assert len(err.strip().splitlines()) == 1  # one sentence, the value never printed raw
    assert "\n" not in err.strip() and "\x1b" not in err
    assert sandbox.request_count() == 0  # nothing was sent: no contact sync, no lookup
    code, out, _ = cli("log", "--json")
    assert json.loads(out) == []


@pytest.mark.parametrize(
    "argv",
    [
        ["log", "--limit", "-5"],
        ["log", "--limit", "0"],
        ["log", "--limit", "ten"],
        ["log", "--limit", "1e3"],
        ["runs", "--limit", "-1"],
        ["audit", "--limit", "0"],
        ["log", "--prompt-id", "-2"],
        ["export", "--prompt-id", "x"],
        ["replay", "--row", "0"],
        ["replay", "--row", "-3"],
        ["retention", "--older-than", "-1"],
        ["retention", "--older-than", "99999999999"],
        ["worker", "--exit-when-idle", "nan"],
        ["worker", "--exit-when-idle", "-1"],
        ["log", "--last", "99999999d"],
        ["log", "--last", "0d"],
    ],
)
def test_numeric_options_refuse_what_is_not_a_usable_number(cli, argv: list[str]) -> None:
    code, out, err = cli(*argv)
    assert code == 2 and not out, (argv, err)
    assert argv[1] in err and argv[2] in err and "Traceback" not in err


def test_a_limit_is_taken_as_given(cli) -> None:
    for n in range(3):
        cli("action", "add-contact", "--email", f"n{n}@example.com")
    code, out, _ = cli("log", "--limit", "2", "--json")
    assert code == 0 and len(json.loads(out)) == 2


def test_a_run_left_for_a_worker_exits_3_and_says_who_finishes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A lost answer (the connection drops after the account applied the tag): the command
    reports the run as not finished (exit 3), never as failed or succeeded, and says when its
    verification is due and who finishes it."""
    from factories import FakeClock, action, prompt_with, user

    from connector import ActionType, Console, Interaction
    from connector.entry.cli import UNFINISHED, _report
    from connector.sandbox import Fault

    clock = FakeClock()
    console = Console(tmp_path / "c.db", env={}, sandbox=Sandbox(), clock=clock, sleep=clock.sleep)
    console.sandbox.inject(Fault("reset", "POST", "/contactTags", commit=True))
    prompt = prompt_with(action(ActionType.ADD_TAG, "1"))
    run = console.runner().run(prompt, Interaction.ACCEPT, user(), {0: "exit3@x.io"})
    assert _report(run, False, labels=["Email"]) == UNFINISHED == 3
    out, err = capsys.readouterr()
    assert "pending" in out and "Not finished yet" in err and "python -m connector worker" in err
    console.close()
