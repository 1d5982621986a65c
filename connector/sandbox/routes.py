"""The endpoints: one small handler per (method, path), and the table that maps requests to them.

A handler gets a ``Call`` (parsed request + the store + a link builder) and returns a ``Reply`` or
raises ``ApiError``. It runs inside the sandbox lock and one database transaction, so it can read
then write without races. Paths in the table are relative to ``/api/3``.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import httpx

from . import shapes
from .clock import utc_now
from .errors import (
    DUPLICATE_EMAIL,
    INVALID_EMAIL,
    ApiError,
    invalid_attribute,
    missing_attribute,
    no_result,
)
from .seed import DEMO_USER, contact_hash
from .shapes import JSON
from .store import MAX_ID, TEXT_OPERATORS, Store, TextFilter

DEFAULT_LIMIT = 20
# The docs give 100 as the maximum; whether the live API clamps or rejects more is UNVERIFIED.
# We clamp, as the official MCP server's client does, so a careless client still gets data.
MAX_LIMIT = 100
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
DIGITS = re.compile(r"[0-9]+")  # str.isdigit() also accepts "²", which int() rejects


class Reply(NamedTuple):
    status: int
    body: JSON


@dataclass(frozen=True)
class Call:
    """One request as a handler sees it."""

    store: Store
    links: shapes.Links
    query: httpx.QueryParams
    content: bytes
    ids: dict[str, int]

    def json(self) -> dict[str, Any]:
        """The body as a JSON object; empty counts as ``{}``. Malformed -> the docs' 400 ``{}``."""
        if not self.content.strip():
            return {}
        try:
            body = json.loads(self.content)
        except ValueError:
            raise ApiError(400, {}) from None
        if not isinstance(body, dict):
            raise ApiError(400, {})
        return body

    @property
    def id(self) -> int:
        return self.ids["id"]


Handler = Callable[[Call], Reply]


# -- request parsing helpers -----------------------------------------------------------------


def paging(query: httpx.QueryParams) -> tuple[int, int]:
    """``limit`` (default 20, clamped to 1..100) and zero-based ``offset``; junk -> defaults."""
    limit = _whole(query.get("limit"))
    offset = _whole(query.get("offset"))
    limit = DEFAULT_LIMIT if limit is None or limit < 1 else min(limit, MAX_LIMIT)
    return limit, max(offset or 0, 0)


def _whole(raw: str | None) -> int | None:
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def text_filter(query: httpx.QueryParams, name: str, bare: str = "contains") -> TextFilter | None:
    """``filters[name]=v`` (operator ``bare``) or ``filters[name][op]=v``. Unknown operators are
    ignored, as the live API silently ignores parameters it does not know (api.md §7.11)."""
    for op in TEXT_OPERATORS:
        value = query.get(f"filters[{name}][{op}]")
        if value is not None:
            return op, value
    value = query.get(f"filters[{name}]")
    return None if value is None else (bare, value)


def reference(value: object) -> int | None:
    """A foreign key from a body: ints and digit strings are accepted, as the docs send both.
    Anything else, or beyond SQLite's integer range, references nothing."""
    if isinstance(value, str) and DIGITS.fullmatch(value.strip()):
        value = int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_ID:
        return value
    return None


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _wrapped(call: Call, key: str) -> dict[str, Any]:
    """The body's singular resource object (``{"contactList": {...}}``); absent counts as empty."""
    inner = call.json().get(key)
    return inner if isinstance(inner, dict) else {}


def _contact_or_404(store: Store, raw: object) -> sqlite3.Row:
    ident = reference(raw)
    row = store.contact_by_id(ident) if ident is not None else None
    if row is None:
        raise no_result("Subscriber", raw)
    return row


# -- account and catalog ---------------------------------------------------------------------


def users_me(call: Call) -> Reply:
    return Reply(200, {"user": shapes.user(call.links, DEMO_USER)})


def list_lists(call: Call) -> Reply:
    limit, offset = paging(call.query)
    rows, total = call.store.lists_page(text_filter(call.query, "name"), limit, offset)
    lists = [shapes.mailing_list(call.links, row) for row in rows]
    return Reply(200, {"lists": lists, "meta": {"total": str(total)}})


def get_list(call: Call) -> Reply:
    row = call.store.list_by_id(call.id)
    if row is None:
        raise no_result("_List", call.id)
    return Reply(200, {"list": shapes.mailing_list(call.links, row)})


def list_automations(call: Call) -> Reply:
    limit, offset = paging(call.query)
    name = text_filter(call.query, "name")
    status = _whole(call.query.get("filters[status]"))
    rows, total = call.store.automations_page(name, status, limit, offset)
    meta = {
        "total": str(total),
        "starts": [shapes.automation_start(row) for row in rows],
        "filtered": name is not None or status is not None,
        "smsLogs": [],
    }
    automations = [shapes.automation(call.links, row) for row in rows]
    return Reply(200, {"automations": automations, "meta": meta})


def list_fields(call: Call) -> Reply:
    limit, offset = paging(call.query)
    rows, total = call.store.fields_page(call.query.get("filters[perstag]"), limit, offset)
    field_ids = [int(row["id"]) for row in rows]
    options = call.store.field_options(field_ids)
    rels = call.store.field_rels(field_ids)

    def ids_of(children: list[sqlite3.Row], field_id: int) -> list[str]:
        return [str(child["id"]) for child in children if child["field_id"] == field_id]

    fields = [
        shapes.custom_field(call.links, row, ids_of(options, row["id"]), ids_of(rels, row["id"]))
        for row in rows
    ]
    return Reply(
        200,
        {
            "fieldOptions": [shapes.field_option(row) for row in options],
            "fieldRels": [shapes.field_rel(row) for row in rels],
            "fields": fields,
            "meta": {"total": str(total)},
        },
    )


def list_tags(call: Call) -> Reply:
    limit, offset = paging(call.query)
    search = text_filter(call.query, "search")
    if search is None and call.query.get("search"):
        search = ("contains", call.query["search"])
    rows, total = call.store.tags_page(search, limit, offset)
    tags = [shapes.tag(call.links, row) for row in rows]
    return Reply(200, {"tags": tags, "meta": {"total": str(total)}})


def get_tag(call: Call) -> Reply:
    row = call.store.tag_by_id(call.id)
    if row is None:
        raise no_result("Tag", call.id)
    count = call.store.tag_subscriber_count(call.id)
    return Reply(200, {"tag": shapes.tag(call.links, row, subscriber_count=count)})


# -- contacts --------------------------------------------------------------------------------

# Body key -> column, for the contact attributes /contact/sync writes.
CONTACT_ATTRIBUTES = {"firstName": "first_name", "lastName": "last_name", "phone": "phone"}


def sync_contact(call: Call) -> Reply:
    """Create-or-update by email (matched case-insensitively, which is UNVERIFIED but what every
    client expects). 201 on create as documented; the live status on *update* is UNVERIFIED (the
    rudder-transformer mocks use 201 too), so updates also answer 201."""
    contact = _wrapped(call, "contact")
    email = _email(contact.get("email"))
    values = _field_values(call.store, contact.get("fieldValues"))
    names = _names(contact)

    now = utc_now()
    existing = call.store.contact_by_email(email)
    if existing is None:
        contact_id = call.store.insert_contact(email, names, contact_hash(email), now)
    else:
        contact_id = int(existing["id"])
        call.store.update_contact(contact_id, names, now)
    for field_id, value in values:
        call.store.upsert_field_value(contact_id, field_id, value, now)

    row = call.store.contact_by_id(contact_id)
    assert row is not None
    field_values = call.store.field_values_for(contact_id)
    return Reply(
        201,
        {
            "fieldValues": [shapes.field_value(call.links, fv) for fv in field_values],
            "contact": shapes.contact_synced(
                call.links, row, [str(fv["id"]) for fv in field_values]
            ),
        },
    )


def update_contact(call: Call) -> Reply:
    """PUT /contacts/{id} (op ``update-a-contact-new``): changes only the attributes the body
    sends, 200 with the documented body (``fieldValues`` sideload + the contact). Emails and
    ``fieldValues`` are validated as /contact/sync validates them (same 422s).

    ASSUMED (no example shows them): the sideload lists all the contact's field values, as the
    sync reply does here (the doc example shows exactly the two it sent, which fits both
    readings); an email that only changes case is a change of spelling, not a duplicate; ``hash``
    stays as it was when the email changes; ``udate`` moves on every accepted PUT, even one that
    sends nothing."""
    current = _contact_or_404(call.store, call.id)
    contact = _wrapped(call, "contact")
    # ASSUMED: a blank or null email is refused as sync refuses it (field_missing); the sandbox
    # does not model email-less contacts (the account-level allowNullEmail option).
    email = _email(contact["email"]) if "email" in contact else None
    if email is not None:
        holder = call.store.contact_by_email(email)
        if holder is not None and holder["id"] != current["id"]:
            raise ApiError(422, DUPLICATE_EMAIL)
    values = _field_values(call.store, contact.get("fieldValues"))

    now = utc_now()
    call.store.update_contact(call.id, _names(contact), now, email=email)
    for field_id, value in values:
        call.store.upsert_field_value(call.id, field_id, value, now)

    row = call.store.contact_by_id(call.id)
    assert row is not None
    field_values = call.store.field_values_for(call.id)
    return Reply(
        200,
        {
            "fieldValues": [shapes.field_value(call.links, fv) for fv in field_values],
            "contact": shapes.contact_sideload(call.links, row),
        },
    )


def _email(raw: object) -> str:
    """An email from a contact body, stripped: blank -> 422 ``field_missing``, not an address ->
    the 422 ``email_invalid`` body (see ``errors.INVALID_EMAIL``)."""
    if _blank(raw):
        raise missing_attribute("email")
    if not isinstance(raw, str) or not EMAIL.fullmatch(raw.strip()):
        raise ApiError(422, INVALID_EMAIL)
    return raw.strip()


def _names(contact: dict[str, Any]) -> dict[str, str]:
    """The name/phone attributes the body sends (column -> value); null counts as ``""``."""
    return {
        column: "" if contact[key] is None else str(contact[key])
        for key, column in CONTACT_ATTRIBUTES.items()
        if key in contact
    }


def _field_values(store: Store, raw: object) -> list[tuple[int, str | None]]:
    """Validate ``fieldValues: [{"field": "1", "value": "x"}]``. The 422 for an unknown field id is
    ASSUMED (a third-party note says the live API's custom-field 422 is generic)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise invalid_attribute("fieldValues", "Invalid attribute", "fieldValues must be a list")
    values: list[tuple[int, str | None]] = []
    for item in raw:
        if not isinstance(item, dict) or (field_id := reference(item.get("field"))) is None:
            raise invalid_attribute("fieldValues", "Field not found", f"Invalid field: {item!r}")
        value = item.get("value")
        if isinstance(value, list | dict):
            raise invalid_attribute("fieldValues", "Invalid value", f"Field {field_id}: {value!r}")
        values.append((field_id, None if value is None else str(value)))
    unknown = sorted(
        {field_id for field_id, _ in values}
        - store.existing_field_ids(field_id for field_id, _ in values)
    )
    if unknown:
        detail = f"No custom field with id {unknown[0]}"
        raise invalid_attribute("fieldValues", "Field not found", detail)
    return values


def list_contacts(call: Call) -> Reply:
    """``email`` matches exactly (case-insensitively); ``search`` matches names, email, phone.
    Note a literal ``+`` in the query decodes to a space, as on the live API (api.md §7.13)."""
    limit, offset = paging(call.query)
    search = call.query.get("search")
    rows, total = call.store.contacts_page(call.query.get("email"), search, limit, offset)
    page_input = {
        "segmentid": 0,
        "formid": 0,
        "listid": 0,
        "tagid": 0,
        "limit": limit,
        "offset": offset,
        "search": search,
        "sort": None,
        "seriesid": 0,
        "waitid": 0,
        "status": -1,
        "forceQuery": 0,
        "cacheid": hashlib.md5(str(call.query).encode()).hexdigest(),
    }
    return Reply(
        200,
        {
            "scoreValues": [],
            "contacts": [shapes.contact_listed(call.links, row) for row in rows],
            "meta": {"total": str(total), "page_input": page_input},
        },
    )


def get_contact(call: Call) -> Reply:
    contact = _contact_or_404(call.store, call.id)
    runs = call.store.contact_automations_for(call.id)
    memberships = call.store.contact_lists_for(call.id)
    field_values = call.store.field_values_for(call.id)
    related = {
        "contactAutomations": [str(row["id"]) for row in runs],
        "contactLists": [str(row["id"]) for row in memberships],
        "fieldValues": [str(row["id"]) for row in field_values],
    }
    return Reply(
        200,
        {
            "contactAutomations": [shapes.contact_automation_read(call.links, r) for r in runs],
            "contactLists": [
                shapes.contact_list_read(call.links, row, contact) for row in memberships
            ],
            "deals": [],
            "fieldValues": [shapes.field_value(call.links, row) for row in field_values],
            "geoAddresses": [],
            "geoIps": [],
            "contact": shapes.contact_detail(call.links, contact, related),
        },
    )


def _paged(call: Call, rows: list[sqlite3.Row]) -> list[sqlite3.Row]:
    """A contact's sub-resource, one page of it. ASSUMED: the documented collection paging
    (``limit`` default 20, at most 100; ``offset``) applies here too; the examples show no
    ``meta``, so none is sent and clients page until a short page."""
    limit, offset = paging(call.query)
    return rows[offset : offset + limit]


def contact_field_values(call: Call) -> Reply:
    _contact_or_404(call.store, call.id)
    rows = _paged(call, call.store.field_values_for(call.id))
    return Reply(200, {"fieldValues": [shapes.field_value(call.links, row) for row in rows]})


# -- list memberships ------------------------------------------------------------------------

LIST_STATUSES = {0, 1, 2}  # unconfirmed, subscribed, unsubscribed (3 = bounced is not settable)


def subscribe(call: Call) -> Reply:
    """POST /contactLists: an upsert of the (contact, list) row, 200 as documented. Repeating it
    returns the same row (UNVERIFIED: no source shows a duplicate error)."""
    payload = _wrapped(call, "contactList")
    missing = [name for name in ("list", "contact", "status") if _blank(payload.get(name))]
    if missing:
        raise missing_attribute(*missing)
    contact = _contact_or_404(call.store, payload["contact"])
    list_id = reference(payload["list"])
    if list_id is None or call.store.list_by_id(list_id) is None:
        raise no_result("_List", payload["list"])
    status = reference(payload["status"])
    if status not in LIST_STATUSES:
        raise invalid_attribute("status", "Invalid status", "Use 1 to subscribe, 2 to unsubscribe")
    sourceid = reference(payload.get("sourceid")) or 0
    row = call.store.upsert_contact_list(int(contact["id"]), list_id, status, sourceid, utc_now())
    return Reply(
        200,
        {
            "contacts": [shapes.contact_sideload(call.links, contact)],
            "contactList": shapes.contact_list_written(call.links, row, contact),
        },
    )


def contact_lists_of(call: Call) -> Reply:
    contact = _contact_or_404(call.store, call.id)
    rows = _paged(call, call.store.contact_lists_for(call.id))
    return Reply(
        200, {"contactLists": [shapes.contact_list_read(call.links, r, contact) for r in rows]}
    )


# -- automations -----------------------------------------------------------------------------


def enroll(call: Call) -> Reply:
    """POST /contactAutomations, 201. Re-entering is UNVERIFIED live; here it follows the
    automation's ``multientry`` flag: on -> another run, off -> the documented 403."""
    payload = _wrapped(call, "contactAutomation")
    missing = [name for name in ("contact", "automation") if _blank(payload.get(name))]
    if missing:
        raise missing_attribute(*missing)
    contact = _contact_or_404(call.store, payload["contact"])
    automation_ref = reference(payload["automation"])
    automation = call.store.automation_by_id(automation_ref) if automation_ref is not None else None
    if automation is None:
        # ASSUMED entity name: automations are "series" internally (seriesid, SubscriberSeries).
        raise no_result("Series", payload["automation"])
    contact_id, automation_id = int(contact["id"]), int(automation["id"])
    if not automation["multientry"] and call.store.has_entered(contact_id, automation_id):
        raise ApiError(403, {"message": "Could not create SubscriberSeries"})
    row = call.store.insert_contact_automation(
        contact_id, automation_id, int(automation["blocks"]), utc_now()
    )
    call.store.count_entered(automation_id)
    return Reply(
        201,
        {
            "contacts": [shapes.contact_sideload(call.links, contact)],
            "contactAutomation": shapes.contact_automation_written(call.links, row),
        },
    )


def unenroll(call: Call) -> Reply:
    """DELETE /contactAutomations/{id}: the run goes away, 200 ``{}`` as documented. An unknown id
    answers the documented example, which is a 403 (not a 404) naming SubscriberSeries.

    ASSUMED (the docs say nothing): the automation's ``entered``/``exited`` counters stay as they
    were, and with the run gone a single-entry automation lets the contact enter again."""
    if not call.store.delete_contact_automation(call.id):
        raise ApiError(403, {"message": f"No Result found for SubscriberSeries with id {call.id}"})
    return Reply(200, {})


def contact_automations_of(call: Call) -> Reply:
    """The contact's runs, a page at a time (the API's own link asks for limit=1000, which
    is clamped to 100 here like every limit)."""
    _contact_or_404(call.store, call.id)
    rows = _paged(call, call.store.contact_automations_for(call.id))
    runs = [shapes.contact_automation_read(call.links, row) for row in rows]
    return Reply(200, {"contactAutomations": runs})


# -- tags ------------------------------------------------------------------------------------


def _tag_error(status: int, title: str, **extra: object) -> ApiError:
    return ApiError(status, {"errors": [{"status": status, "title": title, **extra}]})


def tag_contact(call: Call) -> Reply:
    """POST /contactTags, 201. Re-adding an applied tag returns the existing contactTag with 201
    (ASSUMED; UNVERIFIED live). Errors use this endpoint's documented JSON:API-like shape."""
    payload = _wrapped(call, "contactTag")
    missing = [name for name in ("contact", "tag") if _blank(payload.get(name))]
    if missing:
        raise ApiError(
            422,
            {
                "errors": [
                    {
                        "status": 422,
                        "title": "Missing attribute",
                        "source": {"pointer": f"/data/attributes/{name}"},
                    }
                    for name in missing
                ]
            },
        )
    contact_id = reference(payload["contact"])
    if contact_id is None or call.store.contact_by_id(contact_id) is None:
        raise _tag_error(404, "Not Found", detail="Contact not found")
    tag_id = reference(payload["tag"])
    if tag_id is None or call.store.tag_by_id(tag_id) is None:
        raise _tag_error(404, "Not Found", detail="Tag not found")  # ASSUMED wording
    row = call.store.add_contact_tag(contact_id, tag_id, utc_now())
    return Reply(201, {"contactTag": shapes.contact_tag_written(call.links, row)})


def untag_contact(call: Call) -> Reply:
    """DELETE /contactTags/{id}: the tag comes off the contact (the row goes, so the tag's
    ``subscriber_count`` drops), 200 ``{}``; an unknown id -> the documented 404 naming
    SubscriberTag. ASSUMED: the contact's ``udate`` does not move."""
    if not call.store.delete_contact_tag(call.id):
        raise no_result("SubscriberTag", call.id)
    return Reply(200, {})


def contact_tags_of(call: Call) -> Reply:
    _contact_or_404(call.store, call.id)
    rows = _paged(call, call.store.contact_tags_for(call.id))
    return Reply(200, {"contactTags": [shapes.contact_tag_read(call.links, row) for row in rows]})


# -- the table -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


def route(method: str, template: str, handler: Handler) -> Route:
    """``/contacts/{id}/contactLists`` -> a regex whose ``{id}`` group takes digits only."""
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[0-9]+)", re.escape(template))
    return Route(method, re.compile(f"{regex}/?"), handler)


ROUTES: tuple[Route, ...] = (
    route("GET", "/users/me", users_me),
    route("GET", "/lists", list_lists),
    route("GET", "/lists/{id}", get_list),
    route("GET", "/automations", list_automations),
    route("GET", "/fields", list_fields),
    route("GET", "/tags", list_tags),
    route("GET", "/tags/{id}", get_tag),
    route("POST", "/contact/sync", sync_contact),
    route("GET", "/contacts", list_contacts),
    route("GET", "/contacts/{id}", get_contact),
    route("PUT", "/contacts/{id}", update_contact),
    route("GET", "/contacts/{id}/fieldValues", contact_field_values),
    route("GET", "/contacts/{id}/contactLists", contact_lists_of),
    route("GET", "/contacts/{id}/contactAutomations", contact_automations_of),
    route("GET", "/contacts/{id}/contactTags", contact_tags_of),
    route("POST", "/contactLists", subscribe),
    route("POST", "/contactAutomations", enroll),
    route("DELETE", "/contactAutomations/{id}", unenroll),
    route("POST", "/contactTags", tag_contact),
    route("DELETE", "/contactTags/{id}", untag_contact),
)


def resolve(method: str, path: str) -> tuple[Handler, dict[str, int]] | None:
    """The handler for ``path`` (relative to /api/3) and its numeric path parameters."""
    for candidate in ROUTES:
        if candidate.method == method and (match := candidate.pattern.fullmatch(path)):
            return candidate.handler, {key: int(value) for key, value in match.groupdict().items()}
    return None
