"""The sandbox's JSON has the shapes of the documented examples in tests/fixtures (the official
reference's example payloads, copied from shared/activecampaign/fixtures; provenance in
tests/fixtures/INDEX.md).

For each endpoint with a fixture: the same top-level keys and, for the main object (and sideloads),
the same key set and JSON kinds. Kinds are ``str|null`` (the docs mix null and strings for the same
column), ``int``, ``bool``, ``list`` and ``dict``; ids, flags and totals must be strings and ints
appear only where api.md §2 lists them. Where a fixture disagrees with its siblings, the comparison
names the exception and the reason instead of silently loosening the check.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from connector.sandbox import SANDBOX_URL, Sandbox, SeedSpec

FIXTURES = Path(__file__).resolve().parent / "fixtures"
API = SANDBOX_URL + "/api/3"
LOCAL_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-05:00")
UTC_STAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
LOCAL_DATE_KEYS = {"cdate", "udate", "mdate", "sdate", "adddate", "remdate", "lastdate"}
UTC_STAMP_KEYS = {
    "created_utc_timestamp",
    "updated_utc_timestamp",
    "created_timestamp",
    "updated_timestamp",
}

JSON = dict[str, Any]


def fixture(name: str) -> Any:
    path = FIXTURES / name
    if not path.is_file():
        pytest.fail(
            f"Fixture {name} not found in {FIXTURES}: the documented example payloads belong in "
            "tests/fixtures (see its INDEX.md)."
        )
    return json.loads(path.read_text())


def kind(value: object) -> str:
    if value is None or isinstance(value, str):
        return "str|null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "dict"
    return type(value).__name__


def shape(*objects: Mapping[str, Any]) -> dict[str, str]:
    """Key -> kind over one or more example objects (union of keys: fixtures with several items
    sometimes omit a key in some items, e.g. ``edate`` in GET /contacts)."""
    merged: dict[str, str] = {}
    for obj in objects:
        for key, value in obj.items():
            seen = merged.setdefault(key, kind(value))
            assert seen == kind(value), f"fixture itself mixes kinds for {key!r}"
    return merged


def assert_same_shape(
    actual: Mapping[str, Any],
    *expected: Mapping[str, Any],
    extra: Mapping[str, str] | None = None,
    retyped: Mapping[str, str] | None = None,
    missing: Mapping[str, str] | None = None,
    extra_links: Mapping[str, str] | None = None,
) -> None:
    """``actual`` has exactly the keys/kinds of ``expected`` except the named, explained
    exceptions: ``extra`` keys we add, ``retyped`` keys whose fixture kind we deliberately differ
    from, ``missing`` fixture keys we omit, ``extra_links`` relation names we add to ``links``
    (each maps key -> reason)."""
    extra, retyped, missing = extra or {}, retyped or {}, missing or {}
    want = shape(*expected)
    got = shape(actual)
    assert set(got) - set(want) == set(extra), "unexpected extra keys"
    assert set(want) - set(got) == set(missing), "keys missing"
    for key in set(want) & set(got):
        if key in retyped:
            assert got[key] != want[key], f"{key} is no longer retyped; drop the exception"
            continue
        assert got[key] == want[key], f"{key}: sandbox {got[key]} vs docs {want[key]}"
    documented = [obj["links"] for obj in expected if isinstance(obj.get("links"), dict)]
    if documented:
        names = set().union(*documented)
        assert set(actual["links"]) - names == set(extra_links or {}), "extra links"
        assert names <= set(actual["links"]), "links missing"


def walk(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key, inner
            yield from walk(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from walk(inner)


# -- one sandbox with every kind of object in it ---------------------------------------------
# The documented request example (put_contacts_id__request__Request_Example.json), with field 3
# instead of 6: the demo account has five custom fields.
PUT_CONTACT = {
    "contact": {
        "email": "johndoe@example.com",
        "firstName": "John",
        "lastName": "Doe",
        "fieldValues": [
            {"field": "1", "value": "The Value for First Field"},
            {"field": "3", "value": "2008-01-20"},
        ],
    }
}


@pytest.fixture(scope="module")
def replies() -> Iterator[dict[str, httpx.Response]]:
    """Responses for every endpoint, recorded once: a contact synced with two custom fields,
    subscribed to a list, enrolled in an automation and tagged; then (after every read) updated,
    unsubscribed, untagged and taken out of the automation."""
    with (
        Sandbox() as sb,
        httpx.Client(
            transport=sb.transport(), base_url=API, headers={"Api-Token": sb.api_key}
        ) as client,
    ):
        out: dict[str, httpx.Response] = {}
        out["users_me"] = client.get("/users/me")
        out["lists"] = client.get("/lists")
        out["list"] = client.get("/lists/1")
        out["automations"] = client.get("/automations")
        out["fields"] = client.get("/fields")
        out["tags"] = client.get("/tags")
        out["tag"] = client.get("/tags/1")
        values = [{"field": "1", "value": "Albany"}, {"field": "3", "value": "2024-02-01"}]
        out["sync"] = client.post(
            "/contact/sync",
            json={
                "contact": {
                    "email": "johndoe@example.com",
                    "firstName": "John",
                    "lastName": "Doe",
                    "phone": "7223224241",
                    "fieldValues": values,
                }
            },
        )
        contact = out["sync"].json()["contact"]["id"]
        subscribe = {"contactList": {"list": 2, "contact": int(contact), "status": 1}}
        out["contact_list"] = client.post("/contactLists", json=subscribe)
        enroll = {"contactAutomation": {"contact": contact, "automation": "2"}}
        out["contact_automation"] = client.post("/contactAutomations", json=enroll)
        out["contact_automation_again"] = client.post("/contactAutomations", json=enroll)
        tag = {"contactTag": {"contact": contact, "tag": "2"}}
        out["contact_tag"] = client.post("/contactTags", json=tag)
        out["contact_tag_missing"] = client.post("/contactTags", json={"contactTag": {"tag": "2"}})
        out["contact_tag_404"] = client.post(
            "/contactTags", json={"contactTag": {"contact": "9999", "tag": "2"}}
        )
        out["contacts"] = client.get("/contacts")
        out["contact"] = client.get(f"/contacts/{contact}")
        out["contact_lists"] = client.get(f"/contacts/{contact}/contactLists")
        out["contact_automations"] = client.get(f"/contacts/{contact}/contactAutomations")
        out["contact_field_values"] = client.get(f"/contacts/{contact}/fieldValues")
        # The writes that change what the reads above show come last.
        out["put_contact"] = client.put(f"/contacts/{contact}", json=PUT_CONTACT)
        unsubscribe = {"contactList": {"list": 2, "contact": int(contact), "status": 2}}
        out["contact_list_unsubscribe"] = client.post("/contactLists", json=unsubscribe)
        tag_row = out["contact_tag"].json()["contactTag"]["id"]
        out["delete_contact_tag"] = client.delete(f"/contactTags/{tag_row}")
        run = out["contact_automation"].json()["contactAutomation"]["id"]
        out["delete_contact_automation"] = client.delete(f"/contactAutomations/{run}")
        yield out


@pytest.fixture(scope="module")
def empty_replies() -> Iterator[dict[str, httpx.Response]]:
    """404s from an account small enough that the fixtures' own ids do not exist."""
    spec = SeedSpec(lists=4, contacts=0, tags=0)
    with (
        Sandbox(seed=spec) as sb,
        httpx.Client(
            transport=sb.transport(), base_url=API, headers={"Api-Token": sb.api_key}
        ) as client,
    ):
        yield {
            "list_7": client.get("/lists/7"),
            "contact_1": client.get("/contacts/1"),
            "contact_121_lists": client.get("/contacts/121/contactLists"),
            "contact_1_automations": client.get("/contacts/1/contactAutomations"),
            "contact_100_field_values": client.get("/contacts/100/fieldValues"),
            "tag_1": client.get("/tags/1"),
            "put_contact_1": client.put("/contacts/1", json=PUT_CONTACT),
            "delete_contact_tag_1": client.delete("/contactTags/1"),
            "delete_contact_automation_3": client.delete("/contactAutomations/3"),
        }


def body(replies: dict[str, httpx.Response], name: str, status: int = 200) -> Any:
    response = replies[name]
    assert response.status_code == status, response.text
    return response.json()


# -- account and catalog ---------------------------------------------------------------------


def test_users_me(replies: dict[str, httpx.Response]) -> None:
    docs = fixture("get_users_me__200__Result.json")
    ours = body(replies, "users_me")
    assert set(ours) == set(docs)
    assert_same_shape(ours["user"], docs["user"])


def test_lists(replies: dict[str, httpx.Response]) -> None:
    docs = fixture("get_lists__200__Result.json")
    ours = body(replies, "lists")
    assert set(ours) == set(docs)
    assert_same_shape(ours["meta"], docs["meta"])
    for item in ours["lists"]:
        assert_same_shape(item, *docs["lists"])


def test_single_list(replies: dict[str, httpx.Response]) -> None:
    docs = fixture("get_lists_id__200__Result.json")
    ours = body(replies, "list")
    assert set(ours) == set(docs)
    assert_same_shape(ours["list"], docs["list"])


def test_automations(replies: dict[str, httpx.Response]) -> None:
    docs = fixture("get_automations__200__Result.json")
    newer = fixture("get_automations_id__200__Response.json")["automations"][0]
    ours = body(replies, "automations")
    assert set(ours) == set(docs)
    assert_same_shape(ours["meta"], docs["meta"])
    for start in ours["meta"]["starts"]:
        assert_same_shape(start, *docs["meta"]["starts"])
    for item in ours["automations"]:
        # The 2018 list example plus the 2025 example's `multientry` (a string there too). The
        # 2025 example's status is int 2; api.md §2 says flags are strings, as in the 2018 example.
        assert_same_shape(item, *docs["automations"], extra={"multientry": "from the 2025 example"})
        assert kind(item["multientry"]) == kind(newer["multientry"])
        assert item["status"] in ("1", "2")


def test_fields(replies: dict[str, httpx.Response]) -> None:
    docs = fixture("get_fields__200__Result.json")
    single = fixture("get_fields_id__200__Result.json")
    ours = body(replies, "fields")
    assert set(ours) == set(docs)
    assert_same_shape(ours["meta"], docs["meta"])
    for item in ours["fields"]:
        assert_same_shape(item, *docs["fields"], single["field"])
        assert all(isinstance(ident, str) for ident in item["options"] + item["relations"])
    # The list example's sideloads are empty; the single-field example shows a fieldRel.
    for rel in ours["fieldRels"]:
        assert_same_shape(rel, *single["fieldRels"])
        assert rel["links"] == []
    # No example shows a fieldOption; keys from the tap-activecampaign schema (api.md §3.4).
    option_keys = {"field", "orderid", "value", "label", "isdefault", "cdate", "udate", "id"}
    for option in ours["fieldOptions"]:
        assert set(option) - {"links"} == option_keys
        assert all(kind(option[key]) == "str|null" for key in option_keys)


def test_tags(replies: dict[str, httpx.Response]) -> None:
    docs = fixture("get_tags__200__Result.json")
    ours = body(replies, "tags")
    assert set(ours) == set(docs)
    assert_same_shape(ours["meta"], docs["meta"])
    for item in ours["tags"]:
        assert_same_shape(item, *docs["tags"])


def test_single_tag(replies: dict[str, httpx.Response]) -> None:
    docs = fixture("get_tags_id__200__Result.json")
    ours = body(replies, "tag")
    assert set(ours) == set(docs)
    assert_same_shape(ours["tag"], docs["tag"])


# -- contacts --------------------------------------------------------------------------------


def test_contact_sync(replies: dict[str, httpx.Response]) -> None:
    docs = fixture("post_contact_sync__201__Result.json")
    ours = body(replies, "sync", 201)
    assert set(ours) == set(docs)
    assert_same_shape(ours["contact"], docs["contact"])
    assert ours["contact"]["email_empty"] is False
    assert ours["contact"]["links"]["contactAutomations"].endswith(
        "/contactAutomations?limit=1000&orders%5Blastdate%5D=DESC"
    )
    assert len(ours["fieldValues"]) == 2
    for item in ours["fieldValues"]:
        assert_same_shape(item, *docs["fieldValues"])


def test_contacts(replies: dict[str, httpx.Response]) -> None:
    docs = fixture("get_contacts__200__Result.json")
    ours = body(replies, "contacts")
    assert set(ours) == set(docs)
    assert set(ours["meta"]) == set(docs["meta"])
    assert ours["meta"]["total"] == "5"
    assert_same_shape(ours["meta"]["page_input"], docs["meta"]["page_input"])
    for item in ours["contacts"]:
        assert_same_shape(item, *docs["contacts"])


def test_contact_detail(replies: dict[str, httpx.Response]) -> None:
    docs = fixture("get_contacts_id__200__Result.json")
    ours = body(replies, "contact")
    assert set(ours) == set(docs)
    # This example is older than the others: every other contact read carries these two.
    assert_same_shape(
        ours["contact"],
        docs["contact"],
        extra={"anonymized": "in every other contact example", "deleted_at": "likewise"},
    )
    assert_same_shape(ours["contactLists"][0], *docs["contactLists"], extra=CONTACT_LIST_AUDIT)
    assert_same_shape(
        ours["contactAutomations"][0],
        *docs["contactAutomations"],
        extra=RUN_DETAIL,
        extra_links={"automationLogs": "GET /contacts/{id}/contactAutomations example"},
    )
    for item in ours["fieldValues"]:
        assert_same_shape(item, *docs["fieldValues"], extra=FIELD_VALUE_AUDIT)
    for name in ("contactAutomations", "contactLists", "fieldValues"):
        assert ours["contact"][name] == [item["id"] for item in ours[name]]


# Older fieldValue examples (GET and PUT /contacts/{id}) lack these two; the newer ones (sync,
# GET /contacts/{id}/fieldValues) carry them, and the sandbox has one fieldValue shape.
FIELD_VALUE_AUDIT = {"created_by": "newer fieldValue examples", "updated_by": "likewise"}


CONTACT_LIST_AUDIT = {
    "created_timestamp": "GET /contacts/{id}/contactLists example",
    "updated_timestamp": "likewise",
    "created_by": "likewise",
    "updated_by": "likewise",
}
RUN_DETAIL = {
    "batchid": "GET /contacts/{id}/contactAutomations example",
    "lastlogid": "likewise",
    "in_als": "likewise",
}


def test_contact_field_values(replies: dict[str, httpx.Response]) -> None:
    docs = fixture("get_contacts_id_fieldValues__200__Result.json")
    ours = body(replies, "contact_field_values")
    assert set(ours) == set(docs)
    for item in ours["fieldValues"]:
        assert_same_shape(item, *docs["fieldValues"])


def test_put_contact(replies: dict[str, httpx.Response]) -> None:
    docs = fixture("put_contacts_id__200__Result.json")
    ours = body(replies, "put_contact")
    assert set(ours) == set(docs)
    assert_same_shape(ours["contact"], docs["contact"])
    assert len(ours["fieldValues"]) == 2
    for item in ours["fieldValues"]:
        assert_same_shape(item, *docs["fieldValues"], extra=FIELD_VALUE_AUDIT)


# -- memberships -----------------------------------------------------------------------------


def test_post_contact_lists(replies: dict[str, httpx.Response]) -> None:
    docs = fixture("post_contactLists__200__Result.json")
    ours = body(replies, "contact_list")
    assert set(ours) == set(docs)
    assert_same_shape(ours["contactList"], docs["contactList"])
    assert ours["contactList"]["status"] == 1  # int here only (api.md §2)
    # `edate` is absent from this example's contact but present in the POST /contactAutomations
    # and GET /contacts ones: one contact shape for both sideloads.
    assert_same_shape(ours["contacts"][0], *docs["contacts"], extra={"edate": "sibling examples"})


def test_post_contact_lists_unsubscribe(replies: dict[str, httpx.Response]) -> None:
    docs = fixture("post_contactLists__200__Result.json")
    ours = body(replies, "contact_list_unsubscribe")
    assert set(ours) == set(docs)
    assert_same_shape(ours["contactList"], docs["contactList"])
    assert ours["contactList"]["status"] == 2
    assert ours["contactList"]["id"] == body(replies, "contact_list")["contactList"]["id"]


def test_contact_lists_of_a_contact(replies: dict[str, httpx.Response]) -> None:
    docs = fixture("get_contacts_id_contactLists__200__Result.json")
    ours = body(replies, "contact_lists")
    assert set(ours) == set(docs)
    assert len(ours["contactLists"]) == 1
    assert_same_shape(ours["contactLists"][0], *docs["contactLists"])
    assert ours["contactLists"][0]["status"] == "1"


def test_post_contact_automations(replies: dict[str, httpx.Response]) -> None:
    docs = fixture("post_contactAutomations__201__Result.json")
    ours = body(replies, "contact_automation", 201)
    assert set(ours) == set(docs)
    assert_same_shape(ours["contactAutomation"], docs["contactAutomation"])
    run = ours["contactAutomation"]
    assert (run["startid"], run["status"], run["completed"]) == (0, 1, 0)
    assert_same_shape(ours["contacts"][0], *docs["contacts"])


def test_repeat_enrollment_403_body(replies: dict[str, httpx.Response]) -> None:
    # Automation 2 ("Trial nurture") has multientry off.
    ours = body(replies, "contact_automation_again", 403)
    assert ours == fixture("post_contactAutomations__403__Result.json")


def test_contact_automations_of_a_contact(replies: dict[str, httpx.Response]) -> None:
    docs = fixture("get_contacts_id_contactAutomations__200__Result.json")
    ours = body(replies, "contact_automations")
    assert set(ours) == set(docs)
    # This example alone has ints for these two; every other example and api.md §2 say strings.
    retyped = {"completedElements": "strings elsewhere", "totalElements": "strings elsewhere"}
    for item in ours["contactAutomations"]:
        assert_same_shape(item, *docs["contactAutomations"], retyped=retyped)
        assert isinstance(item["completedElements"], str)
        assert isinstance(item["totalElements"], str)
    other = fixture("get_contactAutomations__200__Result.json")["contactAutomations"][0]
    assert kind(other["completedElements"]) == kind(ours["contactAutomations"][0]["totalElements"])


def test_post_contact_tags(replies: dict[str, httpx.Response]) -> None:
    docs = fixture("post_contactTags__201__Result.json")
    ours = body(replies, "contact_tag", 201)
    assert set(ours) == set(docs)
    assert_same_shape(ours["contactTag"], docs["contactTag"])


@pytest.mark.parametrize(
    ("reply", "name"),
    [
        ("delete_contact_tag", "delete_contactTags_id__200__Result.json"),
        ("delete_contact_automation", "delete_contactAutomations_id__200__Result.json"),
    ],
)
def test_deletes_answer_the_documented_body(
    replies: dict[str, httpx.Response], reply: str, name: str
) -> None:
    assert body(replies, reply) == fixture(name)


def test_contact_tag_errors_match_the_docs(replies: dict[str, httpx.Response]) -> None:
    missing = fixture("post_contactTags__422__Result.json")
    assert body(replies, "contact_tag_missing", 422) == missing
    assert body(replies, "contact_tag_404", 404) == fixture("post_contactTags__404__Result.json")


# -- 404s verbatim ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "name"),
    [
        ("list_7", "get_lists_id__404__Result.json"),
        ("contact_1", "get_contacts_id__404__Result.json"),
        ("contact_121_lists", "get_contacts_id_contactLists__404__Result.json"),
        ("contact_1_automations", "get_contacts_id_contactAutomations__404__Result.json"),
        ("contact_100_field_values", "get_contacts_id_fieldValues__404__Result.json"),
        ("tag_1", "get_tags_id__404__Result.json"),
        ("put_contact_1", "put_contacts_id__404__Result.json"),
        ("delete_contact_tag_1", "delete_contactTags_id__404__Result.json"),
    ],
)
def test_not_found_bodies_are_verbatim(
    empty_replies: dict[str, httpx.Response], reply: str, name: str
) -> None:
    assert body(empty_replies, reply, 404) == fixture(name)


def test_deleting_an_unknown_contact_automation_is_the_documented_403(
    empty_replies: dict[str, httpx.Response],
) -> None:
    # The only documented failure of DELETE /contactAutomations/{id} is this 403, not a 404.
    docs = fixture("delete_contactAutomations_id__403__Result.json")
    assert body(empty_replies, "delete_contact_automation_3", 403) == docs


# -- conventions across every reply ----------------------------------------------------------


def test_links_use_the_sandbox_base_url(replies: dict[str, httpx.Response]) -> None:
    count = 0
    for response in replies.values():
        for key, value in walk(response.json()):
            if key == "links" and isinstance(value, dict):
                for url in value.values():
                    assert url.startswith(API + "/"), url
                    count += 1
    assert count > 100


def test_dates_carry_the_account_offset(replies: dict[str, httpx.Response]) -> None:
    checked = 0
    for response in replies.values():
        for key, value in walk(response.json()):
            if key in LOCAL_DATE_KEYS and value is not None:
                assert LOCAL_DATE.fullmatch(value), (key, value)
                checked += 1
            elif key in UTC_STAMP_KEYS and value is not None:
                assert UTC_STAMP.fullmatch(value), (key, value)
                checked += 1
    assert checked > 50


def test_ids_and_totals_are_strings(replies: dict[str, httpx.Response]) -> None:
    """Every ``id`` and every ``total`` is a string, whatever the endpoint."""
    for response in replies.values():
        for key, value in walk(response.json()):
            if key in ("id", "total"):
                assert isinstance(value, str), (key, value)
