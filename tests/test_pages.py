"""Every page through Streamlit's AppTest: it renders, and its main interaction works."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from connector import REGISTRY, ActionConfig, ActionType, Console, Interaction, SimulatedUser
from connector.sandbox import Sandbox, SandboxServer
from connector.store.cipher import new_secret
from pages import PAGES

TIMEOUT = 20
APP = str(Path(__file__).resolve().parents[1] / "app.py")


def run_page(name: str) -> AppTest:
    """Render one page alone, on the data file of ``data_dir``, after the step the frame runs
    first on a fresh install: seeding the demo prompts."""
    with closing(Console()) as console:
        console.seed_demo_prompts()

    def page(module: str) -> None:
        import importlib

        importlib.import_module(f"pages.{module}").render()

    return AppTest.from_function(page, args=(name,), default_timeout=TIMEOUT).run()


def button(at: AppTest, label: str):
    matches = [b for b in at.button if b.label == label]
    assert matches, f"no button {label!r} in {[b.label for b in at.button]}"
    return matches[0]


def key_field(at: AppTest):
    """Setup's API key field (a fresh one after each save)."""
    return next(t for t in at.text_input if t.label == "API key")


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [e.value for e in at.error] + [s.value for s in at.success]
    parts += [w.value for w in at.warning] + [i.value for i in at.info]
    parts += [s.value for s in at.subheader] + [t.value for t in at.title]
    return "\n".join(str(p) for p in parts)


def test_the_frame_registers_every_page_and_shows_the_sandbox(data_dir: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "Sandbox" in "\n".join(m.value for m in at.sidebar.markdown)
    assert str(data_dir / "connector.db") in "\n".join(c.value for c in at.sidebar.caption)
    assert at.title[0].value == "Setup"


@pytest.mark.parametrize("name", ["setup", "catalog", "prompts", "simulator", "action_log"])
def test_every_page_renders_without_exception(data_dir: Path, name: str) -> None:
    at = run_page(name)
    assert not at.exception, at.exception
    assert at.title


def test_every_registered_page_has_title_icon_and_help() -> None:
    assert len(PAGES) == 5
    for page in PAGES:
        assert page.title and page.icon.startswith(":material/") and len(page.help) > 20
        assert page.url_path and callable(page.render)


def test_setup_refuses_a_bad_url_and_keeps_what_was_typed(data_dir: Path) -> None:
    at = run_page("setup")
    at.text_input(key="setup_url").input("https://example.com")
    key_field(at).input("some-key")
    button(at, "Save").click().run()
    assert not at.exception
    assert "is not an ActiveCampaign API URL" in at.error[0].value
    assert "Nothing was saved." in texts(at)
    assert at.text_input(key="setup_url").value == "https://example.com"
    assert key_field(at).value == "some-key"


def test_setup_refuses_a_key_that_cannot_be_one(data_dir: Path) -> None:
    at = run_page("setup")
    at.text_input(key="setup_url").input("acct")
    key_field(at).input("clé-secrète-1234")
    button(at, "Test").click().run()
    assert not at.exception
    assert "can't be part of a key" in at.error[0].value
    assert "clé" not in at.error[0].value


def test_setup_tests_saves_and_switches_back(data_dir: Path) -> None:
    with Sandbox() as sandbox, SandboxServer(sandbox) as server:
        at = run_page("setup")
        at.text_input(key="setup_url").input(server.base_url)
        key_field(at).input("wrong-key")
        button(at, "Test").click().run()
        assert "refused the API key" in at.error[0].value
        assert "wrong-key" not in texts(at)

        key_field(at).input(f"  {sandbox.api_key}  ")
        button(at, "Test").click().run()
        assert "Connected as" in at.success[0].value

        button(at, "Save").click().run()
        assert not at.exception
        assert "Live" in texts(at) and server.base_url.split("//")[1] in texts(at)
        assert sandbox.api_key not in texts(at)
        assert key_field(at).value == ""  # saved: the key left the form
        assert at.text_input(key="setup_url").value == server.base_url

        assert "unencrypted" in texts(at) and "in use" in texts(at)
        assert "stored only in this console's data file, unencrypted" in texts(at)

        button(at, "Switch to the sandbox").click().run()
        assert "Built-in demo account" in texts(at)
        assert "set aside" in texts(at)  # kept: switching back needs no key
        button(at, f"Switch back to {server.base_url.split('//')[1]}").click().run()
        assert "Live" in texts(at) and not at.exception

        assert button(at, "Remove the saved account").disabled
        at.checkbox(key="forget_ok").check().run()
        button(at, "Remove the saved account").click().run()
        assert "was removed, with its key" in texts(at)
        assert "Built-in demo account" in texts(at)
        assert Console(data_dir / "connector.db").settings.account() is None


def test_setup_says_when_the_saved_key_is_encrypted(data_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("CONNECTOR_SECRET_KEY", new_secret())
    with Sandbox() as sandbox, SandboxServer(sandbox) as server:
        at = run_page("setup")
        at.text_input(key="setup_url").input(server.base_url)
        key_field(at).input(sandbox.api_key)
        assert "data file, encrypted with `CONNECTOR_SECRET_KEY`" in texts(at)
        button(at, "Save").click().run()
        assert "encrypted in" in texts(at) and "(encrypted)" in texts(at)
        monkeypatch.setenv("CONNECTOR_SECRET_KEY", new_secret())  # the secret changed
        at.run()
        assert not at.exception and "chosen, but it can't be used" in texts(at)
        frame = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
        assert not frame.exception
        assert "encrypted with another CONNECTOR_SECRET_KEY" in frame.error[0].value
        assert "enter the API key again on Setup" in frame.error[0].value


def test_setup_reports_an_unreachable_host(data_dir: Path) -> None:
    at = run_page("setup")
    at.text_input(key="setup_url").input("http://127.0.0.1:9")  # discard port: nothing listens
    key_field(at).input("k")
    button(at, "Test").click().run()
    assert "refused the connection" in at.error[0].value


def test_catalog_lists_every_item_and_searches(data_dir: Path) -> None:
    at = run_page("catalog")
    assert not at.exception
    assert [t.label for t in at.tabs] == [
        "Lists (48)",
        "Automations (8)",
        "Custom fields (5)",
        "Tags (10)",
    ]
    assert len(at.dataframe[0].value) == 48
    at.text_input(key="search_lists").input("beta").run()
    shown = at.dataframe[0].value
    assert 0 < len(shown) < 48 and all("beta" in n.lower() for n in shown["Name"])
    assert "Inactive" in set(at.dataframe[1].value["Status"])
    assert all(created.endswith(" UTC") for created in at.dataframe[0].value["Created"])
    plan = at.dataframe[2].value.set_index("Title").loc["Plan"]
    assert plan["Options"] == "Free, Starter, Pro, Enterprise"  # from the fieldOptions sideload


def test_prompts_create_with_actions_and_save(data_dir: Path) -> None:
    at = run_page("prompts")
    button(at, "New").click().run()
    name_box = next(t for t in at.text_input if t.label == "Name")
    name_box.input("Checkout survey")
    button(at, "Add form input").click().run()
    next(s for s in at.selectbox if s.label == "Validation").set_value("email")
    button(at, "Add a contact field").click().run()
    next(s for s in at.selectbox if s.label == "Contact field").set_value("email").run()
    draft = at.session_state["prompt_drafts"]["new"]
    next(s for s in at.selectbox if s.label == "Form input").set_value(draft.inputs[0]).run()
    button(at, "Add action").click().run()  # the first type offered: Add Contact
    add_type = next(s for s in at.selectbox if s.label == "Add an action")
    add_type.set_value("add_to_list").run()
    next(b for b in at.button if b.label == "Add action").click().run()
    list_picker = next(s for s in at.selectbox if s.label == "List")
    list_picker.set_value("3").run()
    assert "Form input “Input 1”" in str(at.dataframe[0].value["Takes its value from"][0])
    button(at, "Save prompt").click().run()
    assert not at.exception
    assert "Saved “Checkout survey”." in texts(at)

    saved = next(
        p for p in Console(data_dir / "connector.db").prompts.all() if p.name == "Checkout survey"
    )
    assert [a.type.value for a in saved.actions_for(Interaction.ACCEPT)] == [
        "add_contact",
        "add_to_list",
    ]
    assert saved.actions_for(Interaction.ACCEPT)[1].params["list_id"] == "3"
    assert saved.mapping_for("email").value == saved.inputs[0].id
    assert at.selectbox(key="prompt_pick").value == saved.id  # now editing the saved prompt


def test_an_invalid_timeout_is_refused_at_save_not_dropped(data_dir: Path) -> None:
    at = run_page("prompts")
    prompt_id = at.selectbox(key="prompt_pick").value
    stored = Console(data_dir / "connector.db").prompts.get(prompt_id)
    at.number_input(key=f"p{prompt_id}.timeout").set_value(99999).run()
    button(at, "Save prompt").click().run()
    assert "between 0 (no countdown) and 3600 seconds, not 99999" in at.error[0].value
    assert "Saved" not in texts(at)
    assert at.number_input(key=f"p{prompt_id}.timeout").value == 99999  # kept to fix
    again = Console(data_dir / "connector.db").prompts.get(prompt_id)
    assert again.timeout_seconds == stored.timeout_seconds


def test_add_contact_stays_first_and_reentry_on_a_once_automation_warns(data_dir: Path) -> None:
    console = Console(data_dir / "connector.db")
    console.seed_demo_prompts()
    once = next(a for a in console.client().automations() if not a.multientry)
    banner = next(p for p in console.prompts.all() if p.name == "Beta program banner")
    enroll = ActionConfig(
        ActionType.ADD_TO_AUTOMATION,
        REGISTRY[ActionType.ADD_TO_AUTOMATION].params_for(once.id, once.name, allow_reentry=True),
    )
    banner.actions[Interaction.ACCEPT] = [ActionConfig(ActionType.ADD_CONTACT), enroll]
    console.prompts.save(banner)
    at = run_page("prompts")
    at.selectbox(key="prompt_pick").set_value(banner.id).run()
    draft = at.session_state["prompt_drafts"][f"p{banner.id}"]
    sync_row, enroll_row = (row for row, _ in draft.actions[Interaction.ACCEPT])
    assert at.button(key=f"p{banner.id}.act.{sync_row}.down").disabled
    assert at.button(key=f"p{banner.id}.act.{enroll_row}.up").disabled
    assert any("Re-entry: Once" in w.value for w in at.warning)


def test_prompts_refuse_an_incomplete_action(data_dir: Path) -> None:
    at = run_page("prompts")
    next(s for s in at.selectbox if s.label == "Add an action").set_value("add_to_list").run()
    button(at, "Add action").click().run()
    button(at, "Save prompt").click().run()
    assert "choose a list" in at.error[0].value


def test_simulator_runs_accept_and_shows_requests(data_dir: Path) -> None:
    at = run_page("simulator")
    newsletter = next(
        p.id
        for p in Console(data_dir / "connector.db").prompts.all()
        if p.name == "Newsletter signup"
    )
    at.selectbox(key="sim_prompt").set_value(newsletter).run()
    at.text_input(key=f"sim_{newsletter}_in0").input("ada@example.com")
    at.button(key="sim_accept").click().run()
    assert not at.exception
    titles = [e.label for e in at.expander]
    assert any("succeeded" in t and "Add Contact" in t for t in titles)
    assert any("succeeded" in t and "Add to List" in t for t in titles)
    assert any('"url": "https://sandbox.invalid/api/3/contact/sync"' in c.value for c in at.code)


def test_simulator_reports_a_bad_email_against_its_field(data_dir: Path) -> None:
    at = run_page("simulator")
    console = Console(data_dir / "connector.db")
    newsletter = next(p.id for p in console.prompts.all() if p.name == "Newsletter signup")
    at.selectbox(key="sim_prompt").set_value(newsletter).run()
    at.text_input(key=f"sim_{newsletter}_in0").input("ada@")
    at.button(key="sim_accept").click().run()
    assert "not an email address" in at.error[0].value
    assert "nothing was sent" in at.error[1].value
    assert at.text_input(key=f"sim_{newsletter}_in0").value == "ada@"
    assert console.log.total() == 0


def test_action_log_lists_filters_and_details(data_dir: Path) -> None:
    console = Console(data_dir / "connector.db")
    console.seed_demo_prompts()
    prompt = next(p for p in console.prompts.all() if p.name == "Newsletter signup")
    console.runner(operator="tester").run(
        prompt, Interaction.ACCEPT, SimulatedUser(), {0: "grace@example.com"}
    )
    console.close()
    at = run_page("action_log")
    assert not at.exception
    assert at.segmented_control(key="log_view").value == "Runs"  # runs first, actions folded
    runs = at.dataframe[0].value
    assert list(runs["Actions"]) == ["✓ Add Contact · ✓ Add to List “Newsletter”"]
    at.segmented_control(key="log_view").set_value("Actions").run()
    assert at.metric[0].value == "2"
    table = at.dataframe[0].value
    assert list(table["Email"]) == ["grace@example.com", "grace@example.com"]
    assert set(table["Interaction"]) == {"Accept"} and set(table["Action"]) == {
        "Add Contact",
        "Add to List",
    }
    assert all(when.endswith(" UTC") for when in table["Time"])
    at.multiselect(key="log_status").set_value(["failed"]).run()
    assert "No actions match these filters" in texts(at)  # not "run a prompt"
    at.multiselect(key="log_status").set_value([]).run()
    at.multiselect(key="log_types").set_value(["add_to_list"]).run()
    assert at.metric[0].value == "1"
    at.session_state[at.session_state["log_table_key"]] = {
        "selection": {"rows": [0], "columns": [], "cells": []}
    }
    at.run()
    assert "Entry #" in texts(at)
    assert any("/api/3/contactLists" in c.value for c in at.code)


def test_prompt_edits_survive_looking_at_another_prompt(data_dir: Path) -> None:
    at = run_page("prompts")
    first = at.selectbox(key="prompt_pick").value
    headline = next(t for t in at.text_input if t.label == "Headline")
    headline.input("Edited, not saved").run()
    others = [o for o in at.selectbox(key="prompt_pick").options]
    assert len(others) >= 2
    other_id = next(p.id for p in Console(data_dir / "connector.db").prompts.all() if p.id != first)
    at.selectbox(key="prompt_pick").set_value(other_id).run()
    assert next(t for t in at.text_input if t.label == "Headline").value != "Edited, not saved"
    at.selectbox(key="prompt_pick").set_value(first).run()
    assert next(t for t in at.text_input if t.label == "Headline").value == "Edited, not saved"
    assert "Unsaved changes" in texts(at)
    button(at, "Discard changes").click().run()
    assert next(t for t in at.text_input if t.label == "Headline").value != "Edited, not saved"


def test_simulator_without_an_email_says_why_once(data_dir: Path) -> None:
    at = run_page("simulator")
    banner = next(
        p.id
        for p in Console(data_dir / "connector.db").prompts.all()
        if p.name == "Beta program banner"
    )
    at.selectbox(key="sim_prompt").set_value(banner).run()
    at.button(key="sim_accept").click().run()
    assert [w.value for w in at.warning if "No email" in w.value] != []
    assert len([w for w in at.warning if "No email" in w.value]) == 1
    assert all("skipped" in e.label and "No email" not in e.label for e in at.expander)

    at.text_input(key="sim_email_trait").input("grace@example.com")
    at.toggle(key="sim_dry_run").set_value(True)
    at.button(key="sim_accept").click().run()
    assert len(at.expander) == 3 and all("dry run" in e.label for e in at.expander)
    assert "Would create the contact" in texts(at)


def test_catalog_of_an_unreachable_account_says_so_once(data_dir: Path) -> None:
    Console(data_dir / "connector.db").settings.save("http://127.0.0.1:9", "key-1234")
    at = run_page("catalog")
    assert not at.exception
    assert "refused the connection" in at.error[0].value
    at.text_input(key="search_lists").input("x").run()  # a rerun must not retry the fetch
    assert not at.error
    assert "not fetched" in texts(at)
    assert [t.label for t in at.tabs][0] == "Lists (0)"


def test_simulator_decline_runs_with_an_empty_required_form(data_dir: Path) -> None:
    at = run_page("simulator")
    console = Console(data_dir / "connector.db")
    newsletter = next(p for p in console.prompts.all() if p.name == "Newsletter signup")
    newsletter.actions[Interaction.DECLINE] = list(newsletter.actions[Interaction.ACCEPT])
    console.prompts.save(newsletter)
    at = run_page("simulator")
    at.selectbox(key="sim_prompt").set_value(newsletter.id).run()
    at.text_input(key="sim_email_trait").input("decliner@example.com")
    at.button(key="sim_decline").click().run()
    assert not at.exception
    assert "nothing was sent" not in texts(at).lower().replace("nothing typed", "")
    assert all("succeeded" in e.label for e in at.expander) and len(at.expander) == 2
    assert "does not submit the form" in texts(at)
    run = console.log.runs()[0]
    assert (run.interaction, run.contact_email) == (Interaction.DECLINE, "decliner@example.com")


def test_simulator_result_belongs_to_its_prompt(data_dir: Path) -> None:
    at = run_page("simulator")
    prompts = {p.name: p.id for p in Console(data_dir / "connector.db").prompts.all()}
    at.selectbox(key="sim_prompt").set_value(prompts["Newsletter signup"]).run()
    at.button(key="sim_timeout").click().run()
    assert "Timeout on “Newsletter signup”: no actions, nothing sent" in texts(at)
    assert "no actions on this prompt" in texts(at)
    at.selectbox(key="sim_prompt").set_value(prompts["Beta program banner"]).run()
    assert "Newsletter signup”" not in texts(at)


def test_a_broken_environment_blocks_the_pages_that_act(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AC_API_URL", "http://acct.api-us1.com")
    monkeypatch.setenv("AC_API_KEY", "some-key")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "only accepts https" in at.error[0].value and "fall back" in at.error[0].value
    assert "No account" in "\n".join(m.value for m in at.sidebar.markdown)
    # AppTest.switch_page only knows file pages; ours are callables registered by url_path.
    at._page_hash = next(
        page_hash
        for page_hash, info in at._registered_pages.items()
        if info.get("url_pathname") == "simulator"
    )
    at.run()
    assert not at.exception and not at.button  # blocked: no prompt can be clicked
    assert not at.title  # the page itself never ran
    assert "only accepts https" in at.error[0].value


def test_action_log_shows_runs_without_actions(data_dir: Path) -> None:
    console = Console(data_dir / "connector.db")
    console.seed_demo_prompts()
    prompt = next(p for p in console.prompts.all() if p.name == "Newsletter signup")
    console.runner(operator="tester").run(
        prompt, Interaction.DISMISS, SimulatedUser("u-7", {"email_address": "d@x.io"})
    )
    console.close()
    at = run_page("action_log")
    at.segmented_control(key="log_view").set_value("Runs").run()
    table = at.dataframe[0].value
    assert list(table["Interaction"]) == ["Dismiss"] and list(table["Outcome"]) == ["no actions"]
    at.session_state["log_runs_table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert "Dismiss has no actions on this prompt" in texts(at)


def test_simulator_refuses_to_act_on_an_account_it_did_not_show(data_dir: Path) -> None:
    at = run_page("simulator")
    prompts = {p.name: p.id for p in Console(data_dir / "connector.db").prompts.all()}
    at.selectbox(key="sim_prompt").set_value(prompts["Newsletter signup"]).run()
    at.text_input(key=f"sim_{prompts['Newsletter signup']}_in0").input("ada@example.com")
    with Sandbox() as live, SandboxServer(live) as server:
        other_session = Console(data_dir / "connector.db")
        other_session.save_account(server.base_url, live.api_key)  # another tab saves an account
        before = live.request_count()
        at.button(key="sim_accept").click().run()
        assert "The account changed since the page was drawn" in at.error[0].value
        assert live.request_count() == before  # nothing reached it
        other_session.close()


def test_simulator_refuses_a_prompt_changed_since_it_was_drawn(data_dir: Path) -> None:
    at = run_page("simulator")
    console = Console(data_dir / "connector.db")
    prompt = next(p for p in console.prompts.all() if p.name == "Newsletter signup")
    at.selectbox(key="sim_prompt").set_value(prompt.id).run()
    at.text_input(key=f"sim_{prompt.id}_in0").input("ada@example.com")
    prompt.actions[Interaction.ACCEPT] = prompt.actions[Interaction.ACCEPT][:1]  # another tab
    console.prompts.save(prompt)
    at.button(key="sim_accept").click().run()
    assert "was changed or deleted since this page was drawn" in at.error[0].value
    assert console.log.runs() == []


def _go(at: AppTest, url_path: str) -> AppTest:
    """Switch the full app to the page registered at ``url_path`` (AppTest.switch_page only
    knows file pages; ours are callables registered by url_path)."""
    at._page_hash = next(
        page_hash
        for page_hash, info in at._registered_pages.items()
        if info.get("url_pathname") == url_path
    )
    return at.run()


def test_an_edit_survives_a_visit_to_another_page(data_dir: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    _go(at, "prompts")
    prompts = {p.name: p.id for p in Console(data_dir / "connector.db").prompts.all()}
    second = prompts["Newsletter signup"]  # not the first in the picker
    at.selectbox(key="prompt_pick").set_value(second).run()
    at.text_input(key=f"p{second}.headline").input("Edited, not saved").run()
    _go(at, "simulator")
    assert at.title[0].value == "Simulator"
    _go(at, "prompts")
    assert at.selectbox(key="prompt_pick").value == second
    assert at.text_input(key=f"p{second}.headline").value == "Edited, not saved"
    assert "Unsaved changes" in texts(at)
    assert at.button(key="confirm_delete").label == "Delete “Newsletter signup”"
    at.button(key="confirm_delete").click().run()
    remaining = [p.name for p in Console(data_dir / "connector.db").prompts.all()]
    assert remaining == ["Beta program banner"]  # the one that was open, and only it
    assert "Deleted “Newsletter signup”" in texts(at)


def test_test_this_action_runs_one_action_alone_dry_first(data_dir: Path) -> None:
    at = run_page("prompts")
    prompts = {p.name: p for p in Console(data_dir / "connector.db").prompts.all()}
    newsletter = prompts["Newsletter signup"]
    at.selectbox(key="prompt_pick").set_value(newsletter.id).run()
    subscribe = newsletter.actions_for(Interaction.ACCEPT)[1]
    key = f"p{newsletter.id}.act.{subscribe.id}"
    at.text_input(key=f"{key}.test_email").input("tester@example.com")
    at.button(key=f"{key}.test_dry").click().run()
    assert not at.exception
    assert "Would be sent" in texts(at)
    console = Console(data_dir / "connector.db")
    assert console.client().find_contact("tester@example.com") is None  # a dry run only reads
    at.button(key=f"{key}.test_real").click().run()
    assert "run succeeded" in texts(at)
    runs = console.log.runs(limit=1)
    assert runs[0].source == "test" and [
        a.label for a in console.log.run(runs[0].run_id).attempts
    ] == [
        "Add Contact",
        "Add to List",
    ]  # the sync it needs, then the action alone


def test_a_storage_failure_in_save_is_a_sentence(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from connector import PromptStore, StorageError

    def broken(self, prompt):
        raise StorageError("The console's data file can't be used: disk I/O error.")

    at = run_page("prompts")
    monkeypatch.setattr(PromptStore, "save", broken)
    button(at, "Save prompt").click().run()
    assert not at.exception
    assert "disk I/O error" in at.error[0].value


def test_setup_says_which_files_it_made_owner_only(data_dir: Path) -> None:
    Console(data_dir / "connector.db").close()
    (data_dir / "connector.db").chmod(0o644)
    Console(data_dir / "connector.db").close()  # what the app's console does when it starts
    at = run_page("setup")
    notice = next(i.value for i in at.info if "readable by you alone" in i.value)
    assert "connector.db was readable by others, made owner-only (0644 → 0600)" in notice
