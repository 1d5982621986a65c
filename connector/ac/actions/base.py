"""What every action is made of: its parameters, its request, its proof, its check.

An action never sends anything itself:

* ``plan`` builds the request, so a dry run shows exactly what a real run would send;
* ``proof`` says what a 2xx answer must show for the action to count as done (the
  ``contactList`` of this list and contact…), so an empty or partial answer is never a success;
  an answer that can't show it (a DELETE answers ``{}``) is confirmed by a check instead;
* ``check`` reads where the contact is now and returns a ``Presence``: whether the action's
  work is already done there (``found``: the ids of the rows that show it), why sending would be
  wrong (``blocked``), and the rows it would act on (``targets``, e.g. the ``contactTag`` to
  delete). The runner checks before sending (to skip what is done), after a lost answer (new
  ``found`` ids are its own write landing: never a sibling's, which claims rule out), after an
  answer that can't prove itself, and in a dry run (to predict).

``contact`` says how the action gets its contact: ``"sync"`` actions need one and the runner
syncs it first (creating it if need be); ``"lookup"`` actions act on an existing contact only and
find it by email themselves (no contact: nothing to do); Add Contact is the sync.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from connector.ac.client import MAX_ITEMS, PAGE_SIZE, AcClient, Verify, collection
from connector.core.errors import UnexpectedResponse
from connector.core.models import ActionType, CatalogKind, api_id
from connector.core.records import Exchange, Reason

__all__ = [
    "CONTACT_ID_PLACEHOLDER",
    "ActionSpec",
    "OptionSpec",
    "ParamSpec",
    "PlannedRequest",
    "Presence",
    "Reads",
    "RunContext",
    "name_of",
    "object_in",
    "rows_in",
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
    body: dict[str, Any] | None


@dataclass(frozen=True)
class RunContext:
    """What the runner knows when an action plans, verifies or checks."""

    contact: Mapping[str, Any]  # the /contact/sync payload: email, names, phone, fieldValues
    contact_id: str
    # The mapped fields alone, without the trait defaults (what Update Contact Fields sends).
    mapped: Mapping[str, Any] = field(default_factory=dict)
    # The rows the check before sending found to act on (the contactTag to delete…).
    targets: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Presence:
    """What a check found: ``found`` holds ids of rows that show the action's work is done
    (empty: not done); ``blocked`` why sending would be wrong although it is not done (the
    contact unsubscribed); ``targets`` the rows the action would act on; ``contact_id`` the
    contact the check looked at."""

    found: frozenset[str]
    sentence: str
    blocked: str = ""
    targets: frozenset[str] = frozenset()
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
        with more rows than one default page must not hide the one the check looks for.

        A full page of rows already seen means the server ignores ``offset``; then the rows past
        the first page can't be read, so nothing is concluded from them (``UnexpectedResponse``),
        and neither from more than ``MAX_ITEMS`` rows."""
        found: list[dict[str, Any]] = []
        seen: set[str] = set()
        while True:
            params = {"limit": PAGE_SIZE, "offset": len(found)}
            page = rows_in(self.get(path, params, verify=collection(key)), key)
            ids = {str(row.get("id")) for row in page}
            if len(page) >= PAGE_SIZE and ids <= seen:
                raise UnexpectedResponse(
                    f"ActiveCampaign answered the same {key} again for offset {len(found)}: it "
                    "ignores the offset, so the rows past the first page can't be read and the "
                    "check can't tell where the contact is. Nothing was concluded from it.",
                    f"GET {path}",
                )
            seen |= ids
            found += page
            if len(page) < PAGE_SIZE:
                return found
            if len(found) >= MAX_ITEMS:
                raise UnexpectedResponse(
                    f"ActiveCampaign kept listing {key} past {MAX_ITEMS:,} rows for one contact, "
                    "more than the check reads. Nothing was concluded from it.",
                    f"GET {path}",
                )

    def contact(self, context: RunContext) -> tuple[str, dict[str, Any] | None]:
        """The contact the run is about: by id when the run synced it, else found by email.
        Returns (id, the contact as listed, or None when looked up by id)."""
        if context.contact_id:
            return context.contact_id, None
        email = str(context.contact.get("email", "")).lower()
        body = self.get("/contacts", {"email": email}, verify=collection("contacts"))
        matches = [c for c in rows_in(body, "contacts") if str(c.get("email", "")).lower() == email]
        if not matches:
            return "", None
        return api_id(matches[0].get("id")) or "", matches[0]


Plan = Callable[[Mapping[str, str], RunContext], PlannedRequest]
Check = Callable[[Reads, Mapping[str, str], RunContext], Presence]
Proof = Callable[[Mapping[str, str], RunContext], Verify]


@dataclass(frozen=True)
class ActionSpec:
    type: ActionType
    label: str
    summary: str
    params: tuple[ParamSpec, ...]
    plan: Plan
    proof: Proof  # the verifier of this action's answer, for these params and contact
    check: Check
    contact: Literal["sync", "lookup", "none"] = "sync"
    # Check before the first send: the write is not safe to repeat blindly. Writes that are
    # (the contact sync, an upsert by email) are only checked when their outcome is in doubt.
    check_first: bool = True
    # The answer can't show the change (a DELETE answers {}): a check after it must.
    confirm: bool = False
    # Why an action whose work is already done is skipped: already done, or nothing to do.
    done: Reason = Reason.ALREADY_DONE
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
        """(id, name) of what the action acts on, for the log; ("", "") for contact actions."""
        if not self.params:
            return "", ""
        spec = self.params[0]
        return params.get(spec.id_key, ""), params.get(spec.name_key, "")

    def allows_repeat(self, params: Mapping[str, str]) -> bool:
        return bool(self.repeat_option and params.get(self.repeat_option))

    def allows_unblock(self, params: Mapping[str, str]) -> bool:
        return bool(self.unblock_option and params.get(self.unblock_option))


def name_of(params: Mapping[str, str], key: str) -> str:
    return f"“{params.get(f'{key}_name') or params.get(f'{key}_id')}”"


def object_in(body: Any, key: str) -> dict[str, Any]:
    inner = body.get(key) if isinstance(body, dict) else None
    return inner if isinstance(inner, dict) else {}


def rows_in(body: Any, key: str) -> list[dict[str, Any]]:
    """The objects listed under ``key`` ([] when there is no such list)."""
    rows = body.get(key) if isinstance(body, dict) else None
    return [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []


def any_answer(params: Mapping[str, str], context: RunContext) -> Verify:
    """For answers that can't show the change (``{}``): the check after them will."""
    return lambda body: ""
