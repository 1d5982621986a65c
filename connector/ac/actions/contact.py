"""Add Contact (the sync, create or update by email) and Update Contact Fields (an existing
contact's mapped fields only, never creating one)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connector.ac.actions.base import (
    ActionSpec,
    PlannedRequest,
    Presence,
    Reads,
    RunContext,
    object_in,
)
from connector.ac.client import Verify
from connector.core.errors import clip
from connector.core.models import ActionType, api_id
from connector.core.records import Reason

__all__ = ["ADD_CONTACT", "UPDATE_CONTACT"]

_STANDARD = ("firstName", "lastName", "phone")


def _differences(
    reads: Reads, contact_id: str, listed: Mapping[str, Any] | None, sent: Mapping[str, Any]
) -> list[str]:
    """The fields of ``sent`` the contact does not hold (reading its field values if needed)."""
    if listed is None:
        listed = object_in(reads.get(f"/contacts/{contact_id}", verify=_has_contact), "contact")
    differs = [
        key for key in _STANDARD if key in sent and str(listed.get(key) or "") != str(sent[key])
    ]
    wanted = {str(v["field"]): str(v["value"]) for v in sent.get("fieldValues") or []}
    if wanted:
        held = {
            str(row.get("field")): str(row.get("value") or "")
            for row in reads.rows(f"/contacts/{contact_id}/fieldValues", "fieldValues")
        }
        differs += [f"custom field {f}" for f, value in wanted.items() if held.get(f) != value]
    return differs


def _has_contact(body: Any) -> str:
    return "" if api_id(object_in(body, "contact").get("id")) else "the contact (contact.id)"


# -- Add Contact ------------------------------------------------------------------------------


def _sync(params: Mapping[str, str], context: RunContext) -> PlannedRequest:
    return PlannedRequest("POST", "/contact/sync", {"contact": dict(context.contact)})


def _synced(params: Mapping[str, str], context: RunContext) -> Verify:
    email = str(context.contact.get("email", "")).lower()

    def verify(body: Any) -> str:
        contact = object_in(body, "contact")
        if api_id(contact.get("id")) is None:
            return "the contact's id (contact.id)"
        if "email" in contact and str(contact["email"]).lower() != email:
            return f"the contact {clip(email, 60)} (it names {clip(str(contact['email']), 60)})"
        return ""

    return verify


def _contact_presence(reads: Reads, params: Mapping[str, str], context: RunContext) -> Presence:
    """Whether a contact with this email holds every value the sync sends: its names and phone,
    and its custom field values (read only when the sync sends some)."""
    email = str(context.contact.get("email", "")).lower()
    contact_id, listed = reads.contact(RunContext(context.contact, ""))
    if not contact_id:
        return Presence(frozenset(), f"No contact with the email {email} exists yet.")
    differs = _differences(reads, contact_id, listed, context.contact)
    if differs:
        return Presence(
            frozenset(),
            f"Contact #{contact_id} ({email}) exists, with other values for {', '.join(differs)}.",
            contact_id=contact_id,
        )
    return Presence(
        frozenset({contact_id}),
        f"Contact #{contact_id} ({email}) holds every value sent.",
        contact_id=contact_id,
    )


ADD_CONTACT = ActionSpec(
    ActionType.ADD_CONTACT,
    "Add Contact",
    "Creates the contact, or updates it when the email exists (POST /contact/sync), with the "
    "values the prompt's contact fields take (form inputs, traits, fixed values).",
    (),
    plan=_sync,
    proof=_synced,
    check=_contact_presence,
    contact="none",
    check_first=False,
)


# -- Update Contact Fields --------------------------------------------------------------------


def _fields_only(context: RunContext) -> dict[str, Any]:
    return {k: v for k, v in context.mapped.items() if k != "email"}


def _update(params: Mapping[str, str], context: RunContext) -> PlannedRequest:
    contact_id = next(iter(context.targets), context.contact_id or "<contact id>")
    return PlannedRequest("PUT", f"/contacts/{contact_id}", {"contact": _fields_only(context)})


def _updated(params: Mapping[str, str], context: RunContext) -> Verify:
    sent = _fields_only(context)

    def verify(body: Any) -> str:
        contact = object_in(body, "contact")
        wrong = [k for k in _STANDARD if k in sent and str(contact.get(k) or "") != str(sent[k])]
        rows = body.get("fieldValues") if isinstance(body, dict) else None
        held = {
            str(row.get("field")): str(row.get("value"))
            for row in (rows if isinstance(rows, list) else [])
            if isinstance(row, dict)
        }
        wrong += [
            f"custom field {v['field']}"
            for v in sent.get("fieldValues") or []
            if held.get(str(v["field"])) != str(v["value"])
        ]
        if api_id(contact.get("id")) is None or wrong:
            return "the updated values (" + (", ".join(wrong) or "contact.id") + ")"
        return ""

    return verify


def _update_presence(reads: Reads, params: Mapping[str, str], context: RunContext) -> Presence:
    sent = _fields_only(context)
    contact_id, listed = reads.contact(context)
    if not contact_id:
        email = context.contact.get("email", "")
        return Presence(
            frozenset({"no contact"}), f"No contact has the email {email}: nothing to update."
        )
    if not sent:
        return Presence(
            frozenset({contact_id}), "The prompt maps no contact field: nothing to update."
        )
    differs = _differences(reads, contact_id, listed, sent)
    if not differs:
        return Presence(
            frozenset({contact_id}),
            f"Contact #{contact_id} already holds every mapped value.",
            contact_id=contact_id,
        )
    return Presence(
        frozenset(),
        f"Contact #{contact_id} holds other values for {', '.join(differs)}.",
        targets=frozenset({contact_id}),
        contact_id=contact_id,
    )


UPDATE_CONTACT = ActionSpec(
    ActionType.UPDATE_CONTACT,
    "Update Contact Fields",
    "Updates an existing contact's mapped fields only (PUT /contacts/{id}); never creates a "
    "contact. Skipped when no contact has the email, or it already holds every value.",
    (),
    plan=_update,
    proof=_updated,
    check=_update_presence,
    contact="lookup",
    done=Reason.NOTHING_TO_DO,
)
