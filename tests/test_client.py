"""The client against hand-written transports: paging, every error type, redaction."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from connector import (
    AcClient,
    AuthError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    UnreachableError,
    ValidationError,
)
from connector.budget import RequestBudget
from connector.retry import RetryPolicy

KEY = "secret-key-abcd1234"


FAST_RETRY = RetryPolicy(base_delay=0.001, max_delay=0.01)


def client_for(
    handler: Callable[[httpx.Request], httpx.Response], retry: RetryPolicy = FAST_RETRY
) -> AcClient:
    transport = httpx.MockTransport(handler)
    return AcClient("https://acct.api-us1.com", KEY, transport=transport, retry=retry)


def test_sends_the_api_token_and_reads_the_user() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"user": {"id": "1", "firstName": "Jo", "email": "j@x.io"}})

    user = client_for(handler).me()
    assert user.display_name == "Jo" and user.email == "j@x.io"
    assert seen[0].headers["Api-Token"] == KEY
    assert str(seen[0].url) == "https://acct.api-us1.com/api/3/users/me"


def test_paginates_with_limit_100_until_meta_total() -> None:
    total = 250
    offsets: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        limit, offset = int(request.url.params["limit"]), int(request.url.params["offset"])
        offsets.append((request.url.params["limit"], request.url.params["offset"]))
        lists = [
            {"id": str(i), "name": f"L{i}"}
            for i in range(offset + 1, min(total, offset + limit) + 1)
        ]
        return httpx.Response(200, json={"lists": lists, "meta": {"total": str(total)}})

    progress: list[tuple[int, int]] = []
    lists = client_for(handler).lists(on_progress=lambda done, all_: progress.append((done, all_)))
    assert [x.id for x in lists] == [str(i) for i in range(1, total + 1)]
    assert sorted(offsets) == [("100", "0"), ("100", "100"), ("100", "200")]
    assert offsets[0] == ("100", "0")  # the first page tells the total; the rest follow
    assert progress == [(1, 3), (2, 3), (3, 3)]


def test_paging_stops_on_a_short_page_even_if_total_lies() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(
            200, json={"tags": [{"id": "1", "tag": "a"}], "meta": {"total": "900"}}
        )

    assert [t.name for t in client_for(handler).tags()] == ["a"]
    assert calls == 1


@pytest.mark.parametrize(
    ("status", "body", "error", "says"),
    [
        (403, {"message": "Forbidden"}, AuthError, "refused the API key"),
        (403, {"message": "You do not have permission to view lists."}, AuthError, "permission"),
        (401, {}, AuthError, "refused the API key"),
        (404, {"message": "No Result found for _List with id 7"}, NotFoundError, "_List with id 7"),
        (
            422,
            {
                "errors": [
                    {
                        "title": "Contact Email Address is not valid.",
                        "code": "email_invalid",
                        "source": {"pointer": "/data/attributes/email"},
                    }
                ]
            },
            ValidationError,
            "Contact Email Address is not valid. (email)",
        ),
        (400, {}, ValidationError, "invalid request"),
        (500, {}, ServerError, "HTTP 500"),
        (502, {"message": "Bad gateway"}, ServerError, "Try again"),
    ],
)
def test_http_errors_are_typed_with_an_operator_sentence(status, body, error, says) -> None:
    client = client_for(lambda r: httpx.Response(status, json=body))
    with pytest.raises(error) as caught:
        client.get("/lists")
    assert says in caught.value.message
    assert caught.value.status == status
    assert caught.value.exchange.status == status


def test_validation_error_exposes_the_api_items() -> None:
    body = {
        "errors": [{"title": "Missing attribute", "source": {"pointer": "/data/attributes/list"}}]
    }
    with pytest.raises(ValidationError) as caught:
        client_for(lambda r: httpx.Response(422, json=body)).get("/x")
    assert caught.value.errors == body["errors"]


def test_rate_limited_carries_retry_after() -> None:
    client = client_for(lambda r: httpx.Response(429, headers={"Retry-After": "30"}, json={}))
    with pytest.raises(RateLimitedError) as caught:
        client.get("/lists")
    assert caught.value.retry_after == 30
    assert "Wait 30 s" in caught.value.message


@pytest.mark.parametrize(
    ("exc", "says"),
    [
        (
            httpx.ConnectError("[Errno -2] Name or service not known"),
            "Cannot find acct.api-us1.com",
        ),
        (httpx.ConnectError("[Errno 111] Connection refused"), "refused the connection"),
        (httpx.ReadTimeout("timed out"), "did not answer in time"),
        (httpx.ConnectTimeout("timed out"), "did not answer in time"),
        (httpx.RemoteProtocolError("peer closed"), "Could not reach"),
    ],
)
def test_unreachable_hosts_are_typed(exc: Exception, says: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    with pytest.raises(UnreachableError) as caught:
        client_for(handler).me()
    assert says in caught.value.message
    assert caught.value.status is None


def test_empty_body_on_success_is_an_empty_object_and_garbage_is_a_server_error() -> None:
    assert client_for(lambda r: httpx.Response(200, content=b"")).get("/x") == {}
    with pytest.raises(ServerError, match="not JSON"):
        client_for(lambda r: httpx.Response(200, content=b"<html>login</html>")).get("/x")


def test_the_key_never_reaches_an_exchange_or_an_error() -> None:
    # A misbehaving server echoes the key back in its error body.
    client = client_for(lambda r: httpx.Response(422, json={"message": f"bad token {KEY}"}))
    with pytest.raises(ValidationError) as caught:
        client.sync_contact({"email": "a@b.co"})
    err = caught.value
    text = json.dumps(
        [err.message, err.detail, err.exchange.request_dict(), err.exchange.response_dict()]
    )
    assert KEY not in text
    assert err.exchange.request_headers["api-token"] == "[redacted]"
    assert KEY not in repr(client)


def test_write_helpers_send_the_documented_bodies() -> None:
    bodies: list[tuple[str, dict]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append((request.url.path, json.loads(request.content)))
        return httpx.Response(201, json={})

    client = client_for(handler)
    client.add_to_list("7", "3")
    client.add_to_automation("7", "2")
    client.add_tag("7", "9")
    assert bodies == [
        ("/api/3/contactLists", {"contactList": {"list": "3", "contact": "7", "status": 1}}),
        ("/api/3/contactAutomations", {"contactAutomation": {"contact": "7", "automation": "2"}}),
        ("/api/3/contactTags", {"contactTag": {"contact": "7", "tag": "9"}}),
    ]


def scripted(*responses: httpx.Response | Exception) -> Callable[[httpx.Request], httpx.Response]:
    """A handler answering with ``responses`` in turn (raising the exceptions)."""
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        item = queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    return handler


def test_retries_honour_retry_after_and_count_attempts() -> None:
    handler = scripted(
        httpx.Response(429, headers={"Retry-After": "0"}, json={}),
        httpx.Response(503, headers={"Retry-After": "0"}, json={}),
        httpx.Response(200, json={"user": {"id": "1"}}),
    )
    done = client_for(handler).call("GET", "/users/me")
    assert done.attempts == 3
    assert "HTTP 503" in done.last_error


def test_timeouts_and_resets_are_retried_then_reported_with_the_attempt_count() -> None:
    handler = scripted(*(httpx.ReadTimeout("slow") for _ in range(4)))
    with pytest.raises(UnreachableError) as caught:
        client_for(handler).me()
    assert caught.value.attempts == 4


def test_client_errors_are_not_retried() -> None:
    handler = scripted(httpx.Response(404, json={"message": "No Result found"}))
    with pytest.raises(NotFoundError) as caught:
        client_for(handler).get("/lists/9")
    assert caught.value.attempts == 1


def test_unsafe_requests_can_opt_out_of_retries() -> None:
    handler = scripted(httpx.Response(502, json={}), httpx.Response(201, json={}))
    with pytest.raises(ServerError) as caught:
        client_for(handler).call("POST", "/contactAutomations", body={}, retry=False)
    assert caught.value.attempts == 1


def test_total_time_cap_stops_retries() -> None:
    handler = scripted(
        *(httpx.Response(429, headers={"Retry-After": "60"}, json={}) for _ in range(2))
    )
    with pytest.raises(RateLimitedError) as caught:
        client_for(handler).get("/lists")  # waiting 60 s would pass the 30 s cap: give up now
    assert caught.value.attempts == 1


def test_budget_admits_at_most_limit_starts_per_window() -> None:
    now = [0.0]
    budget = RequestBudget(
        5, 1.0, margin=0, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s)
    )
    starts = []
    for _ in range(12):
        budget.acquire()
        starts.append(now[0])
    assert starts[:5] == [0.0] * 5
    assert starts[5] == pytest.approx(1.0) and starts[10] == pytest.approx(2.0)
    for i in range(len(starts)):
        in_window = [t for t in starts if starts[i] <= t < starts[i] + 1.0]
        assert len(in_window) <= 5


def test_a_429_holds_the_whole_budget() -> None:
    now = [0.0]
    budget = RequestBudget(
        5, 1.0, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s)
    )
    budget.hold(3.0)
    assert budget.acquire() == pytest.approx(3.0)


def test_an_unknown_host_is_not_retried() -> None:
    handler = scripted(httpx.ConnectError("[Errno -2] Name or service not known"))
    with pytest.raises(UnreachableError) as caught:
        client_for(handler).me()
    assert caught.value.attempts == 1 and not caught.value.transient


def test_the_budget_keeps_a_margin_over_the_servers_window() -> None:
    now = [0.0]
    budget = RequestBudget(
        2, 1.0, margin=0.05, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s)
    )
    for _ in range(3):
        budget.acquire()
    assert now[0] == pytest.approx(1.05)
