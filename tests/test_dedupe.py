"""Writes that are not safe to repeat are checked first: no double enrollment, no silent
re-subscription, no duplicate tag; and independent actions run concurrently."""

from __future__ import annotations

from factories import action, prompt_with, user

from connector import (
    ActionConfig,
    ActionType,
    Console,
    ErrorBehaviour,
    Interaction,
    Reason,
    Run,
    RunStatus,
    Status,
)


def run(console: Console, *actions: ActionConfig, email: str = "dup@x.io") -> Run:
    prompt = prompt_with(*actions)
    return console.runner().run(prompt, Interaction.ACCEPT, user(), {0: email})


def rows(console: Console, contact_id: str, kind: str) -> list[dict]:
    key = kind[0].lower() + kind[1:]
    return console.client().get(f"/contacts/{contact_id}/{kind}")[key]


def automation_with_multientry(console: Console, multientry: bool) -> str:
    return next(a.id for a in console.client().automations() if a.multientry is multientry)


def test_second_enrollment_is_skipped_with_the_reason(console: Console) -> None:
    automation = automation_with_multientry(console, True)
    first = run(console, action(ActionType.ADD_TO_AUTOMATION, automation))
    second = run(console, action(ActionType.ADD_TO_AUTOMATION, automation))
    assert first.attempts[-1].status is Status.SUCCEEDED
    skipped = second.attempts[-1]
    assert skipped.status is Status.SKIPPED and skipped.reason_code is Reason.ALREADY_DONE
    assert "Already in" in skipped.reason and "Allow re-entry" in skipped.reason
    # The read that decided it is the evidence.
    assert skipped.evidence == skipped.checks[0].exchange and skipped.checks[0].present
    assert skipped.planned["body"] == {  # what would have been sent, and was not
        "contactAutomation": {"contact": second.contact_id, "automation": automation}
    }
    assert skipped.tries == []
    assert second.status is RunStatus.SUCCEEDED  # already done counts as done
    assert len(rows(console, first.contact_id, "contactAutomations")) == 1


def test_allow_reentry_enrolls_again_where_the_automation_allows_it(console: Console) -> None:
    automation = automation_with_multientry(console, True)
    run(console, action(ActionType.ADD_TO_AUTOMATION, automation))
    again = run(console, action(ActionType.ADD_TO_AUTOMATION, automation, allow_reentry=True))
    assert again.attempts[-1].status is Status.SUCCEEDED
    assert len(rows(console, again.contact_id, "contactAutomations")) == 2


def test_allow_reentry_reports_the_apis_refusal_when_multientry_is_off(console: Console) -> None:
    automation = automation_with_multientry(console, False)
    run(console, action(ActionType.ADD_TO_AUTOMATION, automation))
    again = run(console, action(ActionType.ADD_TO_AUTOMATION, automation, allow_reentry=True))
    assert again.attempts[-1].status is Status.FAILED
    assert "Could not create SubscriberSeries" in again.attempts[-1].reason
    assert again.attempts[-1].attempts == 1  # a 403 is not retried


def test_an_unsubscribed_contact_is_not_silently_resubscribed(console: Console) -> None:
    first = run(console, action(ActionType.ADD_TO_LIST, "3"))
    unsubscribe = {"contactList": {"list": "3", "contact": first.contact_id, "status": 2}}
    console.client().call("POST", "/contactLists", body=unsubscribe)  # they unsubscribe
    again = run(console, action(ActionType.ADD_TO_LIST, "3"))
    blocked = again.attempts[-1]
    assert blocked.status is Status.SKIPPED and blocked.reason_code is Reason.BLOCKED
    assert "unsubscribed" in blocked.reason and "Resubscribe" in blocked.reason
    statuses = {
        r["list"]: str(r["status"]) for r in rows(console, first.contact_id, "contactLists")
    }
    assert statuses["3"] == "2"

    forced = run(console, action(ActionType.ADD_TO_LIST, "3", resubscribe=True))
    assert forced.attempts[-1].status is Status.SUCCEEDED
    statuses = {
        r["list"]: str(r["status"]) for r in rows(console, first.contact_id, "contactLists")
    }
    assert statuses["3"] == "1"


def test_add_tag_tags_once(console: Console) -> None:
    tag = console.client().tags()[0]
    first = run(console, action(ActionType.ADD_TAG, tag.id))
    again = run(console, action(ActionType.ADD_TAG, tag.id))
    assert first.attempts[-1].status is Status.SUCCEEDED
    assert first.attempts[-1].tries[0].request_body == {
        "contactTag": {"contact": first.contact_id, "tag": tag.id}
    }
    assert again.attempts[-1].status is Status.SKIPPED
    assert "Already tagged" in again.attempts[-1].reason
    assert [t["tag"] for t in rows(console, first.contact_id, "contactTags")] == [tag.id]


def test_continue_actions_run_concurrently_and_stop_still_orders(console: Console) -> None:
    automation = automation_with_multientry(console, True)
    tag = console.client().tags()[0].id
    stopped = run(
        console,
        action(ActionType.ADD_TO_LIST, "999999", ErrorBehaviour.STOP),  # fails, stops the rest
        action(ActionType.ADD_TO_AUTOMATION, automation, ErrorBehaviour.CONTINUE),
        action(ActionType.ADD_TAG, tag, ErrorBehaviour.CONTINUE),
    )
    assert [a.status for a in stopped.attempts] == [
        Status.SUCCEEDED,
        Status.FAILED,
        Status.SKIPPED,
        Status.SKIPPED,
    ]

    parallel = run(
        console,
        action(ActionType.ADD_TO_AUTOMATION, automation, ErrorBehaviour.CONTINUE),
        action(ActionType.ADD_TAG, tag, ErrorBehaviour.CONTINUE),
        action(ActionType.ADD_TO_LIST, "999999", ErrorBehaviour.CONTINUE),
        email="parallel@x.io",
    )
    assert [a.status for a in parallel.attempts] == [
        Status.SUCCEEDED,
        Status.SUCCEEDED,
        Status.SUCCEEDED,
        Status.FAILED,
    ]
    logged = console.log.rows_of_run(parallel.run_id)
    assert sorted(r["position"] for r in logged) == [0, 1, 2, 3]


def test_checks_read_every_page_of_the_contacts_rows(console: Console) -> None:
    """A contact's lists come 20 to a page by default: a contact on 25 lists must still be
    found on the 25th, not subscribed again."""
    first = run(console, action(ActionType.ADD_CONTACT))
    for list_id in range(1, 26):
        body = {"contactList": {"list": str(list_id), "contact": first.contact_id, "status": 1}}
        console.client().call("POST", "/contactLists", body=body)
    default_page = console.client().get(f"/contacts/{first.contact_id}/contactLists")
    assert len(default_page["contactLists"]) == 20  # what a check without paging would see
    again = run(console, action(ActionType.ADD_TO_LIST, "25"))
    assert again.attempts[-1].status is Status.SKIPPED
    assert again.attempts[-1].reason_code is Reason.ALREADY_DONE


def test_a_resubscribe_sends_the_documented_sourceid(console: Console) -> None:
    forced = run(console, action(ActionType.ADD_TO_LIST, "3", resubscribe=True))
    assert forced.attempts[-1].tries[0].request_body["contactList"]["sourceid"] == 4
    plain = run(console, action(ActionType.ADD_TO_LIST, "4"), email="plain@x.io")
    assert "sourceid" not in plain.attempts[-1].tries[0].request_body["contactList"]
