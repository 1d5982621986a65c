"""“Test this action” is one more entry point of the intake: it sends the email and only what
the action under test sets from values the operator typed; it never invents a name or a form
value, so testing an Add Tag leaves the contact's fields as they were. A named test contact
(``CONNECTOR_TEST_CONTACT``) is the default target, in the editor and on the command line."""

from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path

import pytest
from factories import EMAIL_NAME_COMPANY, action, prompt_with
from streamlit.testing.v1 import AppTest

from connector import ActionType, Console, InputError, Interaction, Prompt
from connector.ac.client import AcClient
from connector.core.models import Contact
from connector.entry.cli import main

TIMEOUT = 20
SAM = "sam@example.com"


def make_sam(client: AcClient, email: str = SAM) -> Contact:
    client.send("POST", "/contact/sync", body={"contact": {"email": email, "firstName": "Sam"}})
    found = client.find_contact(email)
    assert found is not None and found.first_name == "Sam"
    return found


def tag_prompt(console: Console, interaction: Interaction = Interaction.ACCEPT) -> Prompt:
    """A prompt whose form fills the email, the first name and a custom field, with one Add
    Tag: the shape whose test used to send firstName "Test"."""
    tag = console.client().tags()[0]
    prompt = prompt_with(inputs=EMAIL_NAME_COMPANY)
    prompt.actions = {interaction: [action(ActionType.ADD_TAG, tag.id)]}
    return prompt


def only_action(prompt: Prompt, interaction: Interaction = Interaction.ACCEPT) -> str:
    return prompt.actions_for(interaction)[0].id


def tagged(client: AcClient, contact_id: str) -> list[str]:
    body = client.get(f"/contacts/{contact_id}/contactTags")
    return [str(row["tag"]) for row in body.get("contactTags", [])]


def test_a_tested_add_tag_leaves_an_existing_contacts_name(console: Console) -> None:
    client = console.client()
    sam = make_sam(client)
    prompt = tag_prompt(console)
    run = console.test_action(
        prompt, Interaction.ACCEPT, only_action(prompt), SAM, dry_run=False, operator="qa"
    )
    assert run.ok and run.source == "test"
    assert run.contact == {"email": SAM}  # the sync carries the email alone
    sync = next(a for a in run.attempts if a.action_type is ActionType.ADD_CONTACT)
    assert [t.request_body for t in sync.tries] == [{"contact": {"email": SAM}}]
    after = client.find_contact(SAM)
    assert after is not None and (after.id, after.first_name) == (sam.id, "Sam")
    assert after.last_name == sam.last_name and after.phone == sam.phone
    assert client.get(f"/contacts/{sam.id}/fieldValues").get("fieldValues") == []
    assert prompt.actions_for(Interaction.ACCEPT)[0].params["tag_id"] in tagged(client, sam.id)


def test_a_tested_add_tag_on_an_unknown_email_creates_no_contact_named_test(
    console: Console,
) -> None:
    client = console.client()
    prompt = tag_prompt(console)
    run = console.test_action(
        prompt, Interaction.ACCEPT, only_action(prompt), "newcomer@example.com", dry_run=False
    )
    assert run.ok
    created = client.find_contact("newcomer@example.com")
    assert created is not None  # created by the sync, as a real run would: with the email alone
    assert (created.first_name, created.last_name, created.phone) == ("", "", "")
    everyone = client.get("/contacts", {"limit": 100}).get("contacts", [])
    assert not [c for c in everyone if c.get("firstName") == "Test"]


def test_a_tested_add_contact_sends_only_what_was_typed(console: Console) -> None:
    client = console.client()
    make_sam(client)
    prompt = tag_prompt(console)
    prompt.actions[Interaction.ACCEPT] = [action(ActionType.ADD_CONTACT)]
    action_id = only_action(prompt)
    # Nothing typed: the email alone (the required-ness of the form is not the test's business).
    run = console.test_action(prompt, Interaction.ACCEPT, action_id, SAM, dry_run=False)
    assert run.ok and run.contact == {"email": SAM}
    assert client.find_contact(SAM).first_name == "Sam"  # type: ignore[union-attr]
    # A typed first name is sent, because Add Contact sets the mapped fields.
    run = console.test_action(
        prompt, Interaction.ACCEPT, action_id, SAM, dry_run=False, form_values={1: "Samantha"}
    )
    assert run.ok and run.contact == {"email": SAM, "firstName": "Samantha"}
    assert client.find_contact(SAM).first_name == "Samantha"  # type: ignore[union-attr]


def test_the_test_contact_setting_is_the_default_target(tmp_path: Path) -> None:
    from connector.sandbox import Sandbox

    env = {"CONNECTOR_TEST_CONTACT": "  QA+connector@example.com "}
    with closing(Console(tmp_path / "c.db", env=env, sandbox=Sandbox())) as console:
        prompt = tag_prompt(console)
        run = console.test_action(prompt, Interaction.ACCEPT, only_action(prompt))
        assert run.dry_run and run.contact_email == "qa+connector@example.com"
    with closing(Console(tmp_path / "d.db", env={}, sandbox=Sandbox())) as console:
        prompt = tag_prompt(console)
        with pytest.raises(InputError, match="CONNECTOR_TEST_CONTACT"):
            console.test_action(prompt, Interaction.ACCEPT, only_action(prompt))
    bad = {"CONNECTOR_TEST_CONTACT": "not-an-email"}
    with closing(Console(tmp_path / "e.db", env=bad, sandbox=Sandbox())) as console:
        prompt = tag_prompt(console)
        with pytest.raises(InputError, match="CONNECTOR_TEST_CONTACT is refused"):
            console.test_action(prompt, Interaction.ACCEPT, only_action(prompt))


# -- the editor (AppTest) -----------------------------------------------------------------------


def saved_tag_prompt(data_dir: Path) -> Prompt:
    with closing(Console()) as console:
        console.seed_demo_prompts()
        make_sam(console.client())
        prompt = tag_prompt(console)
        prompt.name = "Tag tester"
        return console.prompts.save(prompt)


def prompts_page(prompt: Prompt) -> AppTest:
    def page() -> None:
        import pages.prompts

        pages.prompts.render()

    at = AppTest.from_function(page, default_timeout=TIMEOUT).run()
    at.selectbox(key="prompt_pick").set_value(prompt.id).run()
    assert not at.exception, at.exception
    return at


def test_the_editor_offers_the_test_contact_and_says_what_run_it_does(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONNECTOR_TEST_CONTACT", SAM)
    prompt = saved_tag_prompt(data_dir)
    at = prompts_page(prompt)
    row = only_action(prompt)
    email = at.text_input(key=f"p{prompt.id}.act.{row}.test_email")
    assert email.value == SAM
    said = "\n".join(str(c.value) for c in at.caption)
    assert "changes a real contact: the one with this email in the built-in sandbox" in said
    assert "name, phone and custom fields stay as they are" in said

    at.button(key=f"p{prompt.id}.act.{row}.test_real").click().run()
    assert not at.exception, at.exception
    with closing(Console()) as console:
        sam = console.client().find_contact(SAM)
        assert sam is not None and sam.first_name == "Sam"
        run = console.log.runs()[0]
        assert run.source == "test" and not run.dry_run and run.contact == {"email": SAM}


# -- the command line ---------------------------------------------------------------------------


def test_the_cli_tests_an_action_on_the_test_contact(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    saved_tag_prompt(data_dir)
    monkeypatch.setenv("CONNECTOR_TEST_CONTACT", SAM)
    args = ["test-action", "--prompt", "tag tester", "--interaction", "accept", "--action", "1"]
    assert main([*args, "--json"]) == 0  # a dry run by default
    printed = json.loads(capsys.readouterr().out)
    assert printed["dry_run"] and printed["contact_email"] == SAM
    assert main([*args, "--run"]) == 0
    assert "for sam@example.com: succeeded" in capsys.readouterr().out
    with closing(Console()) as console:
        assert console.client().find_contact(SAM).first_name == "Sam"  # type: ignore[union-attr]
    assert main([*args[:-1], "2"]) == 2
    assert "has 1 action on Accept" in capsys.readouterr().err
    assert main([*args, "--email", "not an email"]) == 2
    assert main(["test-action", "--prompt", "nope", *args[3:]]) == 2
