"""The action registry: per action type, its parameters, its request, its proof and its check.

Adding an action is one new ``ActionSpec`` in ``REGISTRY`` (and its entry in the README, which a
test enforces). An action never sends anything itself:

* ``plan`` builds the request, so a dry run shows exactly what a real run would send;
* ``verify`` says what a 2xx answer must show for the action to count as done (the
  ``contactList`` of this list and contact…), so an empty or partial answer is never a success;
* ``check`` reads where the contact is now and returns a ``Presence``: the ids of the rows that
  already put the contact where the action would (e.g. its ``contactAutomation`` ids), and what
  that means in a sentence. The runner checks before sending (to skip a duplicate), after a lost
  answer (a new row id is its own write landing: never a sibling's, which claims rule out), and
  in a dry run (to predict the skip).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .client import PAGE_SIZE, AcClient, Verify, collection
from .models import ActionType, CatalogKind
from .records import Exchange

__all__ = [
    "CONTACT_ID_PLACEHOLDER",
    "REGISTRY",
    "ActionSpec",
    "OptionSpec",
    "ParamSpec",
    "PlannedRequest",
    "Presence",
    "Reads",
    "RunContext",
]

# Stands in for the contact id in a dry run for a contact that does not exist yet.
CONTACT_ID_PLACEHOLDER = "<contact id from the sync>"


@dataclass(frozen=True)
class ParamSpec:
    """A parameter chosen from the catalog: stored as ``<key>_id`` and ``<key>_name``."""

    key: str
    label: str
    catalog: CatalogKind

    @property
    def id_key(self) -> str:
        return f"{self.key}_id"

    @property
    def name_key(self) -> str:
        return f"{self.key}_name"


@dataclass(frozen=True)
class OptionSpec:
    """An on/off option of an action, stored in its params as "1" (on) or absent."""

    key: str
    label: str
    help: str


@dataclass(frozen=True)
class PlannedRequest:
    method: str
    path: str
    body: dict[str, Any]


@dataclass(frozen=True)
class RunContext:
    """What the runner knows when an action plans, verifies or checks."""

    contact: Mapping[str, Any]  # the /contact/sync payload: email, names, phone, fieldValues
    contact_id: str


@dataclass(frozen=True)
class Presence:
    """What a check found. ``found`` holds the ids of the rows that put the contact where the
    action would; ``blocked`` says why sending would be wrong although it is not there (the
    contact unsubscribed); ``contact_id`` is set by the contact lookup."""

    found: frozenset[str]
    sentence: str
    blocked: str = ""
    contact_id: str = ""

    @property
    def present(self) -> bool:
        return bool(self.found)


class Reads:
    """The read-only requests a check may make, each try kept as evidence."""

    def __init__(self, client: AcClient) -> None:
        self.client = client
        self.exchanges: list[Exchange] = []

    def get(self, path: str, params: dict[str, Any] | None = None, *, verify: Verify) -> Any:
        done = self.client.call(
            "GET", path, params=params, verify=verify, on_try=self.exchanges.append
        )
        return done.response_body

    def rows(self, path: str, key: str) -> list[dict[str, Any]]:
        """Every row of a contact's sub-resource (``/contacts/{id}/contactLists``…): pages of
        ``PAGE_SIZE`` until a short one, since these answers carry no ``meta.total``. A contact
        with more rows than one default page must not hide the one the check looks for."""
        found: list[dict[str, Any]] = []
        while True:
            params = {"limit": PAGE_SIZE, "offset": len(found)}
            page = _rows(self.get(path, params, verify=collection(key)), key)
            found += page
            if len(page) < PAGE_SIZE:
                return found


Plan = Callable[[Mapping[str, str], RunContext], PlannedRequest]
Check = Callable[[Reads, Mapping[str, str], RunContext], Presence]
Proof = Callable[[Mapping[str, str], RunContext], Verify]


@dataclass(frozen=True)
class ActionSpec:
    type: ActionType
    label: str
    summary: str
    params: tuple[ParamSpec, ...]
    needs_contact_id: bool
    plan: Plan
    proof: Proof  # the verifier of this action's answer, for these params and contact
    check: Check
    # Check before the first send: the write is not safe to repeat blindly. Writes that are
    # (the contact sync, an upsert by email) are only checked when their outcome is in doubt.
    check_first: bool = True
    options: tuple[OptionSpec, ...] = ()
    # The option that allows sending although the contact is already there / is blocked.
    repeat_option: str = ""
    unblock_option: str = ""

    def params_for(self, target_id: str = "", target_name: str = "", **options: bool) -> dict:
        """The params of an action on ``target_id`` (named ``target_name``) with ``options`` on."""
        params: dict[str, str] = {}
        if self.params and target_id:
            spec = self.params[0]
            params = {spec.id_key: target_id, spec.name_key: target_name}
        known = {o.key for o in self.options}
        for key, on in options.items():
            if key not in known:
                raise ValueError(f"{self.label} has no option {key!r}; it has {sorted(known)}.")
            if on:
                params[key] = "1"
        return params

    def missing_params(self, params: Mapping[str, str]) -> str:
        """A phrase naming the unset parameters ("a list"), or "" when complete."""
        return " and ".join(f"a {p.label.lower()}" for p in self.params if not params.get(p.id_key))

    def target(self, params: Mapping[str, str]) -> tuple[str, str]:
        """(id, name) of what the action acts on, for the log; ("", "") for Add Contact."""
        if not self.params:
            return "", ""
        spec = self.params[0]
        return params.get(spec.id_key, ""), params.get(spec.name_key, "")

    def allows_repeat(self, params: Mapping[str, str]) -> bool:
        return bool(self.repeat_option and params.get(self.repeat_option))

    def allows_unblock(self, params: Mapping[str, str]) -> bool:
        return bool(self.unblock_option and params.get(self.unblock_option))


def _name(params: Mapping[str, str], key: str) -> str:
    return f"“{params.get(f'{key}_name') or params.get(f'{key}_id')}”"


def _object(body: Any, key: str) -> dict[str, Any]:
    inner = body.get(key) if isinstance(body, dict) else None
    return inner if isinstance(inner, dict) else {}


def _rows(body: Any, key: str) -> list[dict[str, Any]]:
    return [row for row in body[key] if isinstance(row, dict)]


# -- Add Contact ------------------------------------------------------------------------------

_CONTACT_FIELDS = ("firstName", "lastName", "phone")


def _sync(params: Mapping[str, str], context: RunContext) -> PlannedRequest:
    return PlannedRequest("POST", "/contact/sync", {"contact": dict(context.contact)})


def _synced(params: Mapping[str, str], context: RunContext) -> Verify:
    email = str(context.contact.get("email", "")).lower()

    def verify(body: Any) -> str:
        contact = _object(body, "contact")
        if not str(contact.get("id") or "").strip():
            return "the contact's id (contact.id)"
        if "email" in contact and str(contact["email"]).lower() != email:
            return f"the contact {email} (it names {contact['email']})"
        return ""

    return verify


def _contact_presence(reads: Reads, params: Mapping[str, str], context: RunContext) -> Presence:
    """Whether a contact with this email holds every value the sync sends: its names and phone,
    and its custom field values (read only when the sync sends some)."""
    email = str(context.contact.get("email", "")).lower()
    body = reads.get("/contacts", {"email": email}, verify=collection("contacts"))
    matches = [c for c in _rows(body, "contacts") if str(c.get("email", "")).lower() == email]
    if not matches:
        return Presence(frozenset(), f"No contact with the email {email} exists yet.")
    contact = matches[0]
    contact_id = str(contact.get("id") or "")
    differs = [
        key
        for key in _CONTACT_FIELDS
        if key in context.contact and str(contact.get(key) or "") != str(context.contact[key])
    ]
    sent = {str(v["field"]): str(v["value"]) for v in context.contact.get("fieldValues") or []}
    if sent and not differs:
        path = f"/contacts/{contact_id}/fieldValues"
        held = {
            str(row.get("field")): str(row.get("value") or "")
            for row in reads.rows(path, "fieldValues")
        }
        differs += [
            f"custom field {field}" for field, value in sent.items() if held.get(field) != value
        ]
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


# -- Add to List ------------------------------------------------------------------------------


def _add_to_list(params: Mapping[str, str], context: RunContext) -> PlannedRequest:
    # status 1 = subscribe (active); 2 would unsubscribe.
    row: dict[str, Any] = {"list": params["list_id"], "contact": context.contact_id, "status": 1}
    if params.get("resubscribe"):
        row["sourceid"] = 4  # the docs: send 4 when subscribing again someone who unsubscribed
    return PlannedRequest("POST", "/contactLists", {"contactList": row})


def _subscribed(params: Mapping[str, str], context: RunContext) -> Verify:
    def verify(body: Any) -> str:
        row = _object(body, "contactList")
        if (
            str(row.get("list")) != params["list_id"]
            or str(row.get("contact")) != context.contact_id
            or str(row.get("status")) != "1"
        ):
            return f"the list subscription (a contactList for list {params['list_id']}, status 1)"
        return ""

    return verify


def _list_presence(reads: Reads, params: Mapping[str, str], context: RunContext) -> Presence:
    path = f"/contacts/{context.contact_id}/contactLists"
    rows = [r for r in reads.rows(path, "contactLists") if str(r.get("list")) == params["list_id"]]
    status = str(rows[0].get("status")) if rows else ""
    name = _name(params, "list")
    if status == "1":
        return Presence(frozenset({str(rows[0].get("id"))}), f"Already subscribed to {name}.")
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
    return Presence(frozenset(), f"Not subscribed to {name}.")


# -- Add to Automation ------------------------------------------------------------------------


def _add_to_automation(params: Mapping[str, str], context: RunContext) -> PlannedRequest:
    body = {
        "contactAutomation": {"contact": context.contact_id, "automation": params["automation_id"]}
    }
    return PlannedRequest("POST", "/contactAutomations", body)


def _enrolled(params: Mapping[str, str], context: RunContext) -> Verify:
    def verify(body: Any) -> str:
        row = _object(body, "contactAutomation")
        automation = str(row.get("automation") or row.get("seriesid") or "")
        if automation != params["automation_id"] or str(row.get("contact")) != context.contact_id:
            return f"the enrollment (a contactAutomation for automation {params['automation_id']})"
        return ""

    return verify


def _automation_presence(reads: Reads, params: Mapping[str, str], context: RunContext) -> Presence:
    path = f"/contacts/{context.contact_id}/contactAutomations"
    runs = [
        row
        for row in reads.rows(path, "contactAutomations")
        if str(row.get("automation") or row.get("seriesid")) == params["automation_id"]
    ]
    name = _name(params, "automation")
    if not runs:
        return Presence(frozenset(), f"Not in {name}.")
    return Presence(
        frozenset(str(row.get("id")) for row in runs),
        f"Already in {name} (entered {len(runs)}×). Turn on “Allow re-entry” for this action to "
        "enroll again.",
    )


# -- Add Tag ----------------------------------------------------------------------------------


def _add_tag(params: Mapping[str, str], context: RunContext) -> PlannedRequest:
    body = {"contactTag": {"contact": context.contact_id, "tag": params["tag_id"]}}
    return PlannedRequest("POST", "/contactTags", body)


def _tagged(params: Mapping[str, str], context: RunContext) -> Verify:
    def verify(body: Any) -> str:
        row = _object(body, "contactTag")
        if str(row.get("tag")) != params["tag_id"] or str(row.get("contact")) != context.contact_id:
            return f"the tag (a contactTag for tag {params['tag_id']})"
        return ""

    return verify


def _tag_presence(reads: Reads, params: Mapping[str, str], context: RunContext) -> Presence:
    path = f"/contacts/{context.contact_id}/contactTags"
    rows = [r for r in reads.rows(path, "contactTags") if str(r.get("tag")) == params["tag_id"]]
    name = _name(params, "tag")
    if rows:
        return Presence(frozenset(str(r.get("id")) for r in rows), f"Already tagged {name}.")
    return Presence(frozenset(), f"Not tagged {name}.")


REGISTRY: dict[ActionType, ActionSpec] = {
    spec.type: spec
    for spec in (
        ActionSpec(
            ActionType.ADD_CONTACT,
            "Add Contact",
            "Creates the contact, or updates it when the email exists (POST /contact/sync), "
            "with the names, phone and custom fields the prompt's form inputs map to.",
            (),
            False,
            plan=_sync,
            proof=_synced,
            check=_contact_presence,
            check_first=False,
        ),
        ActionSpec(
            ActionType.ADD_TO_LIST,
            "Add to List",
            "Subscribes the contact to a list (POST /contactLists, status 1).",
            (ParamSpec("list", "List", CatalogKind.LISTS),),
            True,
            plan=_add_to_list,
            proof=_subscribed,
            check=_list_presence,
            options=(
                OptionSpec(
                    "resubscribe",
                    "Resubscribe",
                    "Subscribe again a contact who unsubscribed from this list.",
                ),
            ),
            unblock_option="resubscribe",
        ),
        ActionSpec(
            ActionType.ADD_TO_AUTOMATION,
            "Add to Automation",
            "Enrolls the contact in an automation (POST /contactAutomations).",
            (ParamSpec("automation", "Automation", CatalogKind.AUTOMATIONS),),
            True,
            plan=_add_to_automation,
            proof=_enrolled,
            check=_automation_presence,
            options=(
                OptionSpec(
                    "allow_reentry",
                    "Allow re-entry",
                    "Enroll a contact who is already (or was) in this automation again.",
                ),
            ),
            repeat_option="allow_reentry",
        ),
        ActionSpec(
            ActionType.ADD_TAG,
            "Add Tag",
            "Tags the contact (POST /contactTags) with a tag chosen from the catalog.",
            (ParamSpec("tag", "Tag", CatalogKind.TAGS),),
            True,
            plan=_add_tag,
            proof=_tagged,
            check=_tag_presence,
        ),
    )
}
