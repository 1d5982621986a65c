"""JSON serialisers: database rows -> the exact object shapes of the documented examples.

Rule (api.md §2): ids, foreign keys, flags, counters and totals are JSON *strings*; ints appear
only where the docs show ints (``contactList.status`` in the POST /contactLists reply; ``startid``,
``status``, ``completed``, ``completeValue`` in the POST /contactAutomations reply; ``completed``
and ``completeValue`` everywhere). Key order follows the fixtures, so a diff against them reads
easily. Fields the sandbox does not model (bounces, geo data, deals...) carry the neutral values a
fresh contact shows in the newer doc examples (``"0"``, ``""`` or ``null``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from .clock import local_iso

JSON = dict[str, Any]

# Link names of a contact as every read example shows them (16); /contact/sync adds two more.
CONTACT_LINKS = (
    "bounceLogs",
    "contactAutomations",
    "contactData",
    "contactGoals",
    "contactLists",
    "contactLogs",
    "contactTags",
    "contactDeals",
    "deals",
    "fieldValues",
    "geoIps",
    "notes",
    "organization",
    "plusAppend",
    "trackingLogs",
    "scoreValues",
)
SYNC_EXTRA_LINKS = ("accountContacts", "automationEntryCounts")
LIST_LINKS = ("contactGoalLists", "user", "addressLists")
AUTOMATION_LINKS = (
    "campaigns",
    "contactGoals",
    "contactAutomations",
    "blocks",
    "goals",
    "sms",
    "sitemessages",
)
CONTACT_LIST_LINKS = (
    "automation",
    "list",
    "contact",
    "form",
    "autosyncLog",
    "campaign",
    "unsubscribeAutomation",
    "message",
)
CONTACT_AUTOMATION_LINKS = ("automation", "contact", "contactGoals")
USER_LINKS = ("lists", "userGroup", "dealGroupTotals", "dealGroupUsers", "configs")
SCREENSHOT_DEFAULT = "http://img-us1.com/default-series.gif"
SCREENSHOT = "https://d226aj4ao1t61q.cloudfront.net/k0x4h0lr_default-automation.png"


class Links:
    """Builds ``links`` URLs under the API root the request came in on (``{origin}/api/3``)."""

    def __init__(self, api_root: str) -> None:
        self.api_root = api_root.rstrip("/")

    def of(self, collection: str, ident: object, names: Iterable[str]) -> dict[str, str]:
        return {name: f"{self.api_root}/{collection}/{ident}/{name}" for name in names}


def s(value: object) -> str:
    """An id, flag or counter as the API writes it."""
    return str(value)


# -- account and catalog ---------------------------------------------------------------------


def user(links: Links, row: Mapping[str, str]) -> JSON:
    return {
        "username": row["username"],
        "firstName": row["firstName"],
        "lastName": row["lastName"],
        "email": row["email"],
        "phone": row["phone"],
        "signature": None,
        "links": links.of("users", row["id"], USER_LINKS),
        "id": row["id"],
    }


def mailing_list(links: Links, row: sqlite3.Row) -> JSON:
    return {
        "stringid": row["stringid"],
        "userid": "1",
        "name": row["name"],
        "cdate": local_iso(row["cdate"]),
        "p_use_tracking": "1",
        "p_use_analytics_read": "0",
        "p_use_analytics_link": "0",
        "p_use_twitter": "0",
        "p_use_facebook": "0",
        "p_embed_image": "1",
        "p_use_captcha": "1",
        "send_last_broadcast": "0",
        "private": "0",
        "analytics_domains": None,
        "analytics_source": "",
        "analytics_ua": "",
        "twitter_token": "",
        "twitter_token_secret": "",
        "facebook_session": None,
        "carboncopy": None,
        "subscription_notify": None,
        "unsubscription_notify": None,
        "require_name": "0",
        "get_unsubscribe_reason": "0",
        "to_name": "Subscriber",
        "optinoptout": "1",
        "sender_name": "",
        "sender_addr1": "",
        "sender_addr2": "",
        "sender_city": "",
        "sender_state": "",
        "sender_zip": "",
        "sender_country": "",
        "sender_phone": "",
        "sender_url": row["sender_url"],
        "sender_reminder": row["sender_reminder"],
        "fulladdress": "",
        "optinmessageid": "0",
        "optoutconf": "0",
        "deletestamp": None,
        "udate": local_iso(row["udate"]),
        "links": links.of("lists", row["id"], LIST_LINKS),
        "id": s(row["id"]),
        "user": "1",
    }


def automation(links: Links, row: sqlite3.Row) -> JSON:
    """GET /automations item: the 2018 list example's keys plus ``multientry`` (from the 2025
    single example). ``status`` stays a string per api.md §2, although the 2025 example shows 2."""
    return {
        "name": row["name"],
        "cdate": local_iso(row["cdate"]),
        "mdate": local_iso(row["mdate"]),
        "userid": "1",
        "status": s(row["status"]),
        "entered": s(row["entered"]),
        "exited": s(row["exited"]),
        "hidden": "0",
        "defaultscreenshot": SCREENSHOT_DEFAULT,
        "screenshot": SCREENSHOT,
        "multientry": s(row["multientry"]),
        "links": links.of("automations", row["id"], AUTOMATION_LINKS),
        "id": s(row["id"]),
    }


def automation_start(row: sqlite3.Row) -> JSON:
    """``meta.starts`` entry: the trigger that starts an automation (a subscribe trigger here)."""
    return {"id": s(row["id"]), "series": s(row["id"]), "type": "subscribe"}


def custom_field(links: Links, row: sqlite3.Row, option_ids: list[str], rel_ids: list[str]) -> JSON:
    return {
        "title": row["title"],
        "descript": row["descript"],
        "type": row["type"],
        "isrequired": s(row["isrequired"]),
        "perstag": row["perstag"],
        "defval": row["defval"],
        "show_in_list": "0",
        "rows": "0",
        "cols": "0",
        "visible": "1",
        "service": "",
        "ordernum": s(row["ordernum"]),
        "cdate": local_iso(row["cdate"]),
        "udate": local_iso(row["udate"]),
        "options": option_ids,
        "relations": rel_ids,
        "links": links.of("fields", row["id"], ("options", "relations")),
        "id": s(row["id"]),
    }


def field_option(row: sqlite3.Row) -> JSON:
    """Sideloaded option (keys per the tap-activecampaign schema; ``links: []`` ASSUMED, as the
    documented sibling sideload ``fieldRels`` has)."""
    return {
        "field": s(row["field_id"]),
        "orderid": s(row["orderid"]),
        "value": row["value"],
        "label": row["label"],
        "isdefault": s(row["isdefault"]),
        "cdate": local_iso(row["cdate"]),
        "udate": local_iso(row["cdate"]),
        "links": [],
        "id": s(row["id"]),
    }


def field_rel(row: sqlite3.Row) -> JSON:
    return {
        "field": s(row["field_id"]),
        "relid": s(row["relid"]),
        "dorder": s(row["dorder"]),
        "cdate": local_iso(row["cdate"]),
        "links": [],
        "id": s(row["id"]),
    }


def tag(links: Links, row: sqlite3.Row, subscriber_count: int | None = None) -> JSON:
    body: JSON = {
        "tagType": row["tag_type"],
        "tag": row["tag"],
        "description": row["description"],
        "cdate": local_iso(row["cdate"]),
    }
    if subscriber_count is not None:  # only GET /tags/{id} shows it
        body["subscriber_count"] = s(subscriber_count)
    body["links"] = links.of("tags", row["id"], ("contactGoalTags",))
    body["id"] = s(row["id"])
    return body


# -- contacts --------------------------------------------------------------------------------


def _contact_core(row: sqlite3.Row) -> JSON:
    """The columns every full contact read shows (order of the POST /contactAutomations example)."""
    return {
        "cdate": local_iso(row["cdate"]),
        "email": row["email"],
        "phone": row["phone"],
        "firstName": row["first_name"],
        "lastName": row["last_name"],
        "orgid": "0",
        "segmentio_id": "",
        "bounced_hard": "0",
        "bounced_soft": "0",
        "bounced_date": None,
        "ip": "0",
        "ua": None,
        "hash": row["hash"],
        "socialdata_lastcheck": None,
        "email_local": "",
        "email_domain": "",
        "sentcnt": "0",
        "rating_tstamp": None,
        "gravatar": "0",
        "deleted": "0",
        "anonymized": "0",
        "adate": None,
        "udate": local_iso(row["udate"]),
        "edate": None,
        "deleted_at": None,
    }


def contact_sideload(links: Links, row: sqlite3.Row) -> JSON:
    """The ``contacts: [...]`` sideload of POST /contactLists and POST /contactAutomations, and the
    ``contact`` of the PUT /contacts/{id} reply (the same keys in all three examples)."""
    return {
        **_contact_core(row),
        "created_utc_timestamp": row["cdate"],
        "updated_utc_timestamp": row["udate"],
        "links": links.of("contacts", row["id"], CONTACT_LINKS),
        "id": s(row["id"]),
        "organization": None,
    }


def contact_listed(links: Links, row: sqlite3.Row) -> JSON:
    """GET /contacts item."""
    return {
        **_contact_core(row),
        "scoreValues": [],
        "links": links.of("contacts", row["id"], CONTACT_LINKS),
        "id": s(row["id"]),
        "organization": None,
    }


def contact_detail(links: Links, row: sqlite3.Row, related: Mapping[str, list[str]]) -> JSON:
    """GET /contacts/{id} main object: id arrays point into the sideloaded collections."""
    body = _contact_core(row)
    for name in ("contactAutomations", "contactLists", "fieldValues", "geoIps", "deals"):
        body[name] = related.get(name, [])
    body["accountContacts"] = []
    body["links"] = links.of("contacts", row["id"], CONTACT_LINKS)
    body["id"] = s(row["id"])
    body["organization"] = None
    return body


def contact_synced(links: Links, row: sqlite3.Row, field_value_ids: list[str]) -> JSON:
    """The short contact of the POST /contact/sync reply (18 links, ``email_empty`` a boolean)."""
    contact_links = links.of("contacts", row["id"], (*CONTACT_LINKS, *SYNC_EXTRA_LINKS))
    # The documented link carries the query the web app uses to list a contact's runs.
    contact_links["contactAutomations"] += "?limit=1000&orders%5Blastdate%5D=DESC"
    return {
        "email": row["email"],
        "phone": row["phone"],
        "firstName": row["first_name"],
        "lastName": row["last_name"],
        "email_empty": row["email"] == "",
        "cdate": local_iso(row["cdate"]),
        "udate": local_iso(row["udate"]),
        "orgid": "",
        "orgname": "",
        "links": contact_links,
        "hash": row["hash"],
        "fieldValues": field_value_ids,
        "id": s(row["id"]),
        "organization": "",
    }


def field_value(links: Links, row: sqlite3.Row) -> JSON:
    return {
        "contact": s(row["contact_id"]),
        "field": s(row["field_id"]),
        "value": row["value"],
        "cdate": local_iso(row["cdate"]),
        "udate": local_iso(row["udate"]),
        "created_by": None,
        "updated_by": None,
        "links": links.of("fieldValues", row["id"], ("owner", "field")),
        "id": s(row["id"]),
        "owner": s(row["contact_id"]),
    }


# -- memberships -----------------------------------------------------------------------------


def _contact_list_head(row: sqlite3.Row) -> JSON:
    return {
        "contact": s(row["contact_id"]),
        "list": s(row["list_id"]),
        "form": None,
        "seriesid": "0",
        "sdate": local_iso(row["sdate"]),
    }


def _contact_list_tail(row: sqlite3.Row, contact: sqlite3.Row, unsubreason: str | None) -> JSON:
    return {
        "responder": "1",
        "sync": "0",
        "unsubreason": unsubreason,
        "campaign": None,
        "message": None,
        "first_name": contact["first_name"],
        "last_name": contact["last_name"],
        "ip4Sub": "0",
        "sourceid": s(row["sourceid"]),
        "autosyncLog": None,
        "ip4_last": "0",
        "ip4Unsub": "0",
    }


def contact_list_written(links: Links, row: sqlite3.Row, contact: sqlite3.Row) -> JSON:
    """POST /contactLists reply: ``status`` is an int here (and only here), no ``udate``."""
    return {
        **_contact_list_head(row),
        "status": int(row["status"]),
        **_contact_list_tail(row, contact, unsubreason=""),
        "unsubscribeAutomation": None,
        "links": links.of("contactLists", row["id"], CONTACT_LIST_LINKS),
        "id": s(row["id"]),
        "automation": None,
    }


def contact_list_read(links: Links, row: sqlite3.Row, contact: sqlite3.Row) -> JSON:
    """GET /contacts/{id}/contactLists item: string status plus audit timestamps."""
    return {
        **_contact_list_head(row),
        "udate": local_iso(row["udate"]),
        "status": s(row["status"]),
        # Both read examples show null here where the POST reply shows "".
        **_contact_list_tail(row, contact, unsubreason=None),
        "created_timestamp": row["created"],
        "updated_timestamp": row["updated"],
        "created_by": None,
        "updated_by": None,
        "unsubscribeAutomation": None,
        "links": links.of("contactLists", row["id"], CONTACT_LIST_LINKS),
        "id": s(row["id"]),
        "automation": None,
    }


def _progress(row: sqlite3.Row) -> tuple[int, int]:
    done, total = int(row["completed_elements"]), int(row["total_elements"])
    return (1 if row["status"] == 2 else 0), (100 * done // total if total else 100)


def contact_automation_written(links: Links, row: sqlite3.Row) -> JSON:
    """POST /contactAutomations reply: ints for startid, status, completed, completeValue."""
    completed, complete_value = _progress(row)
    return {
        "contact": s(row["contact_id"]),
        "seriesid": s(row["automation_id"]),
        "startid": 0,
        "status": int(row["status"]),
        "lastblock": s(row["lastblock"]),
        "completedElements": s(row["completed_elements"]),
        "totalElements": s(row["total_elements"]),
        "completed": completed,
        "completeValue": complete_value,
        "links": links.of("contactAutomations", row["id"], CONTACT_AUTOMATION_LINKS),
        "id": s(row["id"]),
        "automation": s(row["automation_id"]),
    }


def contact_automation_read(links: Links, row: sqlite3.Row) -> JSON:
    """GET /contacts/{id}/contactAutomations item. Status "1" in progress, "2" completed.
    completedElements/totalElements stay strings (api.md §2), though that example shows ints."""
    completed, complete_value = _progress(row)
    finished = row["status"] == 2
    names = (*CONTACT_AUTOMATION_LINKS, "automationLogs")
    return {
        "contact": s(row["contact_id"]),
        "seriesid": s(row["automation_id"]),
        "startid": "0",
        "status": s(row["status"]),
        "batchid": "completed" if finished else None,
        "adddate": local_iso(row["adddate"]),
        "remdate": local_iso(row["remdate"]),
        "timespan": "1" if finished else None,
        "lastblock": s(row["lastblock"]),
        "lastlogid": "0",
        "lastdate": local_iso(row["lastdate"]),
        "in_als": "0",
        "completedElements": s(row["completed_elements"]),
        "totalElements": s(row["total_elements"]),
        "completed": completed,
        "completeValue": complete_value,
        "links": links.of("contactAutomations", row["id"], names),
        "id": s(row["id"]),
        "automation": s(row["automation_id"]),
    }


def contact_tag_written(links: Links, row: sqlite3.Row) -> JSON:
    """POST /contactTags reply. The doc example's links are relative ("/1/contact"); here they are
    absolute like every other link."""
    return {
        "cdate": local_iso(row["cdate"]),
        "contact": s(row["contact_id"]),
        "id": s(row["id"]),
        "links": links.of("contactTags", row["id"], ("contact", "tag")),
        "tag": s(row["tag_id"]),
    }


def contact_tag_read(links: Links, row: sqlite3.Row) -> JSON:
    """GET /contacts/{id}/contactTags item (no doc example; ASSUMED to match the POST reply)."""
    return contact_tag_written(links, row)
