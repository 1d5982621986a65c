"""The runner against the in-process sandbox: order, Stop/Continue, the interaction model, email
rules, verified answers, dry runs that predict, and one record per run and per attempt."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
import pytest
from factories import EMAIL_NAME_COMPANY, FakeClock, Form, action, settle, user
from factories import prompt_with as make_prompt

from connector import (
    AcClient,
    ActionConfig,
    ActionType,
    Console,
    ErrorBehaviour,
    FormInput,
    InputKind,
    Interaction,
    Prompt,
    Reason,
    RunStatus,
    SimulatedUser,
    Status,
)
from connector.ac.actions import CONTACT_ID_PLACEHOLDER
from connector.sandbox import Fault, Sandbox
from connector.store.log_export import ExportFormat
from connector.store.log_export import export as export_log
from connector.store.log_query import EVERYTHING


def to_list(list_id: str = "3", on_error: ErrorBehaviour = ErrorBehaviour.STOP) -> ActionConfig:
    return action(ActionType.ADD_TO_LIST, list_id, on_error)


def to_automation(automation_id: str = "1") -> ActionConfig:
    return action(ActionType.ADD_TO_AUTOMATION, automation_id)


def prompt_with(*actions: ActionConfig, inputs: Form | None = None) -> Prompt:
    return make_prompt(*actions, inputs=EMAIL_NAME_COMPANY if inputs is None else inputs)


def api(console: Console) -> AcClient:
    return console.client()


def memberships(console: Console, contact_id: str) -> list[tuple[str, str]]:
    rows = api(console).get(f"/contacts/{contact_id}/contactLists")["contactLists"]
    return [(row["list"], str(row["status"])) for row in rows]


def test_a_full_accept_syncs_once_then_subscribes_and_enrolls(console: Console) -> None:
    prompt = prompt_with(ActionConfig(ActionType.ADD_CONTACT), to_list("3"), to_automation("1"))
    run = console.runner(operator="ops").run(
        prompt, Interaction.ACCEPT, user(), {0: "Ada@Example.com", 1: "Ada", 2: "Acme"}
    )
    assert run.status is RunStatus.SUCCEEDED and run.contact_id
    assert [a.status for a in run.attempts] == [Status.SUCCEEDED] * 3
    sync = run.attempts[0].tries[0]
    assert sync.request_body == {
        "contact": {
            "email": "ada@example.com",
            "firstName": "Ada",
            "fieldValues": [{"field": "1", "value": "Acme"}],
        }
    }
    assert run.attempts[1].tries[0].request_body["contactList"]["contact"] == run.contact_id
    # Each success carries the answer that shows the change.
    assert run.attempts[1].evidence.response_body["contactList"]["list"] == "3"
    assert run.attempts[2].evidence.response_body["contactAutomation"]["automation"] == "1"
    # What the sandbox now holds is what we asked for.
    assert memberships(console, run.contact_id) == [("3", "1")]
    values = api(console).get(f"/contacts/{run.contact_id}/fieldValues")["fieldValues"]
    assert [(v["field"], v["value"]) for v in values] == [("1", "Acme")]

    stored = console.log.run(run.run_id)
    assert stored is not None and stored.status is RunStatus.SUCCEEDED
    assert [(a.action_type, a.status) for a in stored.attempts] == [
        (ActionType.ADD_CONTACT, Status.SUCCEEDED),
        (ActionType.ADD_TO_LIST, Status.SUCCEEDED),
        (ActionType.ADD_TO_AUTOMATION, Status.SUCCEEDED),
    ]
    rows = console.log.rows_of_run(run.run_id)
    assert {r["operator"] for r in rows} == {"ops"}
    assert {r["contact_email"] for r in rows} == {"ada@example.com"}
    assert all(r["attempts"] == 1 and r["http_status"] in (200, 201) for r in rows)
    assert rows[1]["contact_id"] == run.contact_id


def test_the_log_keeps_the_whole_attempt_record(console: Console) -> None:
    """One record: what the runner filled is what the log gives back."""
    prompt = prompt_with(ActionConfig(ActionType.ADD_CONTACT), to_list("3"))
    run = console.runner().run(prompt, Interaction.ACCEPT, user(), {0: "rec@x.io"})
    subscribe = run.attempts[1]
    stored = console.log.attempt(subscribe.log_id)
    assert stored is not None
    assert stored.checks == subscribe.checks and stored.tries == subscribe.tries
    assert stored.evidence == subscribe.evidence and stored.planned == subscribe.planned
    assert (stored.status, stored.reason, stored.contact_id) == (
        subscribe.status,
        subscribe.reason,
        subscribe.contact_id,
    )
    assert stored.checks[0].purpose == "before sending"
    assert (
        stored.checks[0].finding == "Not subscribed to “T3”." and stored.checks[0].present is False
    )


def test_without_add_contact_the_runner_syncs_first_and_logs_it(console: Console) -> None:
    run = console.runner().run(prompt_with(to_list("3")), Interaction.ACCEPT, user(), {0: "g@x.io"})
    assert [(a.action_type, a.status) for a in run.attempts] == [
        (ActionType.ADD_CONTACT, Status.SUCCEEDED),
        (ActionType.ADD_TO_LIST, Status.SUCCEEDED),
    ]
    assert run.attempts[0].implicit and run.attempts[0].position == 0
    assert "required by later actions" in run.attempts[0].target_name


def test_add_contact_runs_first_wherever_it_sits(console: Console) -> None:
    prompt = prompt_with(to_list("3"), ActionConfig(ActionType.ADD_CONTACT))
    run = console.runner().run(prompt, Interaction.ACCEPT, user(), {0: "o@x.io"})
    assert [a.action_type for a in run.attempts] == [ActionType.ADD_CONTACT, ActionType.ADD_TO_LIST]
    assert [a.position for a in run.attempts] == [2, 1]


def test_stop_skips_the_rest_after_a_failure(console: Console) -> None:
    run = console.runner().run(
        prompt_with(to_list("999999"), to_automation("1")),
        Interaction.ACCEPT,
        user(),
        {0: "s@x.io"},
    )
    sync, failed, skipped = run.attempts
    assert sync.status is Status.SUCCEEDED
    assert failed.status is Status.FAILED and failed.http_status == 404
    assert "could not find" in failed.reason
    assert failed.tries[0].response_body == {"message": "No Result found for _List with id 999999"}
    assert skipped.status is Status.SKIPPED and skipped.reason_code is Reason.STOPPED
    assert "its error behaviour is Stop" in skipped.reason
    assert api(console).get(f"/contacts/{run.contact_id}/contactAutomations") == {
        "contactAutomations": []
    }
    assert run.status is RunStatus.FAILED


def test_continue_runs_the_rest_after_a_failure(console: Console) -> None:
    prompt = prompt_with(to_list("999999", ErrorBehaviour.CONTINUE), to_automation("1"))
    run = console.runner().run(prompt, Interaction.ACCEPT, user(), {0: "c@x.io"})
    assert [a.status for a in run.attempts] == [Status.SUCCEEDED, Status.FAILED, Status.SUCCEEDED]


def test_a_failed_sync_skips_everything_that_needs_the_contact(console: Console) -> None:
    console.sandbox.inject(Fault("status", "POST", "/contact/sync", status=422))
    prompt = prompt_with(to_list("3", ErrorBehaviour.CONTINUE), inputs=[])
    run = console.runner().run(prompt, Interaction.ACCEPT, user("sync.fails@x.io"))
    sync, skipped = run.attempts
    assert sync.status is Status.FAILED and sync.http_status == 422
    assert skipped.status is Status.SKIPPED and skipped.reason_code is Reason.NO_CONTACT


@pytest.mark.parametrize(
    "trait",
    ["not-an-email", "x\x01y@example.com", "a" * 5000 + "@example.com", ["list@example.com"]],
)
def test_a_trait_email_is_validated_before_anything_is_sent(
    console: Console, trait: object
) -> None:
    prompt = prompt_with(to_list("3", ErrorBehaviour.CONTINUE), inputs=[])
    someone = SimulatedUser("u1", {"email_address": trait})  # type: ignore[dict-item]
    before = console.sandbox.request_count()
    run = console.runner().run(prompt, Interaction.DECLINE, someone)
    assert console.sandbox.request_count() == before  # nothing was sent, not even a read
    assert run.status is RunStatus.REFUSED and not run.attempts
    assert "email" in run.refusal
    stored = console.log.run(run.run_id)
    assert stored is not None and stored.status is RunStatus.REFUSED
    assert stored.refusal == run.refusal


def test_email_comes_from_the_form_else_the_trait(console: Console) -> None:
    prompt = prompt_with(ActionConfig(ActionType.ADD_CONTACT))
    someone = SimulatedUser(
        "u1", {"email_address": "trait@x.io", "first_name": "Tr", "last_name": "Ait"}
    )
    from_trait = console.runner().run(prompt, Interaction.ACCEPT, someone, {})
    assert from_trait.attempts[0].tries[0].request_body["contact"] == {
        "email": "trait@x.io",
        "firstName": "Tr",
        "lastName": "Ait",
    }
    from_form = console.runner().run(prompt, Interaction.ACCEPT, someone, {0: "form@x.io", 1: "Fo"})
    assert from_form.attempts[0].tries[0].request_body["contact"]["email"] == "form@x.io"
    assert from_form.attempts[0].tries[0].request_body["contact"]["firstName"] == "Fo"


def test_no_email_skips_the_contact_actions_with_the_reason(console: Console) -> None:
    before = console.sandbox.request_count()
    prompt = prompt_with(ActionConfig(ActionType.ADD_CONTACT), to_list("3"))
    run = console.runner().run(prompt, Interaction.ACCEPT, SimulatedUser("u1"), {})
    assert [a.status for a in run.attempts] == [Status.SKIPPED, Status.SKIPPED]
    assert all(a.reason_code is Reason.NO_EMAIL for a in run.attempts)
    assert console.sandbox.request_count() == before
    assert [r["status"] for r in console.log.rows_of_run(run.run_id)] == ["skipped", "skipped"]
    assert run.status is RunStatus.FAILED


def test_invalid_input_sends_nothing_and_records_the_refused_run(console: Console) -> None:
    before = console.sandbox.request_count()
    prompt = prompt_with(ActionConfig(ActionType.ADD_CONTACT))
    run = console.runner().run(prompt, Interaction.ACCEPT, user(), {0: "ada@"})
    assert run.input_errors == {0: "“ada@” is not an email address: use the form name@example.com."}
    assert run.attempts == [] and run.status is RunStatus.REFUSED and not run.ok
    assert console.sandbox.request_count() == before
    assert console.log.total() == 0
    stored = console.log.run(run.run_id)
    assert stored is not None and stored.status is RunStatus.REFUSED
    assert stored.input_errors == run.input_errors
    assert stored.inputs[0] == {"label": "Email", "value": "ada@"}


# -- the interaction model ------------------------------------------------------------------


def newsletter_with(interaction: Interaction) -> Prompt:
    """A required email input, and actions on ``interaction``."""
    prompt = Prompt(
        name="Newsletter",
        actions={interaction: [ActionConfig(ActionType.ADD_CONTACT), to_list("4")]},
    )
    prompt.map_input(FormInput("Email", kind=InputKind.EMAIL, required=True), "email")
    prompt.map_input(FormInput("First name"), "firstName")
    return prompt


@pytest.mark.parametrize(
    "interaction", [Interaction.DECLINE, Interaction.DISMISS, Interaction.TIMEOUT]
)
def test_non_accepting_interactions_run_on_traits_whatever_the_form_holds(
    console: Console, interaction: Interaction
) -> None:
    prompt = newsletter_with(interaction)
    someone = user("declined@x.io", first_name="Dee")
    # The form is empty (required input missing), then holds junk: neither blocks nor is sent.
    for typed in ({}, {0: "not an email", 1: "Typed"}):
        run = console.runner().run(prompt, interaction, someone, typed)
        assert run.input_errors == {} and run.status is RunStatus.SUCCEEDED, run.to_dict()
        sent = run.attempts[0].tries[0].request_body["contact"]
        assert sent == {"email": "declined@x.io", "firstName": "Dee"}
        assert run.inputs == []  # nothing was submitted
    assert memberships(console, run.contact_id) == [("4", "1")]


@pytest.mark.parametrize("interaction", [Interaction.ACCEPT, Interaction.SECONDARY_ACCEPT])
def test_accepting_interactions_submit_and_validate_the_form(
    console: Console, interaction: Interaction
) -> None:
    prompt = newsletter_with(interaction)
    refused = console.runner().run(prompt, interaction, user("trait@x.io"), {})
    assert refused.status is RunStatus.REFUSED and refused.input_errors == {0: "Email is required."}
    sent = console.runner().run(prompt, interaction, user("trait@x.io"), {0: "form@x.io", 1: "F"})
    assert sent.attempts[0].tries[0].request_body["contact"] == {
        "email": "form@x.io",
        "firstName": "F",
    }
    assert sent.inputs == [
        {"label": "Email", "value": "form@x.io"},
        {"label": "First name", "value": "F"},
    ]


def test_a_run_without_actions_is_recorded(console: Console) -> None:
    prompt = prompt_with(ActionConfig(ActionType.ADD_CONTACT))
    run = console.runner(operator="ops").run(prompt, Interaction.DISMISS, user("d@x.io"), {})
    assert run.attempts == [] and run.status is RunStatus.NO_ACTIONS and run.ok
    assert console.log.total() == 0
    stored = console.log.runs()[0]
    assert (stored.run_id, stored.status, stored.interaction, stored.operator) == (
        run.run_id,
        RunStatus.NO_ACTIONS,
        Interaction.DISMISS,
        "ops",
    )
    assert dict(stored.user.traits) == {"email_address": "d@x.io"}


def test_a_definition_the_editor_refuses_is_refused_at_intake_whole(console: Console) -> None:
    automation = next(a.id for a in api(console).automations() if a.multientry)
    twice = [
        action(ActionType.ADD_TO_AUTOMATION, automation, ErrorBehaviour.CONTINUE),
        action(ActionType.ADD_TO_AUTOMATION, automation, ErrorBehaviour.CONTINUE),
    ]
    prompt = make_prompt(*twice)  # saved prompts refuse this; a stored definition may carry it
    before = console.sandbox.request_count()
    run = console.runner().run(prompt, Interaction.ACCEPT, user(), {0: "twice@x.io"})
    assert console.sandbox.request_count() == before  # not even the sync went out
    assert run.status is RunStatus.REFUSED and run.attempts == []
    assert "actions 1 and 2" in run.refusal and "Add to Automation" in run.refusal


# -- answers must show the change -------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "landed"),
    [
        (Fault("empty", "POST", "/contactLists", count=4), False),
        (Fault("empty", "POST", "/contactLists", count=4, commit=True), True),
        (Fault("malformed", "POST", "/contactLists", count=4), False),
    ],
)
def test_an_empty_or_garbled_2xx_is_never_a_success(
    console: Console, fault: Fault, landed: bool
) -> None:
    prompt = prompt_with(ActionConfig(ActionType.ADD_CONTACT), to_list("3"))
    console.sandbox.inject(fault)
    run = console.runner().run(prompt, Interaction.ACCEPT, user(), {0: "empty@x.io"})
    subscribe = run.attempts[1]
    on_list = ("3", "1") in memberships(console, run.contact_id)
    assert on_list is landed
    if landed:  # the first try went through: the check finds it and nothing is sent again
        assert subscribe.status is Status.SUCCEEDED and subscribe.attempts == 1
        assert subscribe.reason_code is Reason.LANDED_EARLIER
        assert subscribe.evidence == subscribe.checks[-1].exchange
    else:
        assert subscribe.status is Status.FAILED and subscribe.attempts == 4
        assert "answered HTTP 200" in subscribe.tries[0].error
        assert "Not subscribed" in subscribe.reason  # checked before it reported
    assert [c.purpose for c in subscribe.checks][:2] == ["before sending", "after an error answer"]


class BlindingSandbox(Sandbox):
    """Once a write to ``path`` arrives, every read of ``read`` fails: the check that would tell
    whether the write landed cannot be made."""

    def __init__(self, path: str, read: str) -> None:
        super().__init__()
        self.blind_after, self.read = path, read

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith(self.blind_after):
            self.inject(Fault("status", "GET", self.read, status=500, count=50))
        return super().handle(request)


def blinded_console(tmp_path: Path, sandbox: Sandbox) -> Console:
    clock = FakeClock()
    return Console(tmp_path / "b.db", env={}, sandbox=sandbox, clock=clock, sleep=clock.sleep)


def test_a_lost_answer_that_cannot_be_checked_is_unknown(tmp_path: Path) -> None:
    sandbox = BlindingSandbox("/contactLists", "/contacts/*/contactLists")
    sandbox.inject(Fault("empty", "POST", "/contactLists", commit=True))
    console = blinded_console(tmp_path, sandbox)
    prompt = prompt_with(ActionConfig(ActionType.ADD_CONTACT), to_list("3"))
    run = console.runner().run(prompt, Interaction.ACCEPT, user(), {0: "unk@x.io"})
    subscribe = run.attempts[1]
    assert subscribe.status is Status.UNKNOWN and run.status is RunStatus.UNKNOWN
    assert "Whether it was applied is unknown" in subscribe.reason
    assert subscribe.attempts == 1  # not sent again blindly
    assert [c.present for c in subscribe.checks] == [False, None]
    assert console.log.get(subscribe.log_id)["status"] == "unknown"
    sandbox.clear_faults()
    assert ("3", "1") in memberships(console, run.contact_id)  # it had landed: unknown was right
    console.close()


def test_a_lost_sync_answer_holds_the_run_until_a_verification_tells(tmp_path: Path) -> None:
    sandbox = BlindingSandbox("/contact/sync", "/contacts")
    sandbox.inject(Fault("hang", "POST", "/contact/sync", commit=True, hang_seconds=0))
    console = blinded_console(tmp_path, sandbox)
    run = console.runner().run(prompt_with(to_list("3")), Interaction.ACCEPT, user(), {0: "s@x.io"})
    sync, subscribe = run.attempts
    # Not resent blind, not concluded: unknown until a check after the settle delay.
    assert sync.status is Status.UNKNOWN and sync.attempts == 1 and sync.verify_after
    assert sync.reason_code is Reason.AWAITING_VERIFICATION and "settle delay" in sync.reason
    assert subscribe.status is Status.PLANNED and run.status is RunStatus.PENDING
    for _ in range(3):  # every verification read fails (the sandbox is blind to contacts)
        settle(console)
    stored = console.log.run(run.run_id)
    assert stored is not None
    sync, subscribe = stored.attempts
    assert sync.status is Status.UNKNOWN and sync.verify_after is None and sync.attempts == 1
    assert "checks after its lost answer failed" in sync.reason
    assert subscribe.status is Status.SKIPPED and subscribe.reason_code is Reason.NO_CONTACT
    assert stored.status is RunStatus.UNKNOWN
    console.close()


def test_a_lost_sync_answer_that_landed_is_verified_and_the_run_goes_on(tmp_path: Path) -> None:
    sandbox = Sandbox()
    sandbox.inject(Fault("hang", "POST", "/contact/sync", commit=True, hang_seconds=0))
    console = blinded_console(tmp_path, sandbox)
    run = console.runner().run(
        prompt_with(to_list("3")), Interaction.ACCEPT, user(), {0: "lost@x.io", 1: "Lo"}
    )
    assert run.status is RunStatus.PENDING and run.attempts[1].status is Status.PLANNED
    settle(console)
    stored = console.log.run(run.run_id)
    assert stored is not None and stored.status is RunStatus.SUCCEEDED
    sync, subscribe = stored.attempts
    assert sync.status is Status.SUCCEEDED and sync.reason_code is Reason.VERIFIED
    assert sync.attempts == 1 and "holds every value sent" in sync.reason
    assert sync.contact_id and sync.evidence == sync.checks[-1].exchange
    assert subscribe.status is Status.SUCCEEDED and subscribe.contact_id == sync.contact_id
    assert ("3", "1") in memberships(console, sync.contact_id)
    console.close()


def test_a_lost_sync_that_never_landed_is_sent_again_after_the_settle_delay(
    tmp_path: Path,
) -> None:
    """The contact exists from before, with the same names but another custom field value: a
    sync that timed out and never landed must not pass for a success; it goes out again."""
    sandbox = Sandbox()
    console = blinded_console(tmp_path, sandbox)
    prompt = prompt_with(ActionConfig(ActionType.ADD_CONTACT))
    console.runner().run(prompt, Interaction.ACCEPT, user(), {0: "old@x.io", 1: "Ol", 2: "Before"})
    sandbox.inject(Fault("hang", "POST", "/contact/sync", hang_seconds=0))
    run = console.runner().run(
        prompt, Interaction.ACCEPT, user(), {0: "old@x.io", 1: "Ol", 2: "After"}
    )
    assert run.attempts[0].status is Status.UNKNOWN and run.attempts[0].attempts == 1
    settle(console)
    stored = console.log.run(run.run_id)
    assert stored is not None
    sync = stored.attempts[0]
    assert sync.status is Status.SUCCEEDED and sync.attempts == 2  # checked, then sent again
    assert "other values for custom field 1" in sync.checks[-1].finding
    assert sync.evidence == sync.tries[-1]
    console.close()


def test_dry_run_predicts_skips_and_sends_nothing(console: Console) -> None:
    prompt = prompt_with(ActionConfig(ActionType.ADD_CONTACT), to_list("3"), to_automation("2"))
    new = console.runner().run(prompt, Interaction.ACCEPT, user(), {0: "dry@x.io"}, dry_run=True)
    assert [a.status for a in new.attempts] == [Status.DRY_RUN] * 3 and new.ok
    assert new.attempts[0].planned["url"] == "https://sandbox.invalid/api/3/contact/sync"
    assert new.attempts[1].planned["body"] == {
        "contactList": {"list": "3", "contact": CONTACT_ID_PLACEHOLDER, "status": 1}
    }
    assert "Would create the contact" in new.attempts[0].reason
    assert api(console).find_contact("dry@x.io") is None  # nothing was written

    real = console.runner().run(
        prompt_with(to_list("3")), Interaction.ACCEPT, user(), {0: "dry@x.io"}
    )
    before = console.sandbox.stats()
    again = console.runner().run(prompt, Interaction.ACCEPT, user(), {0: "dry@x.io"}, dry_run=True)
    sync, subscribe, enroll = again.attempts
    assert f"#{real.contact_id}" in sync.reason
    assert subscribe.reason == "Would be skipped: Already subscribed to “T3”."
    assert subscribe.reason_code is Reason.ALREADY_DONE
    assert enroll.reason.startswith("Would be sent") and enroll.reason_code is None
    assert subscribe.planned["body"]["contactList"]["contact"] == real.contact_id
    # Reads only: the lookup and two checks, no write.
    writes = console.log.rows_of_run(again.run_id)
    assert {r["status"] for r in writes} == {"dry_run"}
    assert console.sandbox.stats()["requests"] - before["requests"] == 3
    live = console.runner().run(prompt, Interaction.ACCEPT, user(), {0: "dry@x.io"})
    assert [a.status for a in live.attempts] == [Status.SUCCEEDED, Status.SKIPPED, Status.SUCCEEDED]


def test_an_unreachable_account_fails_the_action_with_the_sentence(console: Console) -> None:
    console.settings.save("http://127.0.0.1:9", "key-abcd")  # nothing listens on discard
    prompt = prompt_with(ActionConfig(ActionType.ADD_CONTACT), to_list("3"))
    run = console.runner().run(prompt, Interaction.ACCEPT, user(), {0: "u@x.io"})
    failed, skipped = run.attempts
    assert failed.status is Status.FAILED and failed.http_status is None
    assert "refused the connection" in failed.reason and failed.attempts == 4
    assert skipped.status is Status.SKIPPED
    assert console.log.get(failed.log_id)["account"] == "127.0.0.1:9"


@pytest.mark.parametrize("dry_run", [False, True])
def test_the_key_never_reaches_the_log(console: Console, dry_run: bool) -> None:
    prompt = prompt_with(ActionConfig(ActionType.ADD_CONTACT), to_list("999999"))
    console.runner().run(prompt, Interaction.ACCEPT, user(), {0: "k@x.io"}, dry_run=dry_run)
    exported = io.StringIO()
    export_log(console.log, EVERYTHING, ExportFormat.CSV, exported)
    dump = json.dumps(list(console.log.iter_rows())) + exported.getvalue()
    dump += json.dumps([r.to_dict() for r in console.log.runs()])
    assert console.sandbox.api_key not in dump
