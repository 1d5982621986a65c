"""The runner against the in-process sandbox: order, Stop/Continue, email rules, dry run, log."""

from __future__ import annotations

import json

import pytest
from factories import EMAIL_NAME_COMPANY, action
from factories import prompt_with as make_prompt

from connector import (
    AcClient,
    ActionConfig,
    ActionType,
    Console,
    ErrorBehaviour,
    FormInput,
    Interaction,
    Prompt,
    SimulatedUser,
    Status,
)
from connector.actions import CONTACT_ID_PLACEHOLDER


def to_list(list_id: str = "3", on_error: ErrorBehaviour = ErrorBehaviour.STOP) -> ActionConfig:
    return action(ActionType.ADD_TO_LIST, list_id, on_error)


def to_automation(automation_id: str = "1") -> ActionConfig:
    return action(ActionType.ADD_TO_AUTOMATION, automation_id)


def prompt_with(*actions: ActionConfig, inputs: list[FormInput] | None = None) -> Prompt:
    return make_prompt(*actions, inputs=EMAIL_NAME_COMPANY if inputs is None else inputs)


def api(console: Console) -> AcClient:
    return console.client()


def test_a_full_accept_syncs_once_then_subscribes_and_enrolls(console: Console) -> None:
    prompt = prompt_with(ActionConfig(ActionType.ADD_CONTACT), to_list("3"), to_automation("1"))
    result = console.runner(operator="ops").run(
        prompt, Interaction.ACCEPT, SimulatedUser(), {0: "Ada@Example.com", 1: "Ada", 2: "Acme"}
    )
    assert [o.status for o in result.outcomes] == [Status.SUCCEEDED] * 3
    assert result.ok and result.contact_id
    sync = result.outcomes[0].request
    assert sync["body"] == {
        "contact": {
            "email": "ada@example.com",
            "firstName": "Ada",
            "fieldValues": [{"field": "1", "value": "Acme"}],
        }
    }
    assert result.outcomes[1].request["body"]["contactList"]["contact"] == result.contact_id
    # What the sandbox now holds is what we asked for.
    client = api(console)
    lists = client.contact_lists(result.contact_id)
    assert [(cl["list"], str(cl["status"])) for cl in lists] == [("3", "1")]
    assert [ca["automation"] for ca in client.contact_automations(result.contact_id)] == ["1"]
    values = client.get(f"/contacts/{result.contact_id}/fieldValues")["fieldValues"]
    assert [(v["field"], v["value"]) for v in values] == [("1", "Acme")]

    rows = console.log.run(result.run_id)
    assert [(r["action_type"], r["status"]) for r in rows] == [
        ("add_contact", "succeeded"),
        ("add_to_list", "succeeded"),
        ("add_to_automation", "succeeded"),
    ]
    assert {r["operator"] for r in rows} == {"ops"}
    assert {r["contact_email"] for r in rows} == {"ada@example.com"}
    assert all(r["attempts"] == 1 and r["http_status"] in (200, 201) for r in rows)
    assert rows[1]["contact_id"] == result.contact_id


def test_without_add_contact_the_runner_syncs_first_and_logs_it(console: Console) -> None:
    prompt = prompt_with(to_list("3"))
    result = console.runner().run(prompt, Interaction.ACCEPT, SimulatedUser(), {0: "g@x.io"})
    assert [(o.action_type, o.status) for o in result.outcomes] == [
        (ActionType.ADD_CONTACT, Status.SUCCEEDED),
        (ActionType.ADD_TO_LIST, Status.SUCCEEDED),
    ]
    assert "required by later actions" in result.outcomes[0].target_name
    assert result.outcomes[0].position == 0


def test_add_contact_runs_first_wherever_it_sits(console: Console) -> None:
    prompt = prompt_with(to_list("3"), ActionConfig(ActionType.ADD_CONTACT))
    result = console.runner().run(prompt, Interaction.ACCEPT, SimulatedUser(), {0: "o@x.io"})
    assert [o.action_type for o in result.outcomes] == [
        ActionType.ADD_CONTACT,
        ActionType.ADD_TO_LIST,
    ]
    assert [o.position for o in result.outcomes] == [2, 1]


def test_stop_skips_the_rest_after_a_failure(console: Console) -> None:
    prompt = prompt_with(to_list("999999"), to_automation("1"))
    result = console.runner().run(prompt, Interaction.ACCEPT, SimulatedUser(), {0: "s@x.io"})
    sync, failed, skipped = result.outcomes
    assert sync.status is Status.SUCCEEDED
    assert failed.status is Status.FAILED and failed.http_status == 404
    assert "could not find" in failed.error
    assert failed.response["body"] == {"message": "No Result found for _List with id 999999"}
    assert skipped.status is Status.SKIPPED and "its error behaviour is Stop" in skipped.error
    assert api(console).contact_automations(result.contact_id) == []
    assert not result.ok


def test_continue_runs_the_rest_after_a_failure(console: Console) -> None:
    prompt = prompt_with(to_list("999999", ErrorBehaviour.CONTINUE), to_automation("1"))
    result = console.runner().run(prompt, Interaction.ACCEPT, SimulatedUser(), {0: "c@x.io"})
    assert [o.status for o in result.outcomes] == [
        Status.SUCCEEDED,
        Status.FAILED,
        Status.SUCCEEDED,
    ]


def test_a_failed_sync_skips_everything_that_needs_the_contact(console: Console) -> None:
    # The trait isn't a form value, so it reaches the API unvalidated: the API refuses it.
    prompt = prompt_with(to_list("3", ErrorBehaviour.CONTINUE), inputs=[])
    user = SimulatedUser(email_address="not-an-email")
    result = console.runner().run(prompt, Interaction.ACCEPT, user)
    sync, skipped = result.outcomes
    assert sync.status is Status.FAILED and sync.http_status == 422
    assert "Contact Email Address is not valid" in sync.error
    assert skipped.status is Status.SKIPPED and "contact sync failed" in skipped.error


def test_email_comes_from_the_form_else_the_trait(console: Console) -> None:
    prompt = prompt_with(ActionConfig(ActionType.ADD_CONTACT))
    user = SimulatedUser(email_address="trait@x.io", first_name="Tr", last_name="Ait")
    from_trait = console.runner().run(prompt, Interaction.ACCEPT, user, {})
    assert from_trait.outcomes[0].request["body"]["contact"] == {
        "email": "trait@x.io",
        "firstName": "Tr",
        "lastName": "Ait",
    }
    from_form = console.runner().run(prompt, Interaction.ACCEPT, user, {0: "form@x.io", 1: "Fo"})
    assert from_form.outcomes[0].request["body"]["contact"]["email"] == "form@x.io"
    assert from_form.outcomes[0].request["body"]["contact"]["firstName"] == "Fo"


def test_no_email_skips_the_contact_actions_with_the_reason(console: Console) -> None:
    before = console.sandbox.request_count()
    prompt = prompt_with(ActionConfig(ActionType.ADD_CONTACT), to_list("3"))
    result = console.runner().run(prompt, Interaction.ACCEPT, SimulatedUser(user_id="u1"), {})
    assert [o.status for o in result.outcomes] == [Status.SKIPPED, Status.SKIPPED]
    assert all("No email" in o.error for o in result.outcomes)
    assert console.sandbox.request_count() == before
    assert [r["status"] for r in console.log.run(result.run_id)] == ["skipped", "skipped"]


def test_invalid_input_sends_and_logs_nothing(console: Console) -> None:
    before = console.sandbox.request_count()
    prompt = prompt_with(ActionConfig(ActionType.ADD_CONTACT))
    result = console.runner().run(prompt, Interaction.ACCEPT, SimulatedUser(), {0: "ada@"})
    assert result.input_errors == {
        0: "“ada@” is not an email address: use the form name@example.com."
    }
    assert result.outcomes == [] and not result.ok
    assert console.sandbox.request_count() == before
    assert console.log.page().total == 0


def test_dry_run_shows_the_requests_and_sends_nothing(console: Console) -> None:
    before = console.sandbox.request_count()
    prompt = prompt_with(ActionConfig(ActionType.ADD_CONTACT), to_list("3"), to_automation("2"))
    result = console.runner().run(
        prompt, Interaction.ACCEPT, SimulatedUser(), {0: "dry@x.io"}, dry_run=True
    )
    assert [o.status for o in result.outcomes] == [Status.DRY_RUN] * 3
    assert result.ok
    assert result.outcomes[0].request["url"] == "https://sandbox.invalid/api/3/contact/sync"
    assert result.outcomes[1].request["body"] == {
        "contactList": {"list": "3", "contact": CONTACT_ID_PLACEHOLDER, "status": 1}
    }
    assert console.sandbox.request_count() == before
    assert {r["status"] for r in console.log.run(result.run_id)} == {"dry_run"}


def test_an_interaction_without_actions_does_nothing(console: Console) -> None:
    prompt = prompt_with(ActionConfig(ActionType.ADD_CONTACT))
    result = console.runner().run(prompt, Interaction.DECLINE, SimulatedUser(), {0: "d@x.io"})
    assert result.outcomes == [] and console.log.page().total == 0


def test_an_unreachable_account_fails_the_action_with_the_sentence(console: Console) -> None:
    console.settings.save("http://127.0.0.1:9", "key-abcd")  # nothing listens on discard
    prompt = prompt_with(ActionConfig(ActionType.ADD_CONTACT), to_list("3"))
    result = console.runner().run(prompt, Interaction.ACCEPT, SimulatedUser(), {0: "u@x.io"})
    failed, skipped = result.outcomes
    assert failed.status is Status.FAILED and failed.http_status is None
    assert "refused the connection" in failed.error
    assert skipped.status is Status.SKIPPED
    assert console.log.get(failed.log_id)["account"] == "127.0.0.1:9"


@pytest.mark.parametrize("dry_run", [False, True])
def test_the_key_never_reaches_the_log(console: Console, dry_run: bool) -> None:
    prompt = prompt_with(ActionConfig(ActionType.ADD_CONTACT), to_list("999999"))
    console.runner().run(
        prompt, Interaction.ACCEPT, SimulatedUser(), {0: "k@x.io"}, dry_run=dry_run
    )
    dump = json.dumps(list(console.log.iter_rows())) + console.log.export_csv()
    assert console.sandbox.api_key not in dump
