"""Behaviour of the sandbox API, driven in-process through its httpx transport."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import httpx
import pytest
from factories import api_client

from connector.sandbox import DEMO_API_KEY, SANDBOX_URL, Sandbox, SeedSpec
from connector.sandbox.store import Store


def sync(client: httpx.Client, email: str, **attributes: object) -> httpx.Response:
    return client.post("/contact/sync", json={"contact": {"email": email, **attributes}})


def new_contact_id(client: httpx.Client, email: str = "prompt.user@example.com") -> str:
    response = sync(client, email, firstName="Prompt")
    assert response.status_code == 201
    return str(response.json()["contact"]["id"])


def automation_ids(client: httpx.Client, multientry: str) -> list[str]:
    automations = client.get("/automations", params={"limit": 100}).json()["automations"]
    return [a["id"] for a in automations if a["multientry"] == multientry]


# -- auth and routing ------------------------------------------------------------------------


def test_missing_api_token_is_403(sb: Sandbox) -> None:
    with httpx.Client(transport=sb.transport(), base_url=SANDBOX_URL + "/api/3") as anonymous:
        response = anonymous.get("/users/me")
    assert response.status_code == 403
    assert response.json() == {"message": "Forbidden"}


def test_wrong_api_token_is_403(sb: Sandbox) -> None:
    with api_client(sb, key="not-the-key") as wrong:
        response = wrong.post("/contact/sync", json={"contact": {"email": "a@example.com"}})
    assert response.status_code == 403
    assert response.json() == {"message": "Forbidden"}


def test_custom_api_key_replaces_the_demo_key() -> None:
    with Sandbox(api_key="my-own-key") as custom:
        with api_client(custom, key=DEMO_API_KEY) as demo:
            assert demo.get("/users/me").status_code == 403
        with api_client(custom) as own:
            assert own.get("/users/me").status_code == 200


def test_users_me_is_the_demo_user(client: httpx.Client) -> None:
    user = client.get("/users/me").json()["user"]
    assert (user["firstName"], user["lastName"], user["email"]) == (
        "Sandy",
        "Box",
        "sandbox@example.com",
    )
    assert user["links"]["lists"] == f"{SANDBOX_URL}/api/3/users/1/lists"


def test_unknown_path_is_404(client: httpx.Client) -> None:
    for response in (client.get("/campaigns"), client.get("/lists/abc"), client.delete("/lists")):
        assert response.status_code == 404
        assert response.json() == {"message": "Not Found"}


def test_paths_outside_api_3_are_404(sb: Sandbox) -> None:
    with httpx.Client(transport=sb.transport(), headers={"Api-Token": sb.api_key}) as raw:
        assert raw.get(SANDBOX_URL + "/api/2/lists").status_code == 404
        assert raw.get(SANDBOX_URL + "/api/3/lists/").status_code == 200


def test_request_count_counts_every_request(sb: Sandbox, client: httpx.Client) -> None:
    before = sb.request_count()
    client.get("/lists")
    with api_client(sb, key="wrong") as wrong:
        wrong.get("/lists")
    assert sb.request_count() == before + 2


# -- paging ----------------------------------------------------------------------------------


def test_lists_default_page_is_20_with_string_total(client: httpx.Client) -> None:
    body = client.get("/lists").json()
    assert len(body["lists"]) == 20
    assert body["meta"] == {"total": "48"}
    assert [item["id"] for item in body["lists"]] == [str(i) for i in range(1, 21)]


def test_limit_above_100_is_clamped_to_100() -> None:
    with Sandbox(seed=SeedSpec(lists=150)) as big, api_client(big) as client:
        body = client.get("/lists", params={"limit": 500}).json()
    assert len(body["lists"]) == 100
    assert body["meta"]["total"] == "150"


def test_junk_limit_and_offset_fall_back_to_defaults(client: httpx.Client) -> None:
    body = client.get("/lists", params={"limit": "lots", "offset": "-3"}).json()
    assert len(body["lists"]) == 20
    assert body["lists"][0]["id"] == "1"


def test_offset_is_zero_based(client: httpx.Client) -> None:
    body = client.get("/lists", params={"limit": 20, "offset": 40}).json()
    assert [item["id"] for item in body["lists"]] == [str(i) for i in range(41, 49)]
    assert client.get("/lists", params={"offset": 48}).json()["lists"] == []


def test_walking_all_48_lists(client: httpx.Client) -> None:
    seen: list[str] = []
    offset = 0
    while True:
        body = client.get("/lists", params={"limit": 20, "offset": offset}).json()
        seen += [item["name"] for item in body["lists"]]
        offset += 20
        if offset >= int(body["meta"]["total"]):
            break
    assert len(seen) == 48
    assert len(set(seen)) == 48
    assert seen[:3] == ["Newsletter", "Product updates", "Beta testers"]


def test_list_name_filter(client: httpx.Client) -> None:
    body = client.get("/lists", params={"filters[name]": "customers"}).json()
    names = [item["name"] for item in body["lists"]]
    assert names and all("customers" in name.lower() for name in names)
    assert body["meta"]["total"] == str(len(names))
    exact = client.get("/lists", params={"filters[name][eq]": "newsletter"}).json()
    assert [item["name"] for item in exact["lists"]] == ["Newsletter"]


def test_get_list_and_its_404(client: httpx.Client) -> None:
    assert client.get("/lists/2").json()["list"]["name"] == "Product updates"
    missing = client.get("/lists/7000")
    assert missing.status_code == 404
    assert missing.json() == {"message": "No Result found for _List with id 7000"}


def test_seeding_10000_lists_is_fast_and_pageable() -> None:
    started = time.perf_counter()
    with Sandbox(seed=SeedSpec(lists=10_000, automations=2_000)) as big:
        elapsed = time.perf_counter() - started
        with api_client(big) as client:
            last = client.get("/lists", params={"limit": 100, "offset": 9_950}).json()
            automations = client.get("/automations").json()
    assert elapsed < 2.0
    assert last["meta"]["total"] == "10000"
    assert len(last["lists"]) == 50
    assert last["lists"][-1]["id"] == "10000"
    assert automations["meta"]["total"] == "2000"
    assert len({item["name"] for item in last["lists"]}) == 50


def test_huge_ids_are_plain_404s(client: httpx.Client) -> None:
    assert client.get("/lists/99999999999999999999999").status_code == 404
    assert client.get("/contacts/99999999999999999999999").status_code == 404


# -- catalog ---------------------------------------------------------------------------------


def test_automations_mix_active_inactive_and_multientry(client: httpx.Client) -> None:
    body = client.get("/automations").json()
    assert body["meta"]["total"] == "8"
    assert body["meta"]["filtered"] is False
    assert body["meta"]["smsLogs"] == []
    assert len(body["meta"]["starts"]) == 8
    statuses = {item["status"] for item in body["automations"]}
    assert statuses == {"1", "2"}
    assert {item["multientry"] for item in body["automations"]} == {"0", "1"}
    active = client.get("/automations", params={"filters[status]": 1}).json()
    assert active["meta"]["filtered"] is True
    assert {item["status"] for item in active["automations"]} == {"1"}


def test_fields_are_five_demo_fields_of_different_types(client: httpx.Client) -> None:
    body = client.get("/fields").json()
    fields = body["fields"]
    assert body["meta"] == {"total": "5"}
    assert len({field["type"] for field in fields}) == 5
    assert [field["perstag"] for field in fields] == [
        "COMPANY",
        "PLAN",
        "SIGNUP_DATE",
        "USE_CASE",
        "INTERESTS",
    ]
    plan = next(field for field in fields if field["perstag"] == "PLAN")
    labels = [o["label"] for o in body["fieldOptions"] if o["id"] in plan["options"]]
    assert labels == ["Free", "Starter", "Pro", "Enterprise"]
    by_perstag = client.get("/fields", params={"filters[perstag]": "plan"}).json()
    assert [field["id"] for field in by_perstag["fields"]] == [plan["id"]]


def test_more_fields_than_the_demo_five_are_generated() -> None:
    with Sandbox(seed=SeedSpec(fields=9)) as sb, api_client(sb) as client:
        fields = client.get("/fields").json()["fields"]
    assert len(fields) == 9
    assert len({field["perstag"] for field in fields}) == 9


def test_tags_search_contains(client: httpx.Client) -> None:
    body = client.get("/tags").json()
    assert body["meta"] == {"total": "10"}
    found = client.get("/tags", params={"search": "TRIAL"}).json()
    assert [tag["tag"] for tag in found["tags"]] == ["trial"]
    assert found["meta"] == {"total": "1"}
    assert client.get("/tags/1").json()["tag"]["subscriber_count"] == "1"
    assert client.get("/tags/99").json() == {"message": "No Result found for Tag with id 99"}


# -- contacts --------------------------------------------------------------------------------


def test_sync_creates_then_updates_the_same_contact(client: httpx.Client) -> None:
    created = sync(client, "Jane.Doe@Example.com", firstName="Jane", lastName="Doe")
    assert created.status_code == 201
    contact = created.json()["contact"]
    assert (contact["email"], contact["firstName"]) == ("Jane.Doe@Example.com", "Jane")

    updated = sync(client, "jane.doe@example.COM", firstName="Janet", phone="+1 555 0199")
    assert updated.status_code == 201  # the live status on update is UNVERIFIED
    again = updated.json()["contact"]
    assert again["id"] == contact["id"]
    assert again["firstName"] == "Janet"
    assert again["lastName"] == "Doe"  # absent from the update: kept
    assert again["phone"] == "+1 555 0199"

    total = client.get("/contacts").json()["meta"]["total"]
    assert total == "5"  # 4 seeded + 1


def test_sync_writes_custom_field_values(client: httpx.Client) -> None:
    values = [{"field": "1", "value": "Acme"}, {"field": 2, "value": "Pro"}]
    body = sync(client, "fv@example.com", fieldValues=values).json()
    pairs = [(fv["field"], fv["value"]) for fv in body["fieldValues"]]
    assert pairs == [("1", "Acme"), ("2", "Pro")]
    assert body["contact"]["fieldValues"] == [fv["id"] for fv in body["fieldValues"]]
    changed = sync(client, "fv@example.com", fieldValues=[{"field": "1", "value": "Acme Inc"}])
    firsts = [fv for fv in changed.json()["fieldValues"] if fv["field"] == "1"]
    assert [fv["value"] for fv in firsts] == ["Acme Inc"]
    assert firsts[0]["id"] == body["fieldValues"][0]["id"]


def test_sync_with_invalid_email_is_422(client: httpx.Client) -> None:
    response = sync(client, "not-an-email")
    assert response.status_code == 422
    assert response.json() == {
        "errors": [
            {
                "title": "Contact Email Address is not valid.",
                "detail": "",
                "code": "email_invalid",
                "error": "must_be_valid_email_address",
                "source": {"pointer": "/data/attributes/email"},
            }
        ]
    }


def test_sync_without_email_is_422_missing(client: httpx.Client) -> None:
    expected = {
        "errors": [
            {
                "title": "Missing attribute",
                "detail": "",
                "code": "field_missing",
                "source": {"pointer": "/data/attributes/email"},
            }
        ]
    }
    for body in ({}, {"contact": {"firstName": "x"}}, {"contact": {"email": "  "}}):
        response = client.post("/contact/sync", json=body)
        assert response.status_code == 422
        assert response.json() == expected


def test_sync_with_unknown_field_is_422_and_writes_nothing(client: httpx.Client) -> None:
    values = [{"field": "1", "value": "Acme"}, {"field": "77", "value": "x"}]
    response = sync(client, "ghost@example.com", fieldValues=values)
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert (error["code"], error["source"]["pointer"]) == (
        "field_invalid",
        "/data/attributes/fieldValues",
    )
    assert client.get("/contacts", params={"email": "ghost@example.com"}).json()["contacts"] == []


def test_malformed_json_is_400_empty_object(client: httpx.Client) -> None:
    for content in (b"{not json", b"[1, 2]"):
        response = client.post(
            "/contact/sync", content=content, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400
        assert response.json() == {}


def test_contact_lookup_by_email_is_exact_and_case_insensitive(client: httpx.Client) -> None:
    contact_id = new_contact_id(client, "Lookup.Me@example.com")
    body = client.get("/contacts", params={"email": "lookup.me@EXAMPLE.com"}).json()
    assert [c["id"] for c in body["contacts"]] == [contact_id]
    assert body["meta"]["total"] == "1"
    assert body["meta"]["page_input"]["limit"] == 20
    partial = client.get("/contacts", params={"email": "lookup.me"}).json()
    assert partial["contacts"] == []
    assert partial["meta"]["total"] == "0"


def test_contacts_without_email_are_paginated(client: httpx.Client) -> None:
    for n in range(30):
        sync(client, f"bulk{n}@example.com")
    first = client.get("/contacts").json()
    assert len(first["contacts"]) == 20
    assert first["meta"]["total"] == "34"
    rest = client.get("/contacts", params={"offset": 20, "limit": 100}).json()
    assert len(rest["contacts"]) == 14


def test_get_contact_and_its_404(client: httpx.Client) -> None:
    body = client.get("/contacts/1").json()
    assert body["contact"]["email"] == "ada.lovelace@example.com"
    assert body["contact"]["contactLists"] == [cl["id"] for cl in body["contactLists"]]
    assert body["contact"]["fieldValues"] == [fv["id"] for fv in body["fieldValues"]]
    missing = client.get("/contacts/404")
    assert missing.status_code == 404
    assert missing.json() == {"message": "No Result found for Subscriber with id 404"}
    for sub in ("contactLists", "contactAutomations", "contactTags", "fieldValues"):
        assert client.get(f"/contacts/404/{sub}").status_code == 404


def test_put_contact_changes_only_what_it_sends(client: httpx.Client) -> None:
    contact_id = new_contact_id(client)
    plan = [{"field": "1", "value": "Acme"}, {"field": "2", "value": "Free"}]
    sync(client, "prompt.user@example.com", lastName="User", phone="555", fieldValues=plan)
    before = client.get(f"/contacts/{contact_id}").json()["fieldValues"]

    changes = {"lastName": "Userson", "fieldValues": [{"field": "2", "value": "Pro"}]}
    response = client.put(f"/contacts/{contact_id}", json={"contact": changes})
    assert response.status_code == 200
    contact = response.json()["contact"]
    assert (contact["id"], contact["email"], contact["firstName"]) == (
        contact_id,
        "prompt.user@example.com",
        "Prompt",
    )
    assert (contact["lastName"], contact["phone"]) == ("Userson", "555")
    values = {fv["field"]: fv["value"] for fv in response.json()["fieldValues"]}
    assert values == {"1": "Acme", "2": "Pro"}

    after = client.get(f"/contacts/{contact_id}").json()
    assert after["contact"]["lastName"] == "Userson"
    assert {fv["field"]: fv["value"] for fv in after["fieldValues"]} == values
    assert [fv["id"] for fv in after["fieldValues"]] == [fv["id"] for fv in before]


def test_put_contact_changes_the_email(client: httpx.Client) -> None:
    contact_id = new_contact_id(client, "old@example.com")
    response = client.put(f"/contacts/{contact_id}", json={"contact": {"email": "New@example.com"}})
    assert response.status_code == 200
    assert response.json()["contact"]["email"] == "New@example.com"
    found = client.get("/contacts", params={"email": "new@example.com"}).json()["contacts"]
    assert [c["id"] for c in found] == [contact_id]
    assert client.get("/contacts", params={"email": "old@example.com"}).json()["contacts"] == []
    # Its own address in another case is not someone else's.
    same = client.put(f"/contacts/{contact_id}", json={"contact": {"email": "new@EXAMPLE.com"}})
    assert same.status_code == 200


def test_put_contact_with_another_contacts_email_is_422_duplicate(client: httpx.Client) -> None:
    contact_id = new_contact_id(client)
    taken = client.get("/contacts/1").json()["contact"]["email"].upper()
    changes = {"email": taken, "firstName": "Changed"}
    response = client.put(f"/contacts/{contact_id}", json={"contact": changes})
    assert response.status_code == 422
    assert response.json() == {
        "errors": [
            {
                "title": "Email address already exists in the system",
                "detail": "",
                "code": "duplicate",
                "source": {"pointer": "/data/attributes/email"},
            }
        ]
    }
    assert client.get(f"/contacts/{contact_id}").json()["contact"]["firstName"] == "Prompt"


def test_put_contact_validates_emails_and_fields_as_sync_does(client: httpx.Client) -> None:
    contact_id = new_contact_id(client)
    email = "prompt.user@example.com"
    unknown_field = {"fieldValues": [{"field": "77", "value": "x"}], "firstName": "Changed"}
    for changes, synced in (
        ({"email": "not-an-email"}, sync(client, "not-an-email")),
        (unknown_field, sync(client, email, **unknown_field)),
    ):
        response = client.put(f"/contacts/{contact_id}", json={"contact": changes})
        assert response.status_code == synced.status_code == 422
        assert response.json() == synced.json()
    assert client.get(f"/contacts/{contact_id}").json()["contact"]["firstName"] == "Prompt"


# -- list memberships ------------------------------------------------------------------------


def test_contact_lists_upsert(client: httpx.Client) -> None:
    contact_id = new_contact_id(client)
    first = client.post("/contactLists", json={"contactList": {"list": 2, "contact": contact_id}})
    assert first.status_code == 422  # status is required

    subscribe = {"contactList": {"list": 2, "contact": int(contact_id), "status": 1}}
    created = client.post("/contactLists", json=subscribe)
    assert created.status_code == 200
    row = created.json()["contactList"]
    assert (row["contact"], row["list"], row["status"]) == (contact_id, "2", 1)
    assert created.json()["contacts"][0]["id"] == contact_id

    repeated = client.post("/contactLists", json=subscribe)
    assert repeated.status_code == 200
    assert repeated.json()["contactList"]["id"] == row["id"]

    unsubscribe = {"contactList": {"list": "2", "contact": contact_id, "status": "2"}}
    assert client.post("/contactLists", json=unsubscribe).json()["contactList"]["status"] == 2

    memberships = client.get(f"/contacts/{contact_id}/contactLists").json()["contactLists"]
    assert [(m["id"], m["list"], m["status"]) for m in memberships] == [(row["id"], "2", "2")]
    assert memberships[0]["sdate"] is not None
    assert memberships[0]["udate"] is not None


def test_unsubscribe_with_contact_lists_status_2(client: httpx.Client) -> None:
    contact_id = new_contact_id(client)
    subscribe = {"contactList": {"list": 3, "contact": contact_id, "status": 1}}
    row = client.post("/contactLists", json=subscribe).json()["contactList"]
    unsubscribe = {"contactList": {"list": 3, "contact": contact_id, "status": 2}}
    response = client.post("/contactLists", json=unsubscribe)
    assert response.status_code == 200
    assert set(response.json()) == {"contacts", "contactList"}
    unsubscribed = response.json()["contactList"]
    assert (unsubscribed["id"], unsubscribed["contact"], unsubscribed["list"]) == (
        row["id"],
        contact_id,
        "3",
    )
    assert unsubscribed["status"] == 2
    memberships = client.get(f"/contacts/{contact_id}/contactLists").json()["contactLists"]
    assert [(m["id"], m["status"]) for m in memberships] == [(row["id"], "2")]


def test_contact_lists_404s_and_missing_attributes(client: httpx.Client) -> None:
    contact_id = new_contact_id(client)
    no_contact = {"contactList": {"list": 1, "contact": 999, "status": 1}}
    response = client.post("/contactLists", json=no_contact)
    assert response.status_code == 404
    assert response.json() == {"message": "No Result found for Subscriber with id 999"}

    no_list = {"contactList": {"list": 777, "contact": contact_id, "status": 1}}
    response = client.post("/contactLists", json=no_list)
    assert response.status_code == 404
    assert response.json() == {"message": "No Result found for _List with id 777"}

    response = client.post("/contactLists", json={"contactList": {"contact": contact_id}})
    assert response.status_code == 422
    pointers = [error["source"]["pointer"] for error in response.json()["errors"]]
    assert pointers == ["/data/attributes/list", "/data/attributes/status"]
    assert response.json()["errors"][0]["title"] == "Missing attribute"

    bad_status = {"contactList": {"list": 1, "contact": contact_id, "status": 7}}
    assert client.post("/contactLists", json=bad_status).status_code == 422


# -- automations -----------------------------------------------------------------------------


def test_enrolling_twice_with_multientry_on_creates_two_runs(client: httpx.Client) -> None:
    contact_id = new_contact_id(client)
    automation = automation_ids(client, multientry="1")[0]
    body = {"contactAutomation": {"contact": contact_id, "automation": automation}}
    first = client.post("/contactAutomations", json=body)
    second = client.post("/contactAutomations", json=body)
    assert (first.status_code, second.status_code) == (201, 201)
    run = first.json()["contactAutomation"]
    assert (run["contact"], run["automation"], run["status"]) == (contact_id, automation, 1)
    assert run["id"] != second.json()["contactAutomation"]["id"]
    runs = client.get(f"/contacts/{contact_id}/contactAutomations").json()["contactAutomations"]
    assert [r["automation"] for r in runs] == [automation, automation]
    assert {r["status"] for r in runs} == {"1"}


def test_enrolling_twice_with_multientry_off_is_403(client: httpx.Client) -> None:
    contact_id = new_contact_id(client)
    automation = automation_ids(client, multientry="0")[0]
    body = {"contactAutomation": {"contact": int(contact_id), "automation": int(automation)}}
    assert client.post("/contactAutomations", json=body).status_code == 201
    again = client.post("/contactAutomations", json=body)
    assert again.status_code == 403
    assert again.json() == {"message": "Could not create SubscriberSeries"}


def test_enrolling_counts_entered(client: httpx.Client) -> None:
    contact_id = new_contact_id(client)

    def entered() -> str:
        return str(client.get("/automations").json()["automations"][2]["entered"])

    before = entered()
    body = {"contactAutomation": {"contact": contact_id, "automation": "3"}}
    client.post("/contactAutomations", json=body)
    assert int(entered()) == int(before) + 1


def test_enrolling_unknown_contact_or_automation_is_404(client: httpx.Client) -> None:
    contact_id = new_contact_id(client)
    unknown_contact = {"contactAutomation": {"contact": "999", "automation": "1"}}
    response = client.post("/contactAutomations", json=unknown_contact)
    assert response.status_code == 404
    assert response.json() == {"message": "No Result found for Subscriber with id 999"}
    unknown_automation = {"contactAutomation": {"contact": contact_id, "automation": "42"}}
    response = client.post("/contactAutomations", json=unknown_automation)
    assert response.status_code == 404
    assert response.json()["message"].startswith("No Result found for ")
    missing = client.post("/contactAutomations", json={"contactAutomation": {}})
    assert missing.status_code == 422


def test_deleting_a_contact_automation_removes_that_run(client: httpx.Client) -> None:
    contact_id = new_contact_id(client)
    automation = automation_ids(client, multientry="1")[0]
    enroll = {"contactAutomation": {"contact": contact_id, "automation": automation}}
    first, second = (
        client.post("/contactAutomations", json=enroll).json()["contactAutomation"]["id"]
        for _ in range(2)
    )
    deleted = client.delete(f"/contactAutomations/{first}")
    assert (deleted.status_code, deleted.json()) == (200, {})
    runs = client.get(f"/contacts/{contact_id}/contactAutomations").json()["contactAutomations"]
    assert [run["id"] for run in runs] == [second]
    again = client.delete(f"/contactAutomations/{first}")
    assert again.status_code == 403
    assert again.json() == {"message": f"No Result found for SubscriberSeries with id {first}"}


# -- tags ------------------------------------------------------------------------------------


def test_contact_tags(client: httpx.Client) -> None:
    contact_id = new_contact_id(client)
    body = {"contactTag": {"contact": contact_id, "tag": "3"}}
    created = client.post("/contactTags", json=body)
    assert created.status_code == 201
    tag = created.json()["contactTag"]
    assert (tag["contact"], tag["tag"]) == (contact_id, "3")
    again = client.post("/contactTags", json=body)
    assert again.status_code == 201
    assert again.json()["contactTag"]["id"] == tag["id"]
    applied = client.get(f"/contacts/{contact_id}/contactTags").json()["contactTags"]
    assert [t["tag"] for t in applied] == ["3"]


def test_contact_tags_errors(client: httpx.Client) -> None:
    response = client.post("/contactTags", json={"contactTag": {"contact": "999", "tag": "1"}})
    assert response.status_code == 404
    assert response.json() == {
        "errors": [{"status": 404, "title": "Not Found", "detail": "Contact not found"}]
    }
    response = client.post("/contactTags", json={"contactTag": {"tag": "1"}})
    assert response.status_code == 422
    assert response.json() == {
        "errors": [
            {
                "status": 422,
                "title": "Missing attribute",
                "source": {"pointer": "/data/attributes/contact"},
            }
        ]
    }
    contact_id = new_contact_id(client)
    unknown_tag = {"contactTag": {"contact": contact_id, "tag": "555"}}
    assert client.post("/contactTags", json=unknown_tag).status_code == 404


def test_deleting_a_contact_tag_takes_the_tag_off(client: httpx.Client) -> None:
    contact_id = new_contact_id(client)

    def subscribers() -> int:
        return int(client.get("/tags/3").json()["tag"]["subscriber_count"])

    before = subscribers()
    tag = {"contactTag": {"contact": contact_id, "tag": "3"}}
    row = client.post("/contactTags", json=tag).json()["contactTag"]["id"]
    assert subscribers() == before + 1
    deleted = client.delete(f"/contactTags/{row}")
    assert (deleted.status_code, deleted.json()) == (200, {})
    assert client.get(f"/contacts/{contact_id}/contactTags").json()["contactTags"] == []
    assert subscribers() == before
    again = client.delete(f"/contactTags/{row}")
    assert again.status_code == 404
    assert again.json() == {"message": f"No Result found for SubscriberTag with id {row}"}


def test_unknown_ids_on_put_and_deletes(client: httpx.Client) -> None:
    put = client.put("/contacts/404", json={"contact": {"firstName": "Nobody"}})
    assert (put.status_code, put.json()) == (
        404,
        {"message": "No Result found for Subscriber with id 404"},
    )
    huge = "99999999999999999999999"
    for ident in ("999", huge):
        tag = client.delete(f"/contactTags/{ident}")
        assert (tag.status_code, tag.json()) == (
            404,
            {"message": f"No Result found for SubscriberTag with id {ident}"},
        )
        run = client.delete(f"/contactAutomations/{ident}")
        assert (run.status_code, run.json()) == (
            403,
            {"message": f"No Result found for SubscriberSeries with id {ident}"},
        )


# -- state -----------------------------------------------------------------------------------


def test_state_survives_reopening_the_file(tmp_path: Path) -> None:
    db = tmp_path / "nested" / "sandbox.db"
    with Sandbox(db) as first, api_client(first) as client:
        contact_id = new_contact_id(client, "persist@example.com")
        subscribe = {"contactList": {"list": 5, "contact": contact_id, "status": 1}}
        assert client.post("/contactLists", json=subscribe).status_code == 200
    # A different seed size must not re-seed an existing file.
    with Sandbox(db, seed=SeedSpec(lists=3)) as second, api_client(second) as client:
        found = client.get("/contacts", params={"email": "persist@example.com"}).json()
        assert [c["id"] for c in found["contacts"]] == [contact_id]
        memberships = client.get(f"/contacts/{contact_id}/contactLists").json()["contactLists"]
        assert [m["list"] for m in memberships] == ["5"]
        assert client.get("/lists").json()["meta"]["total"] == "48"


def test_reset_restores_the_seed(tmp_path: Path) -> None:
    with Sandbox(tmp_path / "sandbox.db") as sb, api_client(sb) as client:
        seeded = client.get("/contacts/1").json()
        new_contact_id(client, "temporary@example.com")
        sync(client, "ada.lovelace@example.com", firstName="Changed")
        sb.reset()
        assert client.get("/contacts").json()["meta"]["total"] == "4"
        assert client.get("/contacts/1").json() == seeded
        assert client.get("/lists").json()["meta"]["total"] == "48"


@pytest.mark.parametrize("on_file", [False, True], ids=["memory", "file"])
def test_closed_sandbox_refuses_requests(tmp_path: Path, on_file: bool) -> None:
    sb = Sandbox(tmp_path / "sandbox.db" if on_file else None)
    sb.close()
    sb.close()  # idempotent
    with api_client(sb) as client, pytest.raises(RuntimeError):
        client.get("/lists")


def test_concurrent_syncs_from_threads(sb: Sandbox) -> None:
    ids: list[str] = []
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            with api_client(sb) as client:
                for i in range(10):
                    response = sync(client, f"thread{n}-{i}@example.com")
                    ids.append(response.json()["contact"]["id"])
        except BaseException as error:  # surfaced below; a thread cannot fail the test itself
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(ids)) == 80


def test_seed_spec_rejects_negative_sizes() -> None:
    with pytest.raises(ValueError, match="lists"):
        SeedSpec(lists=-1)


# -- one file, several connections (processes: see test_sandbox_processes) --------------------


@contextmanager
def write_lock(db: Path) -> Iterator[sqlite3.Connection]:
    """Hold the file's write lock from another connection, as another process would."""
    with closing(sqlite3.connect(db, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")
        try:
            yield other
        finally:
            other.execute("ROLLBACK")


def test_a_file_is_opened_in_wal_mode(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    with Sandbox(db):
        with closing(sqlite3.connect(db)) as raw:
            assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_opening_waits_at_most_busy_timeout_for_a_writer(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    Sandbox(db).close()
    with write_lock(db), pytest.raises(sqlite3.OperationalError, match="locked"):
        Sandbox(db, busy_timeout=0.05)


def test_a_request_waits_for_another_writer_to_finish(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    with Sandbox(db) as sb, api_client(sb) as client:
        statuses: list[int] = []
        with write_lock(db):
            request = threading.Thread(
                target=lambda: statuses.append(sync(client, "waited@example.com").status_code)
            )
            request.start()
            request.join(timeout=0.2)
            assert request.is_alive()  # blocked on the lock, not failed
        request.join(timeout=10)
        assert statuses == [201]


def test_a_file_locked_past_the_busy_timeout_answers_503_not_an_exception(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    with Sandbox(db, busy_timeout=0.05, rate_limit=5) as sb, api_client(sb) as client:
        with write_lock(db):
            answer = client.get("/lists")  # the shared budget can't take its slot
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "1"
        assert client.get("/lists").status_code == 200


def test_a_failed_handler_rolls_back_and_releases_the_file(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    with Sandbox(db, busy_timeout=0.5) as sb, api_client(sb) as client:
        bad = {"contact": {"email": "rolled@back.io", "fieldValues": [{"field": "999"}]}}
        assert client.post("/contact/sync", json=bad).status_code == 422
        # The rolled-back transaction left no lock behind: another connection can write.
        with write_lock(db):
            pass
        assert client.get("/contacts", params={"email": "rolled@back.io"}).json()["contacts"] == []


def test_seeding_happens_once_per_file(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    first, second = Store(db), Store(db)
    try:
        assert first.ensure_seeded(SeedSpec()) is True
        assert second.ensure_seeded(SeedSpec(lists=3)) is False  # never over existing data
        assert second.conn.execute("SELECT count(*) FROM lists").fetchone()[0] == 48
        second.seed(SeedSpec(lists=3))  # what reset() does: unconditional
        assert first.conn.execute("SELECT count(*) FROM lists").fetchone()[0] == 3
    finally:
        first.close()
        second.close()


# -- renaming seeded objects (tests of names the console did not choose) ----------------------


def test_rename_changes_what_the_api_answers_and_reset_brings_the_seed_back(
    sb: Sandbox, client: httpx.Client
) -> None:
    hostile = '<img src=x onerror="alert(1)">'
    for kind in ("list", "automation", "field", "field_option", "tag"):
        sb.rename(kind, "2", f"{hostile} {kind}")
    assert client.get("/lists/2").json()["list"]["name"] == f"{hostile} list"
    automations = client.get("/automations").json()["automations"]
    assert automations[1]["id"] == "2" and automations[1]["name"] == f"{hostile} automation"
    fields = client.get("/fields").json()
    assert fields["fields"][1]["title"] == f"{hostile} field"
    option = next(o for o in fields["fieldOptions"] if o["id"] == "2")
    assert option["value"] == option["label"] == f"{hostile} field_option"
    assert client.get("/tags/2").json()["tag"]["tag"] == f"{hostile} tag"
    with pytest.raises(KeyError):
        sb.rename("list", "999999", "nothing")
    sb.reset()
    assert client.get("/lists/2").json()["list"]["name"] == "Product updates"
