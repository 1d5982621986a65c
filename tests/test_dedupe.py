"""Writes that are not safe to repeat are checked first: no double enrollment, no silent
re-subscription, no duplicate tag; and independent actions run concurrently."""

from __future__ import annotations

from factories import action, prompt_with

from connector import (
    ActionConfig,
    ActionType,
    Console,
    ErrorBehaviour,
    Interaction,
    SimulatedUser,
    Status,
)


def run(console: Console, *actions: ActionConfig, email: str = "dup@x.io"):
    prompt = prompt_with(*actions)
    return console.runner().run(prompt, Interaction.ACCEPT, SimulatedUser(), {0: email})


def automation_with_multientry(console: Console, multientry: bool) -> str:
    automations = console.client().automations()
    return next(a.id for a in automations if a.multientry is multientry)


def test_second_enrollment_is_skipped_with_the_reason(console: Console) -> None:
    automation = automation_with_multientry(console, True)
    first = run(console, action(ActionType.ADD_TO_AUTOMATION, automation))
    second = run(console, action(ActionType.ADD_TO_AUTOMATION, automation))
    assert first.outcomes[-1].status is Status.SUCCEEDED
    assert second.outcomes[-1].status is Status.SKIPPED
    assert (
        "Already in" in second.outcomes[-1].error and "Allow re-entry" in second.outcomes[-1].error
    )
    assert second.outcomes[-1].checks  # the read that decided it is shown
    assert len(console.client().contact_automations(first.contact_id)) == 1


def test_allow_reentry_enrolls_again_where_the_automation_allows_it(console: Console) -> None:
    automation = automation_with_multientry(console, True)
    run(console, action(ActionType.ADD_TO_AUTOMATION, automation))
    again = run(console, action(ActionType.ADD_TO_AUTOMATION, automation, allow_reentry=True))
    assert again.outcomes[-1].status is Status.SUCCEEDED
    assert len(console.client().contact_automations(again.contact_id)) == 2


def test_allow_reentry_reports_the_apis_refusal_when_multientry_is_off(console: Console) -> None:
    automation = automation_with_multientry(console, False)
    run(console, action(ActionType.ADD_TO_AUTOMATION, automation))
    again = run(console, action(ActionType.ADD_TO_AUTOMATION, automation, allow_reentry=True))
    assert again.outcomes[-1].status is Status.FAILED
    assert "Could not create SubscriberSeries" in again.outcomes[-1].error
    assert again.outcomes[-1].attempts == 1  # a 403 is not retried


def test_an_unsubscribed_contact_is_not_silently_resubscribed(console: Console) -> None:
    first = run(console, action(ActionType.ADD_TO_LIST, "3"))
    console.client().add_to_list(first.contact_id, "3", status=2)  # they unsubscribe
    again = run(console, action(ActionType.ADD_TO_LIST, "3"))
    assert again.outcomes[-1].status is Status.SKIPPED
    assert "unsubscribed" in again.outcomes[-1].error and "Resubscribe" in again.outcomes[-1].error
    statuses = {
        r["list"]: str(r["status"]) for r in console.client().contact_lists(first.contact_id)
    }
    assert statuses["3"] == "2"

    forced = run(console, action(ActionType.ADD_TO_LIST, "3", resubscribe=True))
    assert forced.outcomes[-1].status is Status.SUCCEEDED
    statuses = {
        r["list"]: str(r["status"]) for r in console.client().contact_lists(first.contact_id)
    }
    assert statuses["3"] == "1"


def test_add_tag_tags_once(console: Console) -> None:
    tag = console.client().tags()[0]
    first = run(console, action(ActionType.ADD_TAG, tag.id))
    again = run(console, action(ActionType.ADD_TAG, tag.id))
    assert first.outcomes[-1].status is Status.SUCCEEDED
    assert first.outcomes[-1].request["body"] == {
        "contactTag": {"contact": first.contact_id, "tag": tag.id}
    }
    assert (
        again.outcomes[-1].status is Status.SKIPPED and "Already tagged" in again.outcomes[-1].error
    )
    tags = [t["tag"] for t in console.client().contact_tags(first.contact_id)]
    assert tags == [tag.id]


def test_continue_actions_run_concurrently_and_stop_still_orders(console: Console) -> None:
    automation = automation_with_multientry(console, True)
    tag = console.client().tags()[0].id
    result = run(
        console,
        action(ActionType.ADD_TO_LIST, "999999", ErrorBehaviour.STOP),  # fails, stops the rest
        action(ActionType.ADD_TO_AUTOMATION, automation, ErrorBehaviour.CONTINUE),
        action(ActionType.ADD_TAG, tag, ErrorBehaviour.CONTINUE),
    )
    assert [o.status for o in result.outcomes] == [
        Status.SUCCEEDED,
        Status.FAILED,
        Status.SKIPPED,
        Status.SKIPPED,
    ]

    result = run(
        console,
        action(ActionType.ADD_TO_AUTOMATION, automation, ErrorBehaviour.CONTINUE),
        action(ActionType.ADD_TAG, tag, ErrorBehaviour.CONTINUE),
        action(ActionType.ADD_TO_LIST, "999999", ErrorBehaviour.CONTINUE),
        email="parallel@x.io",
    )
    assert [o.status for o in result.outcomes] == [
        Status.SUCCEEDED,
        Status.SUCCEEDED,
        Status.SUCCEEDED,
        Status.FAILED,
    ]
    rows = console.log.run(result.run_id)
    assert sorted(r["position"] for r in rows) == [0, 1, 2, 3]
