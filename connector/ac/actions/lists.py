"""Add to List and Unsubscribe from List: a contact's status on a list (``POST /contactLists``
with status 1 or 2; api.md §3.9)."""

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
    name_of,
    object_in,
)
from connector.ac.client import Verify
from connector.core.models import ActionType, CatalogKind
from connector.core.records import Reason

__all__ = ["ADD_TO_LIST", "UNSUBSCRIBE"]

LIST = ParamSpec("list", "List", CatalogKind.LISTS)


def _status_on_list(
    reads: Reads, params: Mapping[str, str], context: RunContext
) -> tuple[str, str, str]:
    """(contact id, the contactList row's id, its status) for the action's list; "" for none."""
    contact_id, _ = reads.contact(context)
    if not contact_id:
        return "", "", ""
    path = f"/contacts/{contact_id}/contactLists"
    rows = [r for r in reads.rows(path, "contactLists") if str(r.get("list")) == params["list_id"]]
    if not rows:
        return contact_id, "", ""
    return contact_id, str(rows[0].get("id")), str(rows[0].get("status"))


def _posting(status: int, params: Mapping[str, str], context: RunContext) -> PlannedRequest:
    contact_id = context.contact_id or next(iter(context.targets), "<contact id>")
    row: dict[str, Any] = {"list": params["list_id"], "contact": contact_id, "status": status}
    if status == 1 and params.get("resubscribe"):
        row["sourceid"] = 4  # the docs: send 4 when subscribing again someone who unsubscribed
    return PlannedRequest("POST", "/contactLists", {"contactList": row})


def _shows_status(status: int, params: Mapping[str, str], context: RunContext) -> Verify:
    what = "subscription" if status == 1 else "unsubscription"
    contact_id = context.contact_id or next(iter(context.targets), "")

    def verify(body: Any) -> str:
        row = object_in(body, "contactList")
        if (
            str(row.get("list")) != params["list_id"]
            or str(row.get("contact")) != contact_id
            or str(row.get("status")) != str(status)
        ):
            return f"the list {what} (a contactList for list {params['list_id']}, status {status})"
        return ""

    return verify


# -- Add to List ------------------------------------------------------------------------------


def _subscribe_presence(reads: Reads, params: Mapping[str, str], context: RunContext) -> Presence:
    contact_id, row_id, status = _status_on_list(reads, params, context)
    name = name_of(params, "list")
    if status == "1":
        return Presence(frozenset({row_id}), f"Already subscribed to {name}.")
    if status == "2":
        return Presence(
            frozenset(),
            f"Unsubscribed from {name}.",
            blocked=f"The contact unsubscribed from {name}; subscribing again would override "
            "their choice. Turn on “Resubscribe” for this action to do it anyway.",
        )
    if status == "3":
        return Presence(
            frozenset(),
            f"Bounced on {name}.",
            blocked=f"The contact's email bounced on {name}. Turn on “Resubscribe” to subscribe "
            "it anyway.",
        )
    return Presence(frozenset(), f"Not subscribed to {name}.", contact_id=contact_id)


ADD_TO_LIST = ActionSpec(
    ActionType.ADD_TO_LIST,
    "Add to List",
    "Subscribes the contact to a list (POST /contactLists, status 1).",
    (LIST,),
    plan=lambda params, context: _posting(1, params, context),
    proof=lambda params, context: _shows_status(1, params, context),
    check=_subscribe_presence,
    options=(
        OptionSpec(
            "resubscribe",
            "Resubscribe",
            "Subscribe again a contact who unsubscribed from this list.",
        ),
    ),
    unblock_option="resubscribe",
)


# -- Unsubscribe from List --------------------------------------------------------------------


def _unsubscribe_presence(reads: Reads, params: Mapping[str, str], context: RunContext) -> Presence:
    contact_id, row_id, status = _status_on_list(reads, params, context)
    name = name_of(params, "list")
    if not contact_id:
        return Presence(frozenset({"no contact"}), "No contact has this email: nothing to do.")
    if status in ("1", "0"):  # subscribed, or waiting for their confirmation
        return Presence(
            frozenset(),
            f"Subscribed to {name}.",
            targets=frozenset({contact_id}),
            contact_id=contact_id,
        )
    said = {"2": f"Already unsubscribed from {name}.", "3": f"Bounced on {name}: not subscribed."}
    return Presence(
        frozenset({row_id or "not on the list"}),
        said.get(status, f"Not on {name}: nothing to unsubscribe."),
        contact_id=contact_id,
    )


UNSUBSCRIBE = ActionSpec(
    ActionType.UNSUBSCRIBE,
    "Unsubscribe from List",
    "Unsubscribes the contact from a list (POST /contactLists, status 2). Nothing to do when "
    "the contact isn't subscribed, or doesn't exist.",
    (LIST,),
    plan=lambda params, context: _posting(2, params, context),
    proof=lambda params, context: _shows_status(2, params, context),
    check=_unsubscribe_presence,
    contact="lookup",
    done=Reason.NOTHING_TO_DO,
)
