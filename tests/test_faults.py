"""Faults injected into the sandbox, seen through the runner and the log: the outcome, the tries
and the reason are right, nothing is lost, and no retry enrolls twice. Retries wait on the fake
clock of the ``console`` fixture."""

from __future__ import annotations

import pytest
from factories import prompt_with, settle, user

from connector import (
    ActionConfig,
    ActionType,
    CatalogKind,
    Console,
    Interaction,
    Reason,
    Run,
    ServerError,
    Status,
)
from connector.sandbox import Fault


def automation_id(console: Console) -> str:
    return next(a.id for a in console.client().automations() if a.multientry)


def run(console: Console, *actions: ActionConfig, email: str = "f@x.io") -> Run:
    prompt = prompt_with(ActionConfig(ActionType.ADD_CONTACT), *actions)
    return console.runner().run(prompt, Interaction.ACCEPT, user(), {0: email})


def enroll(console: Console) -> ActionConfig:
    return ActionConfig(ActionType.ADD_TO_AUTOMATION, {"automation_id": automation_id(console)})


def enrollments(console: Console, done: Run) -> int:
    path = f"/contacts/{done.contact_id}/contactAutomations"
    return len(console.client().get(path)["contactAutomations"])


def row(console: Console, done: Run, action_type: str) -> dict:
    return next(r for r in console.log.rows_of_run(done.run_id) if r["action_type"] == action_type)


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_a_transient_status_is_retried_and_enrolls_once(console, status) -> None:
    action = enroll(console)
    console.sandbox.inject(Fault("status", "POST", "/contactAutomations", status=status))
    done = run(console, action)
    enrolled = done.attempts[-1]
    assert enrolled.status is Status.SUCCEEDED and enrolled.attempts == 2
    assert enrollments(console, done) == 1
    logged = row(console, done, "add_to_automation")
    assert (logged["status"], logged["attempts"]) == ("succeeded", 2)
    assert f"HTTP {status}" in logged["last_error"] or "rate limit" in logged["last_error"]
    # A 5xx may have been applied: the retry checked first. A 429 was refused: no need.
    purposes = [c.purpose for c in enrolled.checks]
    expected = ["before sending"] if status == 429 else ["before sending", "after an error answer"]
    assert purposes == expected


def finished(console: Console, done: Run) -> Run:
    """The run as the store holds it once the settle delay passed and a worker verified."""
    settle(console)
    stored = console.log.run(done.run_id)
    assert stored is not None
    return stored


def test_a_lost_answer_after_the_write_landed_is_verified_not_repeated(console) -> None:
    action = enroll(console)
    console.sandbox.inject(
        Fault("hang", "POST", "/contactAutomations", commit=True, hang_seconds=0)
    )
    done = run(console, action)
    waiting = done.attempts[-1]
    # No check at once (the request may still be in flight) and no blind resend.
    assert waiting.status is Status.UNKNOWN and waiting.attempts == 1
    assert [c.purpose for c in waiting.checks] == ["before sending"]
    enrolled = finished(console, done).attempts[-1]
    assert enrolled.status is Status.SUCCEEDED and enrolled.reason_code is Reason.VERIFIED
    assert enrolled.attempts == 1  # one POST sent; the verification found it
    assert enrolled.evidence == enrolled.checks[-1].exchange
    assert enrollments(console, done) == 1
    assert "did not answer in time" in row(console, done, "add_to_automation")["last_error"]


def test_a_lost_reentry_is_recognised_by_its_new_row(console) -> None:
    """With re-entry allowed the contact is already there before; only a new row is ours."""
    action = enroll(console)
    first = run(console, action)
    again = ActionConfig(ActionType.ADD_TO_AUTOMATION, {**action.params, "allow_reentry": "1"})
    console.sandbox.inject(Fault("reset", "POST", "/contactAutomations", commit=True))
    done = run(console, again)
    enrolled = finished(console, done).attempts[-1]
    assert enrolled.status is Status.SUCCEEDED and enrolled.reason_code is Reason.VERIFIED
    assert enrolled.attempts == 1 and enrollments(console, first) == 2


def test_a_reset_before_the_write_is_sent_again_after_the_settle_delay(console) -> None:
    action = enroll(console)
    console.sandbox.inject(Fault("reset", "POST", "/contactAutomations"))
    done = run(console, action)
    assert done.attempts[-1].status is Status.UNKNOWN and done.attempts[-1].attempts == 1
    enrolled = finished(console, done).attempts[-1]
    assert enrolled.status is Status.SUCCEEDED and enrolled.attempts == 2
    assert enrollments(console, done) == 1


def test_a_reset_after_a_tag_landed_is_not_repeated(console) -> None:
    tag = console.client().tags()[0].id
    console.sandbox.inject(Fault("reset", "POST", "/contactTags", commit=True))
    done = run(console, ActionConfig(ActionType.ADD_TAG, {"tag_id": tag}))
    tagged = finished(console, done).attempts[-1]
    assert tagged.status is Status.SUCCEEDED and tagged.attempts == 1
    tags = console.client().get(f"/contacts/{done.contact_id}/contactTags")["contactTags"]
    assert len(tags) == 1


def test_a_storm_of_faults_still_enrolls_once(console) -> None:
    action = enroll(console)
    console.sandbox.inject(
        Fault("hang", "POST", "/contactAutomations", commit=True, hang_seconds=0),
        Fault("status", "GET", "/contacts/*/contactAutomations", status=502),
        Fault("reset", "POST", "/contactAutomations", count=3),
    )
    done = run(console, action)
    assert finished(console, done).attempts[-1].status is Status.SUCCEEDED
    assert enrollments(console, done) == 1


def test_retries_give_up_after_the_attempt_cap_and_say_why(console) -> None:
    console.sandbox.inject(Fault("status", "POST", "/contactLists", status=500, count=10))
    done = run(console, ActionConfig(ActionType.ADD_TO_LIST, {"list_id": "3"}))
    failed = done.attempts[-1]
    assert failed.status is Status.FAILED and failed.attempts == 4
    assert "HTTP 500" in failed.reason and "Not subscribed" in failed.reason
    logged = row(console, done, "add_to_list")
    assert (logged["status"], logged["attempts"], logged["http_status"]) == ("failed", 4, 500)
    assert console.log.counts().get("pending", 0) == 0  # nothing left hanging


def test_an_empty_sync_answer_is_retried_not_trusted(console) -> None:
    console.sandbox.inject(Fault("empty", "POST", "/contact/sync", status=201, commit=True))
    done = run(console, ActionConfig(ActionType.ADD_TO_LIST, {"list_id": "3"}))
    sync = done.attempts[0]
    assert [a.status for a in done.attempts] == [Status.SUCCEEDED, Status.SUCCEEDED]
    assert sync.attempts == 2 and "empty body" in sync.tries[0].error
    assert sync.evidence.response_body["contact"]["id"] == done.contact_id


def test_a_malformed_sync_answer_is_retried(console) -> None:
    console.sandbox.inject(Fault("malformed", "POST", "/contact/sync", commit=True))
    done = run(console, ActionConfig(ActionType.ADD_TO_LIST, {"list_id": "3"}))
    sync = done.attempts[0]
    assert sync.status is Status.SUCCEEDED and sync.attempts == 2
    assert "not JSON" in row(console, done, "add_contact")["last_error"]


def test_a_permanent_error_is_not_retried(console) -> None:
    done = run(console, ActionConfig(ActionType.ADD_TO_LIST, {"list_id": "999999"}))
    assert done.attempts[-1].status is Status.FAILED and done.attempts[-1].attempts == 1


@pytest.mark.parametrize(
    "fault",
    [
        Fault("empty", "GET", "/lists", count=8),
        Fault("malformed", "GET", "/lists", count=8),
        Fault("status", "GET", "/lists", status=503, count=8),
    ],
)
def test_a_catalog_refresh_that_does_not_verify_keeps_the_cache_and_says_so(
    console, fault: Fault
) -> None:
    assert console.refresh_catalog()[CatalogKind.LISTS] == 48
    console.sandbox.inject(fault)
    with pytest.raises(ServerError) as caught:  # UnexpectedResponse is a ServerError
        console.refresh_catalog()
    assert "The cached lists from" in caught.value.message
    assert "kept unchanged" in caught.value.message
    assert len(console.catalog_items(CatalogKind.LISTS)) == 48


def test_an_item_seen_on_two_pages_is_stored_once(console) -> None:
    from connector.core.models import AcList

    console.catalog._store(
        "sandbox", CatalogKind.LISTS, [AcList("1", "A", "a", ""), AcList("1", "A2", "a", "")]
    )
    assert [(i.id, i.name) for i in console.catalog_items(CatalogKind.LISTS)] == [("1", "A2")]
