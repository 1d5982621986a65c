"""The action registry: per action type, its parameters and the one request it sends.

Adding an action is one new ``ActionSpec`` in ``REGISTRY`` (and its entry in the README, which a
test enforces). An action never sends anything itself: it *plans* a request, and the runner sends
it, so a dry run shows exactly what a real run would send.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .models import ActionType, CatalogKind

__all__ = [
    "CONTACT_ID_PLACEHOLDER",
    "REGISTRY",
    "ActionSpec",
    "ParamSpec",
    "PlannedRequest",
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
class ActionSpec:
    type: ActionType
    label: str
    summary: str
    params: tuple[ParamSpec, ...]
    needs_contact_id: bool
    _plan: Callable[[Mapping[str, str], RunContext], PlannedRequest]

    def plan(self, params: Mapping[str, str], context: RunContext) -> PlannedRequest:
        return self._plan(params, context)

    def missing_params(self, params: Mapping[str, str]) -> str:
        """A phrase naming the unset parameters ("a list"), or "" when complete."""
        return " and ".join(f"a {p.label.lower()}" for p in self.params if not params.get(p.id_key))

    def target(self, params: Mapping[str, str]) -> tuple[str, str]:
        """(id, name) of what the action acts on, for the log; ("", "") for Add Contact."""
        if not self.params:
            return "", ""
        spec = self.params[0]
        return params.get(spec.id_key, ""), params.get(spec.name_key, "")

    def describe(self, params: Mapping[str, str]) -> str:
        target_id, target_name = self.target(params)
        if not target_id:
            return self.label
        return f"{self.label}: {target_name or 'id'} (#{target_id})"


def _sync(params: Mapping[str, str], context: RunContext) -> PlannedRequest:
    return PlannedRequest("POST", "/contact/sync", {"contact": dict(context.contact)})


def _add_to_list(params: Mapping[str, str], context: RunContext) -> PlannedRequest:
    # status 1 = subscribe (active); 2 would unsubscribe.
    body = {"contactList": {"list": params["list_id"], "contact": context.contact_id, "status": 1}}
    return PlannedRequest("POST", "/contactLists", body)


def _add_to_automation(params: Mapping[str, str], context: RunContext) -> PlannedRequest:
    body = {
        "contactAutomation": {"contact": context.contact_id, "automation": params["automation_id"]}
    }
    return PlannedRequest("POST", "/contactAutomations", body)


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
        ),
        ActionSpec(
            ActionType.ADD_TO_AUTOMATION,
            "Add to Automation",
            "Enrolls the contact in an automation (POST /contactAutomations).",
            (ParamSpec("automation", "Automation", CatalogKind.AUTOMATIONS),),
            True,
            _add_to_automation,
        ),
    )
}
