"""The actions that change an existing contact: Update Contact Fields, Unsubscribe from List,
Remove from Automation, Remove Tag. Each finds the contact by email and never creates one,
has its "nothing to do" rule, and proves its outcome (a removal answers ``{}``: a read confirms)."""

from __future__ import annotations

from pathlib import Path

import httpx
from factories import FakeClock, action, prompt_with, user

from connector import (
    ActionConfig,
    ActionType,
    Console,
    FieldMapping,
    Interaction,
    Reason,
    Run,
    RunStatus,
    Source,
    Status,
)
from connector.sandbox import Fault, Sandbox


def run(console: Console, *actions: ActionConfig, email: str = "ex@x.io", **kw) -> Run:
    return console.runner().run(prompt_with(*actions), Interaction.ACCEPT, user(), {0: email}, **kw)


def contacts(console: Console) -> int:
    return int(console.client().get("/contacts")["meta"]["total"])


def rows(console: Console, contact_id: str, kind: str) -> list[dict]:
    return console.client().get(f"/contacts/{contact_id}/{kind}")[kind]


def test_remove_tag_deletes_the_tag_and_confirms_it_by_reading(console: Console) -> None:
    tagged = run(console, action(ActionType.ADD_TAG, "1"))
    removed = run(console, action(ActionType.REMOVE_TAG, "1"))
    (attempt,) = removed.attempts  # no sync: it finds the contact by email
    assert attempt.status is Status.SUCCEEDED and removed.status is RunStatus.SUCCEEDED
    assert attempt.tries[0].method == "DELETE" and attempt.tries[0].response_body == {}
    assert attempt.checks[-1].purpose == "after sending, to confirm"
    assert attempt.evidence == attempt.checks[-1].exchange and "nothing to remove" in attempt.reason
    assert rows(console, tagged.contact_id, "contactTags") == []
    again = run(console, action(ActionType.REMOVE_TAG, "1"))
    assert again.attempts[0].status is Status.SKIPPED
    assert again.attempts[0].reason_code is Reason.NOTHING_TO_DO and again.ok


def test_a_removal_never_creates_the_contact(console: Console) -> None:
    before = contacts(console)
    for kind, target in (
        (ActionType.REMOVE_TAG, "1"),
        (ActionType.UNSUBSCRIBE, "3"),
        (ActionType.REMOVE_FROM_AUTOMATION, "1"),
        (ActionType.UPDATE_CONTACT, ""),
    ):
        done = run(console, action(kind, target), email="nobody@x.io")
        assert [a.reason_code for a in done.attempts] == [Reason.NOTHING_TO_DO], kind
        assert "No contact has" in done.attempts[0].reason and done.ok
    assert contacts(console) == before


def test_unsubscribe_sets_status_2_and_proves_it(console: Console) -> None:
    subscribed = run(console, action(ActionType.ADD_TO_LIST, "3"))
    gone = run(console, action(ActionType.UNSUBSCRIBE, "3"))
    (attempt,) = gone.attempts
    assert attempt.status is Status.SUCCEEDED
    assert attempt.tries[0].request_body["contactList"]["status"] == 2
    assert attempt.evidence.response_body["contactList"]["status"] in (2, "2")
    statuses = {
        r["list"]: str(r["status"]) for r in rows(console, subscribed.contact_id, "contactLists")
    }
    assert statuses["3"] == "2"
    again = run(console, action(ActionType.UNSUBSCRIBE, "3"))
    assert again.attempts[0].reason == "Already unsubscribed from “T3”."


def test_remove_from_automation_ends_the_run(console: Console) -> None:
    automation = next(a.id for a in console.client().automations() if a.multientry)
    enrolled = run(console, action(ActionType.ADD_TO_AUTOMATION, automation))
    removed = run(console, action(ActionType.REMOVE_FROM_AUTOMATION, automation))
    (attempt,) = removed.attempts
    assert attempt.status is Status.SUCCEEDED and attempt.tries[0].method == "DELETE"
    assert rows(console, enrolled.contact_id, "contactAutomations") == []


class BlindAfterDelete(Sandbox):
    """Once a DELETE arrives, every read of a contact's tags fails."""

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            self.inject(Fault("status", "GET", "/contacts/*/contactTags", status=500, count=50))
        return super().handle(request)


def test_a_removal_whose_answer_can_not_be_confirmed_is_unknown(tmp_path: Path) -> None:
    clock = FakeClock()
    console = Console(
        tmp_path / "c.db", env={}, sandbox=BlindAfterDelete(), clock=clock, sleep=clock.sleep
    )
    run(console, action(ActionType.ADD_TAG, "2"))
    done = run(console, action(ActionType.REMOVE_TAG, "2"))
    (attempt,) = done.attempts
    assert attempt.status is Status.UNKNOWN and done.status is RunStatus.UNKNOWN
    assert "the check that would confirm it failed" in attempt.reason
    assert attempt.tries[0].status == 200  # it was sent, and answered {}
    console.close()


def test_update_contact_fields_changes_only_the_mapped_fields(console: Console) -> None:
    first = run(console, action(ActionType.ADD_CONTACT))  # ex@x.io exists, no names
    prompt = prompt_with(action(ActionType.UPDATE_CONTACT))
    prompt.mappings += [
        FieldMapping("firstName", Source.TRAIT, "nickname"),
        FieldMapping("field:1", Source.FIXED, "Acme"),
    ]
    someone = user(nickname="Ace", last_name="Ignored")  # last_name: a default, not mapped
    done = console.runner().run(prompt, Interaction.DECLINE, someone)
    assert done.status is RunStatus.NO_ACTIONS  # Accept carries it, not Decline
    someone = user("ex@x.io", nickname="Ace", last_name="Ignored")
    done = console.runner().run(prompt, Interaction.ACCEPT, someone, {0: "ex@x.io"})
    (attempt,) = done.attempts
    assert attempt.status is Status.SUCCEEDED
    assert attempt.tries[0].method == "PUT" and attempt.tries[0].url.endswith(
        f"/contacts/{first.contact_id}"
    )
    assert attempt.tries[0].request_body == {
        "contact": {"firstName": "Ace", "fieldValues": [{"field": "1", "value": "Acme"}]}
    }
    contact = console.client().get(f"/contacts/{first.contact_id}")["contact"]
    assert (contact["firstName"], contact["lastName"]) == ("Ace", "")
    again = console.runner().run(prompt, Interaction.ACCEPT, someone, {0: "ex@x.io"})
    assert again.attempts[0].reason_code is Reason.NOTHING_TO_DO
    assert "already holds every mapped value" in again.attempts[0].reason


def test_dry_runs_predict_the_removals(console: Console) -> None:
    run(console, action(ActionType.ADD_TAG, "3"))
    before = console.sandbox.stats()["requests"]
    predicted = run(
        console,
        action(ActionType.REMOVE_TAG, "3", on_error=action(ActionType.ADD_TAG).on_error),
        action(ActionType.UNSUBSCRIBE, "4"),
        dry_run=True,
    )
    remove, unsubscribe = predicted.attempts
    assert (
        remove.reason.startswith("Would be sent: Tagged") and remove.planned["method"] == "DELETE"
    )
    assert "/contactTags/" in remove.planned["url"] and "<" not in remove.planned["url"]
    assert unsubscribe.reason_code is Reason.NOTHING_TO_DO
    after = console.sandbox.stats()["requests"]
    assert after > before and not any(
        e.method != "GET" for a in predicted.attempts for c in a.checks for e in c.exchanges
    )
