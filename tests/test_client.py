"""The client against hand-written transports: paging, verification, the error table, retries,
the shared request budget, redaction. Every wait runs on a fake clock."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from factories import FakeClock

from connector import (
    AcClient,
    ApiError,
    AuthError,
    ConnectFailed,
    ConnectionLost,
    Database,
    HostNotFound,
    NotFoundError,
    RateLimitedError,
    RedirectError,
    RequestBudget,
    RequestRejected,
    RetryPolicy,
    ServerError,
    SettingsError,
    UnexpectedResponse,
    ValidationError,
)

KEY = "secret-key-abcd1234"


def client_for(
    handler: Callable[[httpx.Request], httpx.Response],
    clock: FakeClock | None = None,
    retry: RetryPolicy | None = None,
) -> AcClient:
    clock = clock or FakeClock()
    return AcClient(
        "https://acct.api-us1.com",
        KEY,
        transport=httpx.MockTransport(handler),
        retry=retry or RetryPolicy(uniform=lambda low, high: high),
        clock=clock,
        sleep=clock.sleep,
    )


def scripted(*responses: httpx.Response | Exception) -> Callable[[httpx.Request], httpx.Response]:
    """A handler answering with ``responses`` in turn (raising the exceptions)."""
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        item = queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    return handler


def test_sends_the_api_token_and_reads_the_user() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"user": {"id": "1", "firstName": "Jo", "email": "j@x.io"}})

    user = client_for(handler).me()
    assert user.display_name == "Jo" and user.email == "j@x.io"
    assert seen[0].headers["Api-Token"] == KEY
    assert str(seen[0].url) == "https://acct.api-us1.com/api/3/users/me"


@pytest.mark.parametrize("body", [b"", b"{}", b'{"user": {}}', b'{"user": {"email": ""}}'])
def test_a_connection_check_without_a_user_is_not_a_success(body: bytes) -> None:
    with pytest.raises(UnexpectedResponse, match="user.email") as caught:
        client_for(lambda r: httpx.Response(200, content=body)).me()
    assert "Connected" not in caught.value.message


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


@pytest.mark.parametrize(
    ("body", "lacks"),
    [
        (b"", "empty body"),
        (b'{"meta": {"total": "4"}}', "the lists"),
        (b'{"lists": "nope", "meta": {"total": "4"}}', "the lists"),
        (b'{"lists": []}', "meta.total"),
        (b'{"lists": [], "meta": {"total": "many"}}', "meta.total"),
    ],
)
def test_a_catalog_page_that_does_not_verify_is_an_error(body: bytes, lacks: str) -> None:
    client = client_for(lambda r: httpx.Response(200, content=body))
    with pytest.raises(UnexpectedResponse, match=lacks) as caught:
        client.lists()
    assert caught.value.retryable and caught.value.exchange.status == 200


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
        (400, {}, ValidationError, "no reason given"),
        (409, {"message": "Conflict"}, RequestRejected, "HTTP 409"),
        (500, {}, ServerError, "HTTP 500"),
        (502, {"message": "Bad gateway"}, ServerError, "Try again"),
    ],
)
def test_http_errors_are_typed_with_an_operator_sentence(status, body, error, says) -> None:
    client = client_for(lambda r: httpx.Response(status, json=body), retry=RetryPolicy(1))
    with pytest.raises(error) as caught:
        client.get("/lists")
    assert says in caught.value.message
    assert caught.value.status == status
    assert caught.value.exchange.status == status
    assert caught.value.exchange.error == caught.value.message


def test_validation_error_exposes_the_api_items() -> None:
    body = {
        "errors": [{"title": "Missing attribute", "source": {"pointer": "/data/attributes/list"}}]
    }
    with pytest.raises(ValidationError) as caught:
        client_for(lambda r: httpx.Response(422, json=body)).get("/x")
    assert caught.value.errors == body["errors"]


def test_a_redirect_is_an_error_naming_where_it_pointed_and_is_never_followed() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(301, headers={"Location": "https://elsewhere.example/api/3/lists"})

    with pytest.raises(RedirectError) as caught:
        client_for(handler).get("/lists")
    assert "https://elsewhere.example/api/3/lists" in caught.value.message
    assert "API URL" in caught.value.message
    assert seen == ["https://acct.api-us1.com/api/3/lists"]  # one request: not followed


def dns_failure() -> httpx.ConnectError:
    """What httpx raises for a host that does not exist: a ConnectError caused by gaierror."""
    error = httpx.ConnectError("[Errno -2] Name or service not known")
    error.__cause__ = socket.gaierror(-2, "Name or service not known")
    return error


@pytest.mark.parametrize(
    ("make", "error", "says", "retryable", "may_have_landed"),
    [
        (dns_failure, HostNotFound, "Cannot find acct.api-us1.com", False, False),
        (lambda: httpx.ConnectTimeout("timed out"), ConnectFailed, "did not accept", True, False),
        (lambda: httpx.ReadTimeout("timed out"), ConnectionLost, "did not answer", True, True),
        (lambda: httpx.RemoteProtocolError("peer closed"), ConnectionLost, "lost", True, True),
    ],
)
def test_transport_failures_are_classified_by_the_table(
    make, error, says, retryable, may_have_landed
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise make()

    with pytest.raises(error) as caught:
        client_for(handler, retry=RetryPolicy(1)).me()
    assert says in caught.value.message
    assert (caught.value.retryable, caught.value.may_have_landed) == (retryable, may_have_landed)
    assert caught.value.status is None and caught.value.exchange.status is None


def test_a_real_refused_connection_is_a_connect_failure() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    clock = FakeClock()
    client = AcClient(
        f"http://127.0.0.1:{port}", KEY, retry=RetryPolicy(1), clock=clock, sleep=clock.sleep
    )
    with pytest.raises(ConnectFailed, match="refused the connection"):
        client.me()


def test_garbage_on_success_is_an_unexpected_response() -> None:
    with pytest.raises(UnexpectedResponse, match="not JSON"):
        client_for(lambda r: httpx.Response(200, content=b"<html>login</html>")).get("/x")


def test_the_key_never_reaches_an_exchange_or_an_error() -> None:
    # A misbehaving server echoes the key back in its error body.
    client = client_for(lambda r: httpx.Response(422, json={"message": f"bad token {KEY}"}))
    with pytest.raises(ValidationError) as caught:
        client.send("POST", "/contact/sync", body={"contact": {"email": "a@b.co"}})
    err = caught.value
    text = json.dumps(
        [err.message, err.detail, err.exchange.request_dict(), err.exchange.response_dict()]
    )
    assert KEY not in text
    assert err.exchange.request_headers["api-token"] == "[redacted]"
    assert KEY not in repr(client)


@pytest.mark.parametrize("key", ["clé-secrète", "key\x00withnull", "ключ"])
def test_a_key_that_cannot_travel_in_a_header_is_refused_with_a_sentence(key: str) -> None:
    with pytest.raises(SettingsError, match="printable ASCII") as caught:
        AcClient("https://acct.api-us1.com", key)
    assert key not in caught.value.message


def test_retries_honour_retry_after_and_every_try_is_seen() -> None:
    clock = FakeClock()
    handler = scripted(
        httpx.Response(429, headers={"Retry-After": "2"}, json={}),
        httpx.Response(503, headers={"Retry-After": "1"}, json={}),
        httpx.Response(200, json={"user": {"id": "1", "email": "a@b.co"}}),
    )
    tries = []
    done = client_for(handler, clock).call("GET", "/users/me", on_try=tries.append)
    assert [t.status for t in tries] == [429, 503, 200]
    assert done is tries[-1] and "HTTP 503" in tries[1].error
    assert clock.slept == [2.0, 1.0]


def test_backoff_is_exponential_with_full_jitter() -> None:
    clock = FakeClock()
    picks: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        picks.append((low, high))
        return high / 2

    retry = RetryPolicy(max_attempts=4, base_delay=0.25, uniform=uniform)
    handler = scripted(*(httpx.Response(500, json={}) for _ in range(4)))
    with pytest.raises(ServerError):
        client_for(handler, clock, retry).get("/lists")
    assert picks == [(0.0, 0.25), (0.0, 0.5), (0.0, 1.0)]
    assert clock.slept == [0.125, 0.25, 0.5]


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(301, headers={"Location": "https://x.example"}), RedirectError),
        (httpx.Response(302, headers={"Location": "https://x.example"}), RedirectError),
        (httpx.Response(400, json={}), ValidationError),
        (httpx.Response(401, json={}), AuthError),
        (httpx.Response(403, json={"message": "Forbidden"}), AuthError),
        (httpx.Response(404, json={"message": "No Result found"}), NotFoundError),
        (httpx.Response(409, json={}), RequestRejected),
        (httpx.Response(422, json={"errors": []}), ValidationError),
    ],
)
def test_redirects_and_client_errors_other_than_429_are_not_retried(response, error) -> None:
    sent = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return response

    with pytest.raises(error):
        client_for(handler).get("/lists/9")
    assert len(sent) == 1


def test_an_unknown_host_is_not_retried() -> None:
    sent = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        raise dns_failure()

    with pytest.raises(HostNotFound):
        client_for(handler).me()
    assert len(sent) == 1


def test_timeouts_are_retried_up_to_the_attempt_cap() -> None:
    clock = FakeClock()
    handler = scripted(*(httpx.ReadTimeout("slow") for _ in range(4)))
    tries = []
    with pytest.raises(ConnectionLost):
        client_for(handler, clock).call("GET", "/users/me", on_try=tries.append)
    assert len(tries) == 4 and all(t.status is None and t.error for t in tries)


def test_total_time_cap_stops_retries() -> None:
    handler = scripted(
        *(httpx.Response(429, headers={"Retry-After": "60"}, json={}) for _ in range(2))
    )
    clock = FakeClock()
    with pytest.raises(RateLimitedError):
        client_for(handler, clock).get("/lists")  # waiting 60 s would pass the 30 s cap
    assert clock.slept == []


@pytest.mark.parametrize(
    ("error", "delay"),
    [
        (RateLimitedError("x", retry_after=3), 3.0),
        (ServerError("x"), 0.25),
        (UnexpectedResponse("x"), 0.25),
        (ConnectionLost("x"), 0.25),
        (ConnectFailed("x"), 0.25),
        (HostNotFound("x"), None),
        (RedirectError("x"), None),
        (AuthError("x"), None),
        (NotFoundError("x"), None),
        (ValidationError("x"), None),
        (RequestRejected("x"), None),
    ],
)
def test_the_retry_policy_follows_the_error_table(error: ApiError, delay: float | None) -> None:
    policy = RetryPolicy(uniform=lambda low, high: high)
    assert policy.next_delay(1, error, elapsed=0.0) == delay
    assert policy.next_delay(4, error, elapsed=0.0) is None  # the attempt cap


# -- the shared request budget ----------------------------------------------------------------


def budget(tmp_path: Path, clock: FakeClock, limit: int = 5, margin: float = 0.0) -> RequestBudget:
    db = Database(tmp_path / "budget.db")
    return RequestBudget(db, "acct", limit, margin=margin, clock=clock, sleep=clock.sleep)


def test_budget_admits_at_most_limit_starts_per_window(tmp_path: Path) -> None:
    clock = FakeClock()
    slots = budget(tmp_path, clock)
    starts = []
    for _ in range(12):
        slots.acquire()
        starts.append(clock.now - FakeClock().now)
    assert starts[:5] == [0.0] * 5
    assert starts[5] == pytest.approx(1.0) and starts[10] == pytest.approx(2.0)
    for first in starts:
        assert len([t for t in starts if first <= t < first + 1.0]) <= 5


def test_budgets_on_one_file_share_the_account(tmp_path: Path) -> None:
    clock = FakeClock()
    one, two = budget(tmp_path, clock), budget(tmp_path, clock)  # two processes, say
    for _ in range(3):
        one.acquire()
        two.acquire()
    assert clock.now - FakeClock().now == pytest.approx(1.0)  # the sixth start waited a window


def test_a_429_holds_the_whole_budget(tmp_path: Path) -> None:
    clock = FakeClock()
    one, two = budget(tmp_path, clock), budget(tmp_path, clock)
    one.hold(3.0)
    before = clock.now
    two.acquire()
    assert clock.now - before == pytest.approx(3.0)


def test_a_slow_request_counts_until_its_answer_is_in(tmp_path: Path) -> None:
    """The server counts arrivals, and a request may arrive as late as its answer: a slot moves
    to the request's end, so a slow connection can't squeeze a later request into its window."""
    clock = FakeClock()
    slots = budget(tmp_path, clock, limit=2)
    first, second = slots.acquire(), slots.acquire()
    clock.sleep(0.5)  # both take half a second to answer
    slots.settle(first)
    slots.settle(second)
    before = clock.now - 0.5
    slots.acquire()
    assert clock.now - before == pytest.approx(1.5)  # their ends + the window, not their starts


def test_a_waiter_rechecks_its_slot_when_others_end_late(tmp_path: Path) -> None:
    clock = FakeClock()
    slots = budget(tmp_path, clock, limit=1)
    first = slots.acquire()
    late = [0.8]

    def sleep(seconds: float) -> None:  # while the waiter sleeps, the first request ends late
        clock.sleep(seconds)
        if late:
            clock.sleep(late.pop())
            slots.settle(first)

    waiter = RequestBudget(
        Database(tmp_path / "budget.db"), "acct", 1, margin=0.0, clock=clock, sleep=sleep
    )
    started = clock.now
    waiter.acquire()
    # It woke at +1.0 s, found that the first request ended at +1.8 s, and waited a window more.
    assert clock.now - started == pytest.approx(2.8)


def test_a_clock_that_stepped_back_does_not_stall_the_budget(tmp_path: Path) -> None:
    clock = FakeClock()
    slots = budget(tmp_path, clock, limit=1)
    slots.acquire()
    slots.hold(60.0)
    clock.now -= 3600  # NTP or a resumed VM moves the clock an hour back
    before = clock.now
    with Database(tmp_path / "budget.db").write() as db:
        db.execute("UPDATE request_holds SET until = until + 0")  # the hold is an hour ahead now
    slots.acquire()
    assert clock.now - before == pytest.approx(0.0)


def test_the_budget_keeps_a_margin_over_the_servers_window(tmp_path: Path) -> None:
    clock = FakeClock()
    slots = budget(tmp_path, clock, limit=2, margin=0.05)
    for _ in range(3):
        slots.acquire()
    assert clock.now - FakeClock().now == pytest.approx(1.05)


def test_a_429_answer_holds_the_budget_for_every_process(tmp_path: Path) -> None:
    clock = FakeClock()
    slots = budget(tmp_path, clock)
    started = clock.now
    handler = scripted(
        httpx.Response(429, headers={"Retry-After": "4"}, json={}),
        httpx.Response(200, json={"user": {"id": "1", "email": "a@b.co"}}),
    )
    client = client_for(handler, clock)
    client.budget = slots
    client.me()
    with Database(tmp_path / "budget.db").read() as db:
        (until,) = db.execute("SELECT until FROM request_holds WHERE account = 'acct'").fetchone()
    assert until == pytest.approx(started + 4.0)  # what every other process on the file sees
    assert clock.slept == [4.0]


def test_a_429_while_waiting_moves_the_slot_after_the_hold(tmp_path: Path) -> None:
    clock = FakeClock()
    other = budget(tmp_path, clock)  # another process, which gets the 429
    holds = [3.0]

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if holds:
            other.hold(holds.pop())

    db = Database(tmp_path / "budget.db")
    slots = RequestBudget(db, "acct", 5, margin=0.0, clock=clock, sleep=sleep)
    started = clock.now
    for _ in range(5):
        slots.acquire()
    assert clock.now == started
    slots.acquire()  # its slot at +1 s; woken there, it finds the hold and waits until +4 s
    assert clock.now - started == pytest.approx(4.0)
    with db.read() as conn:
        starts = [row[0] for row in conn.execute("SELECT started FROM request_starts")]
    assert starts == [pytest.approx(clock.now)]  # one slot for it, moved: none left behind


@pytest.mark.parametrize("attempts", [1, 4])
def test_a_429_holds_the_budget_even_when_it_is_not_retried(tmp_path: Path, attempts: int) -> None:
    clock = FakeClock()
    handler = scripted(
        *(httpx.Response(429, headers={"Retry-After": "60"}, json={}) for _ in range(4))
    )
    client = client_for(handler, clock, RetryPolicy(max_attempts=attempts))
    client.budget = budget(tmp_path, clock)
    started = clock.now
    with pytest.raises(RateLimitedError):
        client.get("/lists")  # 60 s is past the 30 s cap: given up at once, not retried
    with Database(tmp_path / "budget.db").read() as db:
        (until,) = db.execute("SELECT until FROM request_holds").fetchone()
    assert until == pytest.approx(started + 60.0)  # every other process waits it out too
