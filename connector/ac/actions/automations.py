"""Add to Automation (``POST /contactAutomations``) and Remove from Automation
(``DELETE /contactAutomations/{id}``; api.md §3.10)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connector.ac.actions.base import (
    ActionSpec,
    OptionSpec,
    ParamSpec,
    PlannedRequest,
    Presence,
    Reads,
    RunContext,
    any_answer,
    name_of,
    object_in,
)
from connector.ac.client import Verify
from connector.core.models import ActionType, CatalogKind
from connector.core.records import Reason

__all__ = ["ADD_TO_AUTOMATION", "REMOVE_FROM_AUTOMATION"]

AUTOMATION = ParamSpec("automation", "Automation", CatalogKind.AUTOMATIONS)


def _runs(reads: Reads, params: Mapping[str, str], contact_id: str) -> list[dict[str, Any]]:
    """The contact's runs of the action's automation, newest last."""
    path = f"/contacts/{contact_id}/contactAutomations"
    return [
        row
        for row in reads.rows(path, "contactAutomations")
        if str(row.get("automation") or row.get("seriesid")) == params["automation_id"]
    ]


# -- Add to Automation ------------------------------------------------------------------------


def _enroll(params: Mapping[str, str], context: RunContext) -> PlannedRequest:
    body = {
        "contactAutomation": {"contact": context.contact_id, "automation": params["automation_id"]}
    }
    return PlannedRequest("POST", "/contactAutomations", body)


def _enrolled(params: Mapping[str, str], context: RunContext) -> Verify:
    def verify(body: Any) -> str:
        row = object_in(body, "contactAutomation")
        automation = str(row.get("automation") or row.get("seriesid") or "")
        if automation != params["automation_id"] or str(row.get("contact")) != context.contact_id:
            return f"the enrollment (a contactAutomation for automation {params['automation_id']})"
        return ""

    return verify


def _enrolled_presence(reads: Reads, params: Mapping[str, str], context: RunContext) -> Presence:
    runs = _runs(reads, params, context.contact_id)
    name = name_of(params, "automation")
    if not runs:
        return Presence(frozenset(), f"Not in {name}.")
    return Presence(
        frozenset(str(row.get("id")) for row in runs),
        f"Already in {name} (entered {len(runs)}×). Turn on “Allow re-entry” for this action to "
        "enroll again.",
    )


ADD_TO_AUTOMATION = ActionSpec(
    ActionType.ADD_TO_AUTOMATION,
    "Add to Automation",
    "Enrolls the contact in an automation (POST /contactAutomations).",
    (AUTOMATION,),
    plan=_enroll,
    proof=_enrolled,
    check=_enrolled_presence,
    options=(
        OptionSpec(
            "allow_reentry",
            "Allow re-entry",
            "Enroll a contact who is already (or was) in this automation again.",
        ),
    ),
    repeat_option="allow_reentry",
)


# -- Remove from Automation -------------------------------------------------------------------


def _remove(params: Mapping[str, str], context: RunContext) -> PlannedRequest:
    run_id = next(iter(sorted(context.targets)), "<contactAutomation id>")
    return PlannedRequest("DELETE", f"/contactAutomations/{run_id}", None)


def _removed_presence(reads: Reads, params: Mapping[str, str], context: RunContext) -> Presence:
    contact_id, _ = reads.contact(context)
    name = name_of(params, "automation")
    if not contact_id:
        return Presence(frozenset({"no contact"}), "No contact has this email: nothing to do.")
    active = [r for r in _runs(reads, params, contact_id) if str(r.get("status")) == "1"]
    if not active:
        return Presence(
            frozenset({"not in"}),
            f"Not in {name} (or its runs are finished): nothing to remove.",
            contact_id=contact_id,
        )
    # Ids are strings of digits (the collection's verifier saw to it): the highest is the newest.
    newest = max(active, key=lambda r: int(str(r.get("id"))))
    return Presence(
        frozenset(),
        f"In {name} (run #{newest.get('id')}).",
        targets=frozenset({str(newest.get("id"))}),
        contact_id=contact_id,
    )


REMOVE_FROM_AUTOMATION = ActionSpec(
    ActionType.REMOVE_FROM_AUTOMATION,
    "Remove from Automation",
    "Ends the contact's current run of an automation (DELETE /contactAutomations/{id}); "
    "confirmed by reading the contact's runs again. Nothing to do when it isn't in it.",
    (AUTOMATION,),
    plan=_remove,
    proof=any_answer,
    check=_removed_presence,
    contact="lookup",
    confirm=True,
    done=Reason.NOTHING_TO_DO,
)
