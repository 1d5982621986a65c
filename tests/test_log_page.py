"""The action log page as an operator uses it after something went wrong: find the person,
page through a relative range, replay what failed, see who changed what, and clean up."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from test_pages import button, run_page, texts

from connector import ActionConfig, ActionType, Console, Interaction, SimulatedUser
from connector.engine.jobs import JobState
from connector.sandbox import Fault
from pages import _log_views


def selected(at: AppTest, key: str, rows: list[int]) -> None:
    """Select ``rows`` of the table ``key`` (the actions table's key changes with its rows)."""
    if key == "log_table":
        key = at.session_state["log_table_key"]
    at.session_state[key] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    at.run()


def newsletter(console: Console) -> object:
    console.seed_demo_prompts()
    return next(p for p in console.prompts.all() if p.name == "Newsletter signup")


def failed_signup(data_dir: Path, email: str = "grace@example.com") -> int:
    """A run whose Add to List failed (a 422 from the sandbox); returns the failed row id."""
    console = Console(data_dir / "connector.db")
    console.sandbox.inject(Fault("status", "POST", "/contactLists", status=422))
    run = console.runner(operator="tester").run(
        newsletter(console), Interaction.ACCEPT, SimulatedUser(), {0: email}
    )
    console.close()
    failed = [a for a in run.attempts if a.status.value == "failed"]
    assert len(failed) == 1 and failed[0].log_id is not None
    return failed[0].log_id


def test_a_failed_action_is_replayed_from_the_page_and_both_rows_link(data_dir: Path) -> None:
    original = failed_signup(data_dir)
    at = run_page("action_log")
    at.segmented_control(key="log_view").set_value("Actions").run()
    at.multiselect(key="log_status").set_value(["failed"]).run()
    selected(at, "log_table", [0])
    assert f"Entry #{original}" in texts(at)

    at.session_state["operator"] = "Ann Operator"  # the sidebar's name field
    button(at, "Replay 1 selected").click().run()

    console = Console(data_dir / "connector.db")
    deadline = time.monotonic() + 30
    while console.jobs.active() and time.monotonic() < deadline:
        time.sleep(0.05)
    job = console.jobs.recent(1)[0]
    assert job.state is JobState.DONE and job.counts == {"succeeded": 1}, job
    replay = console.log.retries(original)
    assert [(r["status"], r["operator"], r["source"]) for r in replay] == [
        ("succeeded", "Ann Operator", "replay")
    ]
    assert job.operator == "Ann Operator" and console.log.get(original)["operator"] == "tester"
    at.multiselect(key="log_status").set_value([]).run()
    table = at.dataframe[0].value
    links = dict(zip(table["#"], table["Replay"], strict=True))
    assert links[replay[0]["id"]] == f"← #{original}"  # the new row points back
    assert links[original] == f"→ #{replay[0]['id']} succeeded"  # and the original forward
    selected(at, "log_table", [list(table["#"]).index(original)])
    assert any(b.label.startswith(f"Replayed as #{replay[0]['id']}") for b in at.button)
    button(at, f"Replayed as #{replay[0]['id']} (succeeded)").click().run()
    assert f"Entry #{replay[0]['id']}" in texts(at)  # and the link goes there
    console.close()


def test_any_row_opens_the_contacts_whole_history(data_dir: Path) -> None:
    failed_signup(data_dir, "ada@example.com")
    console = Console(data_dir / "connector.db")
    console.runner().run(
        newsletter(console),
        Interaction.DISMISS,
        SimulatedUser("u", {"email_address": "ada@example.com"}),
    )
    console.close()
    at = run_page("action_log")
    at.segmented_control(key="log_view").set_value("Actions").run()
    selected(at, "log_table", [0])
    button(at, "All activity for this contact").click().run()
    assert at.segmented_control(key="log_view").value == "Contact"
    assert at.text_input(key="log_contact").value == "ada@example.com"
    assert "2 runs" in texts(at) and "Dismiss" in texts(at) and "Accept" in texts(at)


def test_older_pages_stay_put_under_a_relative_range(data_dir: Path) -> None:
    console = Console(data_dir / "connector.db", env={"AC_RATE_LIMIT": "10000"})
    prompt = newsletter(console)
    runner = console.runner()
    for n in range(30):  # 30 runs of 2 actions: 60 rows, two pages of 50
        runner.run(prompt, Interaction.ACCEPT, SimulatedUser(), {0: f"p{n}@example.com"})
    console.close()
    at = run_page("action_log")
    at.segmented_control(key="log_view").set_value("Actions").run()
    at.selectbox(key="log_range").set_value("Last 7 days").run()
    button(at, "Older").click().run()
    assert "51–60, newest first" in texts(at)
    at.run()  # a rerun recomputes "now": the page stays where it is
    assert "51–60, newest first" in texts(at)
    button(at, "Newer").click().run()
    assert "1–50, newest first" in texts(at)


def test_a_search_with_nothing_to_search_says_so_and_keeps_the_filters(data_dir: Path) -> None:
    failed_signup(data_dir)
    at = run_page("action_log")
    at.segmented_control(key="log_view").set_value("Actions").run()
    at.multiselect(key="log_status").set_value(["failed"]).run()
    at.text_input(key="log_text").input('"))) (* ^').run()
    assert not at.exception
    assert any("Nothing to search for" in e.value for e in at.error)
    assert at.multiselect(key="log_status").value == ["failed"]
    at.text_input(key="log_text").input('NEAR( "OR" 422').run()  # syntax is searched as text
    assert not at.exception and not at.error
    at.text_input(key="log_text").input("grace@exa").run()
    assert list(at.dataframe[0].value["Email"]) == ["grace@example.com"]


def test_configuration_changes_show_who_did_what(data_dir: Path) -> None:
    console = Console(data_dir / "connector.db")
    prompt = newsletter(console)
    prompt.headline = "Changed by Ann"
    console.save_prompt(prompt, operator="ann")
    console.close()
    at = run_page("action_log")
    at.segmented_control(key="log_view").set_value("Changes").run()
    changes = at.dataframe[0].value
    assert list(changes["Who"])[0] == "ann" and "prompt edited" in list(changes["What"])[0]


def test_charts_draw_the_filtered_set(data_dir: Path) -> None:
    failed_signup(data_dir)
    at = run_page("action_log")
    at.segmented_control(key="log_view").set_value("Charts").run()
    assert not at.exception
    assert "Actions over time, by status" in texts(at)
    errors = at.dataframe[0].value
    assert list(errors["Times"]) == [1] and "rejected the data" in list(errors["Error"])[0]
    assert list(errors["Last seen"])[0].endswith(" UTC")


def test_an_export_too_big_for_the_page_points_to_the_command_line(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failed_signup(data_dir)
    monkeypatch.setattr(_log_views, "EXPORT_LIMIT", 0)
    at = run_page("action_log")
    at.segmented_control(key="log_view").set_value("Actions").run()
    at.selectbox(key="log_range").set_value("Last 7 days").run()
    at.multiselect(key="log_status").set_value(["succeeded"]).run()
    assert not [b for b in at.get("download_button")]
    commands = [c.value for c in at.code if "python -m connector export" in c.value]
    assert commands and "--last 7d" in commands[0] and "--status succeeded" in commands[0]


def test_retention_says_how_many_before_it_deletes(data_dir: Path) -> None:
    failed_signup(data_dir)
    with Console(data_dir / "connector.db").db.write() as db:  # make the run 100 days old
        db.execute("UPDATE action_log SET created_at = '2020-01-01T00:00:00.000Z'")
        db.execute("UPDATE runs SET started_at = '2020-01-01T00:00:00.000Z'")
    at = run_page("action_log")
    button(at, "Count them").click().run()
    assert "Delete 2 action rows and 1 runs from before" in texts(at)
    button(at, "Delete them").click().run()
    assert "Deleted 2 action rows and 1 runs" in texts(at)
    console = Console(data_dir / "connector.db")
    assert console.log.total() == 0
    assert console.audit.page(limit=1)[0].kind == "log_retention"
    console.close()


def test_a_deleted_prompt_keeps_its_name_in_the_filter(data_dir: Path) -> None:
    console = Console(data_dir / "connector.db")
    prompt = newsletter(console)
    console.runner().run(prompt, Interaction.ACCEPT, SimulatedUser(), {0: "z@example.com"})
    assert prompt.id is not None
    console.delete_prompt(prompt.id, operator="ann")
    console.close()
    at = run_page("action_log")
    picker = at.multiselect(key="log_prompts")
    assert "Newsletter signup (deleted)" in picker.options
    picker.set_value([prompt.id]).run()
    assert list(at.dataframe[0].value["Prompt"]) == ["Newsletter signup"]


def test_a_run_refused_at_intake_is_in_the_log_with_its_reason(data_dir: Path) -> None:
    """A stored definition the editor would refuse (the same list twice) runs nothing; the run
    is recorded as refused, with the sentence, and the log's runs view shows it."""
    console = Console(data_dir / "connector.db")
    prompt = newsletter(console)
    prompt.actions[Interaction.ACCEPT].append(
        ActionConfig(ActionType.ADD_TO_LIST, dict(prompt.actions[Interaction.ACCEPT][1].params))
    )
    run = console.runner().run(prompt, Interaction.ACCEPT, SimulatedUser(), {0: "m@example.com"})
    console.close()
    assert run.refusal and not run.attempts
    at = run_page("action_log")
    shown = at.dataframe[0].value
    assert list(shown["Outcome"]) == ["refused"] and list(shown["Actions"]) == [""]
