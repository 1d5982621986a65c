"""Add Tag (``POST /contactTags``) and Remove Tag (``DELETE /contactTags/{id}``; api.md §3.12)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connector.ac.actions.base import (
    ActionSpec,
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

__all__ = ["ADD_TAG", "REMOVE_TAG"]

TAG = ParamSpec("tag", "Tag", CatalogKind.TAGS)


def _tag_rows(reads: Reads, params: Mapping[str, str], contact_id: str) -> list[dict[str, Any]]:
    path = f"/contacts/{contact_id}/contactTags"
    return [r for r in reads.rows(path, "contactTags") if str(r.get("tag")) == params["tag_id"]]


# -- Add Tag ----------------------------------------------------------------------------------


def _add_tag(params: Mapping[str, str], context: RunContext) -> PlannedRequest:
    body = {"contactTag": {"contact": context.contact_id, "tag": params["tag_id"]}}
    return PlannedRequest("POST", "/contactTags", body)


def _tagged(params: Mapping[str, str], context: RunContext) -> Verify:
    def verify(body: Any) -> str:
        row = object_in(body, "contactTag")
        if str(row.get("tag")) != params["tag_id"] or str(row.get("contact")) != context.contact_id:
            return f"the tag (a contactTag for tag {params['tag_id']})"
        return ""

    return verify


def _tagged_presence(reads: Reads, params: Mapping[str, str], context: RunContext) -> Presence:
    rows = _tag_rows(reads, params, context.contact_id)
    name = name_of(params, "tag")
    if rows:
        return Presence(frozenset(str(r.get("id")) for r in rows), f"Already tagged {name}.")
    return Presence(frozenset(), f"Not tagged {name}.")


ADD_TAG = ActionSpec(
    ActionType.ADD_TAG,
    "Add Tag",
    "Tags the contact (POST /contactTags) with a tag chosen from the catalog.",
    (TAG,),
    plan=_add_tag,
    proof=_tagged,
    check=_tagged_presence,
)


# -- Remove Tag -------------------------------------------------------------------------------


def _remove_tag(params: Mapping[str, str], context: RunContext) -> PlannedRequest:
    row_id = next(iter(sorted(context.targets)), "<contactTag id>")
    return PlannedRequest("DELETE", f"/contactTags/{row_id}", None)


def _untagged_presence(reads: Reads, params: Mapping[str, str], context: RunContext) -> Presence:
    contact_id, _ = reads.contact(context)
    name = name_of(params, "tag")
    if not contact_id:
        return Presence(frozenset({"no contact"}), "No contact has this email: nothing to do.")
    rows = _tag_rows(reads, params, contact_id)
    if not rows:
        return Presence(
            frozenset({"untagged"}), f"Not tagged {name}: nothing to remove.", contact_id=contact_id
        )
    return Presence(
        frozenset(),
        f"Tagged {name}.",
        targets=frozenset(str(r.get("id")) for r in rows),
        contact_id=contact_id,
    )


REMOVE_TAG = ActionSpec(
    ActionType.REMOVE_TAG,
    "Remove Tag",
    "Removes a tag from the contact (DELETE /contactTags/{id}); confirmed by reading the "
    "contact's tags again. Nothing to do when it isn't tagged.",
    (TAG,),
    plan=_remove_tag,
    proof=any_answer,
    check=_untagged_presence,
    contact="lookup",
    confirm=True,
    done=Reason.NOTHING_TO_DO,
)
