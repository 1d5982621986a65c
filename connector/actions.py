"""The action registry: per action type, its parameters, its request, and its duplicate check.

Adding an action is one new ``ActionSpec`` in ``REGISTRY`` (and its entry in the README, which a
test enforces). An action never sends anything itself: it *plans* a request and the runner sends
it, so a dry run shows exactly what a real run would send.

Writes that are not safe to repeat carry a ``check``: a read that says whether the contact is
already where the action would put it. The runner calls it before the first attempt (to skip a
duplicate) and before every retry (to notice that an attempt whose answer was lost did land).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .client import AcClient
from .models import ActionType, CatalogKind

__all__ = [
    "CONTACT_ID_PLACEHOLDER",
    "REGISTRY",
    "ActionSpec",
    "OptionSpec",
    "ParamSpec",
    "PlannedRequest",
    "Presence",
    "RunContext",
]

# Stands in for the contact id in a dry run, where no sync happened to hand one out.
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
    """What the runner knows when an action plans its request."""

    contact: Mapping[str, Any]  # the /contact/sync payload: email, names, phone, fieldValues
    contact_id: str


@dataclass(frozen=True)
class Presence:
    """What a check found: how often the contact is already at the target, and whether sending
    is blocked (e.g. the contact unsubscribed), each with the sentence to log."""

    count: int = 0
    already: str = ""
    blocked: str = ""


Check = Callable[[AcClient, Mapping[str, str], str], Presence]


@dataclass(frozen=True)
class ActionSpec:
    type: ActionType
    label: str
    summary: str
    params: tuple[ParamSpec, ...]
    needs_contact_id: bool
    _plan: Callable[[Mapping[str, str], RunContext], PlannedRequest]
    check: Check | None = None
    options: tuple[OptionSpec, ...] = ()
    # The option that allows sending although the contact is already there / is blocked.
    repeat_option: str = ""
    unblock_option: str = ""

    def plan(self, params: Mapping[str, str], context: RunContext) -> PlannedRequest:
        return self._plan(params, context)

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


# -- Add Contact ------------------------------------------------------------------------------


def _sync(params: Mapping[str, str], context: RunContext) -> PlannedRequest:
    return PlannedRequest("POST", "/contact/sync", {"contact": dict(context.contact)})


# -- Add to List ------------------------------------------------------------------------------


def _add_to_list(params: Mapping[str, str], context: RunContext) -> PlannedRequest:
    # status 1 = subscribe (active); 2 would unsubscribe.
    body = {"contactList": {"list": params["list_id"], "contact": context.contact_id, "status": 1}}
    return PlannedRequest("POST", "/contactLists", body)


def _list_presence(client: AcClient, params: Mapping[str, str], contact_id: str) -> Presence:
    rows = [r for r in client.contact_lists(contact_id) if str(r.get("list")) == params["list_id"]]
    status = str(rows[0].get("status")) if rows else ""
    if status == "1":
        return Presence(1, already=f"Already subscribed to {_name(params, 'list')}.")
    if status == "2":
        return Presence(
            0,
            blocked=f"The contact unsubscribed from {_name(params, 'list')}; subscribing again "
            "would override their choice. Turn on “Resubscribe” for this action to do it anyway.",
        )
    if status == "3":
        return Presence(0, blocked=f"The contact's email bounced on {_name(params, 'list')}.")
    return Presence(0)


# -- Add to Automation ------------------------------------------------------------------------


def _add_to_automation(params: Mapping[str, str], context: RunContext) -> PlannedRequest:
    body = {
        "contactAutomation": {"contact": context.contact_id, "automation": params["automation_id"]}
    }
    return PlannedRequest("POST", "/contactAutomations", body)


def _automation_presence(client: AcClient, params: Mapping[str, str], contact_id: str) -> Presence:
    runs = [
        r
        for r in client.contact_automations(contact_id)
        if str(r.get("automation") or r.get("seriesid")) == params["automation_id"]
    ]
    if not runs:
        return Presence(0)
    return Presence(
        len(runs),
        already=f"Already in {_name(params, 'automation')} (entered {len(runs)}×). Turn on "
        "“Allow re-entry” for this action to enroll again.",
    )


# -- Add Tag ----------------------------------------------------------------------------------


def _add_tag(params: Mapping[str, str], context: RunContext) -> PlannedRequest:
    body = {"contactTag": {"contact": context.contact_id, "tag": params["tag_id"]}}
    return PlannedRequest("POST", "/contactTags", body)


def _tag_presence(client: AcClient, params: Mapping[str, str], contact_id: str) -> Presence:
    tagged = any(str(r.get("tag")) == params["tag_id"] for r in client.contact_tags(contact_id))
    return Presence(1, already=f"Already tagged {_name(params, 'tag')}.") if tagged else Presence()


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
            _sync,
        ),
        ActionSpec(
            ActionType.ADD_TO_LIST,
            "Add to List",
            "Subscribes the contact to a list (POST /contactLists, status 1).",
            (ParamSpec("list", "List", CatalogKind.LISTS),),
            True,
            _add_to_list,
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
            _add_to_automation,
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
            _add_tag,
            check=_tag_presence,
        ),
    )
}
