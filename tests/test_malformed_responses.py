"""Answers that are not what the API sends: wrong types, missing keys, floods. Each is a typed
``ConnectorError`` with a sentence (never a KeyError or TypeError further down), a huge body is
not read whole, a write answered oddly is never reported as a success without a check that shows
it, and nothing shown ever holds the key or repeats at length what the server sent."""

from __future__ import annotations

import gzip
import json
import socket
from collections.abc import Callable, Iterator
from fnmatch import fnmatchcase
from typing import Any

import httpx
import pytest
from factories import FakeClock, action, prompt_with, user

from connector import (
    AcClient,
    ActionConfig,
    ActionType,
    ConnectionLost,
    Console,
    HostNotFound,
    Interaction,
    NotFoundError,
    Reason,
    RedirectError,
    RequestRejected,
    Run,
    Runner,
    ServerError,
    Status,
    UnexpectedResponse,
)
from connector.ac.actions import Reads
from connector.ac.client import MAX_BODY_BYTES
from connector.core.errors import ConnectorError, ResponseTooLarge, api_message
from connector.core.models import AcList, Automation, Contact, Field, Tag, User
from connector.engine.executor import Executor
from connector.engine.intake import Intake

KEY = "secret-key-abcd1234"
MB = 1024 * 1024
MESSAGE_MAX = 400  # an operator reads a message: a couple of sentences, never a dump
ADVICE_READ = "Nothing was changed."
ADVICE_WRITE = "may or may not have been applied"


def client_for(handler: Callable[[httpx.Request], httpx.Response], **kwargs: Any) -> AcClient:
    clock = FakeClock()
    return AcClient(
        kwargs.pop("url", "https://acct.api-us1.com"),
        KEY,
        transport=httpx.MockTransport(handler),
        clock=clock,
        sleep=clock.sleep,
        **kwargs,
    )


def answering(body: bytes | str, status: int = 200) -> Callable[[httpx.Request], httpx.Response]:
    content = body.encode() if isinstance(body, str) else body
    return lambda request: httpx.Response(status, content=content)


def shown(error: ConnectorError) -> str:
    """Everything about an error an operator or a log could show."""
    exchange = getattr(error, "exchange", None)
    return json.dumps(
        [error.message, error.detail, exchange.to_dict() if exchange else None],
        ensure_ascii=False,
        default=str,
    )


def assert_sentence(message: str) -> None:
    assert message.strip() and message.rstrip().endswith("."), message
    assert len(message) <= MESSAGE_MAX, (len(message), message)


# -- a table of malformed bodies per typed read -------------------------------------------------

READS: dict[str, Callable[[AcClient], Any]] = {
    "me": lambda client: client.me(),
    "lists": lambda client: client.lists(),
    "automations": lambda client: client.automations(),
    "fields": lambda client: client.fields(),
    "tags": lambda client: client.tags(),
    "find_contact": lambda client: client.find_contact("ada@example.com"),
}
KEYS = {
    "lists": "lists",
    "automations": "automations",
    "fields": "fields",
    "tags": "tags",
    "find_contact": "contacts",
}
PAGED = {"lists", "automations", "fields", "tags"}


def _collection_cases() -> Iterator[Any]:
    for read, key in KEYS.items():
        meta = {"meta": {"total": "1"}} if read in PAGED else {}
        noun = "contacts" if key == "contacts" else key
        bodies: list[tuple[str, Any, str]] = [
            ("empty", b"", "empty body"),
            ("whitespace", b"  \n", "empty body"),
            ("html", b"<html><body>Login</body></html>", "not JSON"),
            ("cut short", b'{"' + key.encode() + b'": [', "not JSON"),
            ("not utf-8", b'{"x": "\xff\xfe"}', "not JSON"),
            ("too deep to parse", b"[" * 100_000, "not JSON"),
            ("too deep to use", b"[" * 200 + b"]" * 200, "nested more than"),
            ("a JSON array", [], noun),
            ("a JSON string", "lists", noun),
            ("null", None, noun),
            ("no key", {"meta": {"total": "1"}}, noun),
            ("key is an object", {key: {}, **meta}, noun),
            ("key is text", {key: "nope", **meta}, noun),
            ("key is null", {key: None, **meta}, noun),
            ("an item is not an object", {key: [{"id": "1"}, 7], **meta}, f"{key}[1] is 7"),
            ("an item is a list", {key: [[]], **meta}, f"{key}[0] is an array"),
            ("an item has no id", {key: [{"name": "x"}], **meta}, f"{key}[0].id is null"),
            ("an id is a fraction", {key: [{"id": 3.5}], **meta}, f"{key}[0].id is 3.5"),
            ("an id is text", {key: [{"id": "abc"}], **meta}, f"{key}[0].id is “abc”"),
            ("an id has a line break", {key: [{"id": "1\n2"}], **meta}, f"{key}[0].id"),
            ("an id is negative", {key: [{"id": -4}], **meta}, f"{key}[0].id is -4"),
            ("an id is an object", {key: [{"id": {"$oid": 1}}], **meta}, "an object"),
            ("an id is true", {key: [{"id": True}], **meta}, f"{key}[0].id is true"),
        ]
        if read in PAGED:
            bodies += [
                ("no meta", {key: []}, "meta.total"),
                ("meta is a list", {key: [], "meta": [1]}, "meta.total"),
                ("meta is text", {key: [], "meta": "x"}, "meta.total"),
                ("total missing", {key: [], "meta": {}}, "meta.total"),
                ("total null", {key: [], "meta": {"total": None}}, "meta.total"),
                ("total words", {key: [], "meta": {"total": "many"}}, "meta.total"),
                ("total negative", {key: [], "meta": {"total": "-1"}}, "meta.total"),
                ("total negative int", {key: [], "meta": {"total": -5}}, "meta.total"),
                ("total a fraction", {key: [], "meta": {"total": "4.5"}}, "meta.total"),
                ("total true", {key: [], "meta": {"total": True}}, "meta.total"),
                ("total huge", {key: [], "meta": {"total": "9" * 30}}, "meta.total"),
                ("total 10^12", {key: [], "meta": {"total": 10**12}}, "1,000,000"),
                ("total an object", {key: [], "meta": {"total": {}}}, "meta.total"),
                (
                    "total infinite",
                    b'{"' + key.encode() + b'": [], "meta": {"total": 1e999}}',
                    "inf",
                ),
                ("total NaN", b'{"' + key.encode() + b'": [], "meta": {"total": NaN}}', "nan"),
            ]
        for name, body, says in bodies:
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            yield pytest.param(read, raw, says, id=f"{read}-{name}")
    for name, body, says in [
        ("empty", b"", "user.email"),
        ("a list", b"[]", "user.email"),
        ("user is a list", b'{"user": []}', "user.email"),
        ("user is text", b'{"user": "ada"}', "user.email"),
        ("email null", b'{"user": {"email": null}}', "user.email"),
        ("email blank", b'{"user": {"email": "  "}}', "user.email"),
        ("html", b"<html></html>", "not JSON"),
    ]:
        yield pytest.param("me", body, says, id=f"me-{name}")


@pytest.mark.parametrize(("read", "body", "says"), list(_collection_cases()))
def test_a_malformed_answer_is_an_unexpected_response_with_a_sentence(
    read: str, body: bytes, says: str
) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, content=body)

    with pytest.raises(UnexpectedResponse) as caught:
        READS[read](client_for(handler))
    error = caught.value
    assert says in error.message
    assert error.message.startswith("ActiveCampaign answered HTTP 200 ")
    assert ADVICE_READ in error.message
    assert_sentence(error.message)
    assert error.exchange is not None and error.exchange.status == 200
    assert error.exchange.error == error.message
    assert len(sent) == 4  # an odd answer may be a glitch: retried, then given up
    json.dumps(error.exchange.to_dict())  # what the log stores can be stored


def test_odd_but_usable_values_are_read_as_the_api_means_them() -> None:
    """Ints for ids and counters, nulls for names, a total as an int, odd sideloads: read."""
    pages = {
        "/api/3/lists": {
            "lists": [{"id": 3, "name": None, "stringid": 7, "cdate": None}],
            "meta": {"total": 1},
        },
        "/api/3/automations": {
            "automations": [
                {"id": "4", "name": {"en": "x"}, "status": 1, "entered": "1e3", "multientry": 1}
            ],
            "meta": {"total": 1.0},
        },
        "/api/3/fields": {
            "fields": [{"id": 5, "title": None, "type": ["dropdown"]}, {"id": "6"}],
            "fieldOptions": [
                {"field": "5", "value": "A"},
                {"field": 5, "value": 2},
                {"field": 5, "value": None},
                {"field": 5, "value": {"x": 1}},
                {"field": 5, "value": True},
                {"field": None, "value": "orphan"},
                "not an option",
            ],
            "meta": {"total": " 2 "},
        },
        "/api/3/tags": {"tags": [{"id": "9", "tag": None, "tagType": 1}], "meta": {"total": "1"}},
        "/api/3/contacts": {"contacts": [{"id": 11, "email": "ada@example.com", "phone": None}]},
        "/api/3/users/me": {"user": {"email": "ada@example.com", "id": None, "firstName": None}},
    }
    client = client_for(lambda request: httpx.Response(200, json=pages[request.url.path]))
    assert client.lists() == [AcList("3", "", "7", "")]
    assert client.automations() == [Automation("4", "", True, 0, True)]
    assert client.fields() == [Field("5", "", "", "", ("A", "2")), Field("6", "", "", "", ())]
    assert client.tags() == [Tag("9", "", "1", "")]
    assert client.find_contact("ada@example.com") == Contact("11", "ada@example.com", "", "", "")
    assert client.me() == User("", "", "", "", "ada@example.com")


@pytest.mark.parametrize("sideload", [5, "text", {"field": "1"}, None, True])
def test_field_options_of_any_type_are_ignored_not_fatal(sideload: Any) -> None:
    body = {
        "fields": [{"id": "1", "title": "Plan"}],
        "fieldOptions": sideload,
        "meta": {"total": 1},
    }
    assert client_for(lambda r: httpx.Response(200, json=body)).fields()[0].options == ()


@pytest.mark.parametrize("model", [AcList, Automation, Field, Tag, Contact, User])
@pytest.mark.parametrize("data", [None, [], "x", 3, True])
def test_a_model_from_something_that_is_not_an_object_is_a_typed_error(model, data) -> None:
    with pytest.raises(UnexpectedResponse) as caught:
        model.from_api(data)
    assert_sentence(caught.value.message)


def test_counters_that_are_not_counters_are_zero() -> None:
    weird = {"id": "1", "status": 1e308 * 10, "entered": "9" * 5000, "multientry": [1]}
    assert Automation.from_api(weird) == Automation("1", "", False, 0, False)
    assert Automation.from_api({"status": float("nan"), "entered": -2.0}).entered == -2


def test_the_api_words_of_any_shape_never_raise() -> None:
    assert api_message({"errors": 5}) == ""
    assert api_message({"errors": "text"}) == ""
    assert api_message({"errors": [{"title": {"a": 1}, "source": []}]}) == "{'a': 1}"
    assert api_message({"message": "m" * 5000}).endswith("…")
    assert len(api_message({"message": "m" * 5000})) == 200


def test_an_error_answer_whose_errors_are_not_a_list_is_still_classified() -> None:
    client = client_for(answering(json.dumps({"errors": 5}), 422), retry=_no_retry())
    with pytest.raises(ConnectorError) as caught:
        client.get("/contacts")
    assert "rejected the data: no reason given" in caught.value.message


def _no_retry() -> Any:
    from connector import RetryPolicy

    return RetryPolicy(max_attempts=1)


# -- huge bodies --------------------------------------------------------------------------------


class Flood:
    """A 50 MB body made lazily, chunk by chunk, counting what was asked of it."""

    def __init__(self, size: int = 50 * MB, chunk: int = 64 * 1024, head: bytes = b"") -> None:
        self.size, self.chunk, self.head = size, chunk, head
        self.produced = 0

    def __iter__(self) -> Iterator[bytes]:
        first = (self.head + b'{"lists": [' + b'{"id": "1"},' * self.chunk)[: self.chunk]
        yield first
        self.produced += len(first)
        filler = b'{"id": "1", "name": "x"},' * (self.chunk // 25 + 1)
        while self.produced < self.size:
            piece = filler[: min(self.chunk, self.size - self.produced)]
            self.produced += len(piece)
            yield piece


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_50_mb_answer_is_not_read_whole(method: str) -> None:
    floods: list[Flood] = []

    def handler(request: httpx.Request) -> httpx.Response:
        floods.append(Flood())
        return httpx.Response(200, content=iter(floods[-1]))

    with pytest.raises(ResponseTooLarge) as caught:
        client_for(handler).call(method, "/lists", body={"x": 1} if method == "POST" else None)
    error = caught.value
    assert len(floods) == 1  # the same request would get the same flood: not retried
    assert floods[0].produced <= MAX_BODY_BYTES + 2 * 64 * 1024  # the cap and a chunk, not 50 MB
    assert "more than 8 MB" in error.message and "nothing was read further" in error.message
    assert (ADVICE_READ if method == "GET" else ADVICE_WRITE) in error.message
    assert_sentence(error.message)
    assert isinstance(error, UnexpectedResponse) and error.may_have_landed
    assert error.exchange.status == 200
    excerpt = error.exchange.response_body
    assert isinstance(excerpt, str) and 0 < len(excerpt) <= 300
    assert excerpt.startswith('{"lists": [{"id": "1"}')
    assert "HTTP 200" in error.detail and len(error.detail) < 600


def test_an_announced_length_over_the_cap_is_not_read_at_all() -> None:
    flood = Flood()

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"Content-Length": str(50 * MB), "Content-Type": "application/json"}
        return httpx.Response(200, headers=headers, content=iter(flood))

    with pytest.raises(ResponseTooLarge) as caught:
        client_for(handler).lists()
    assert flood.produced == 0
    assert "announced an answer of 50 MB (Content-Length)" in caught.value.message
    assert_sentence(caught.value.message)
    assert caught.value.exchange.status == 200


def test_a_body_just_under_the_cap_is_read() -> None:
    item = b'{"id": "1", "name": "x"},'
    count = (MAX_BODY_BYTES - 100) // len(item)
    body = b'{"lists": [' + item * count + b'{"id": "2"}], "meta": {"total": "1"}}'
    assert len(body) <= MAX_BODY_BYTES
    lists = client_for(lambda r: httpx.Response(200, content=body)).lists()
    assert len(lists) == count + 1


def test_an_error_status_with_a_huge_body_keeps_its_class_and_reads_little() -> None:
    floods: list[Flood] = []

    def handler(request: httpx.Request) -> httpx.Response:
        floods.append(Flood(head=b"<html>Bad gateway " + KEY.encode()))
        return httpx.Response(502, content=iter(floods[-1]))

    with pytest.raises(ServerError) as caught:
        client_for(handler).get("/lists")
    error = caught.value
    assert not isinstance(error, UnexpectedResponse) and "HTTP 502" in error.message
    assert len(floods) == 4 and all(f.produced <= MAX_BODY_BYTES + 2 * 64 * 1024 for f in floods)
    assert error.exchange.status == 502 and len(error.exchange.response_body) <= 300
    assert KEY not in shown(error)


def test_a_compressed_body_that_does_not_decode_is_an_unexpected_response() -> None:
    def streamed(request: httpx.Request) -> httpx.Response:  # decoded while it is read
        headers = {"Content-Encoding": "gzip"}
        return httpx.Response(200, headers=headers, content=iter([b"not gzip at all"]))

    with pytest.raises(UnexpectedResponse, match="can't be decoded") as caught:
        client_for(streamed).get("/lists")
    assert caught.value.exchange.status == 200 and caught.value.status == 200

    def preloaded(request: httpx.Request) -> httpx.Response:  # decoded before the client reads
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=b"not gzip")

    with pytest.raises(UnexpectedResponse, match="can't be decoded"):
        client_for(preloaded).get("/lists")


def test_a_compressed_flood_is_capped_by_what_it_decodes_to() -> None:
    bomb = gzip.compress(b"[" + b"0," * (20 * MB) + b"0]")  # 40 MB of JSON in a few KB
    assert len(bomb) < MB

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"Content-Encoding": "gzip"}
        chunks = [bomb[i : i + 4096] for i in range(0, len(bomb), 4096)]
        return httpx.Response(200, headers=headers, content=iter(chunks))

    with pytest.raises(ResponseTooLarge):
        client_for(handler).get("/lists")


def test_a_connection_lost_mid_body_is_a_lost_answer_with_its_status() -> None:
    def body() -> Iterator[bytes]:
        yield b'{"contact": {"id": '
        raise httpx.ReadError("connection reset by peer")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, content=body())

    with pytest.raises(ConnectionLost) as caught:
        client_for(handler, retry=_no_retry()).send("POST", "/contact/sync", body={"contact": {}})
    assert caught.value.may_have_landed and caught.value.exchange.status == 201


# -- the key and long echoes --------------------------------------------------------------------

ESCAPED_KEY = "".join(f"\\u{ord(c):04x}" for c in KEY)


@pytest.mark.parametrize(
    "handler",
    [
        answering(json.dumps({"lists": KEY, "meta": {"total": "1"}})),
        answering('{"lists": "' + ESCAPED_KEY + '"}'),
        answering(json.dumps({"lists": [{"id": KEY}]})),
        answering(json.dumps({"lists": [], "meta": {"total": KEY}})),
        answering("<html>" + "x" * 290 + KEY + "</html>"),  # the key across the cut
        answering("<html>" + "x" * 1990 + KEY + "</html>"),  # across the exchange's cut
        answering(json.dumps({"message": f"bad token {KEY}"}), 403),
        answering(json.dumps({"errors": [{"title": KEY, "source": {"pointer": KEY}}]}), 422),
        answering("<html>" + "y" * 280 + KEY, 500),
        lambda r: httpx.Response(301, headers={"Location": f"https://evil.example/?k={KEY}"}),
        lambda r: httpx.Response(200, content=iter(Flood(head=b"x" * 290 + KEY.encode()))),
        lambda r: httpx.Response(200, content=iter(Flood(head=KEY.encode()))),
        # Copies before the cut shorten the text and pull a cut copy into the excerpt.
        lambda r: httpx.Response(
            200, content=iter(Flood(head=(KEY * 10 + "x" * 120 + KEY).encode()))
        ),
        lambda r: httpx.Response(
            200, headers={"Content-Length": str(9 * MB)}, content=iter([KEY.encode()])
        ),
    ],
)
def test_a_key_the_server_echoes_never_shows(handler) -> None:
    with pytest.raises(ConnectorError) as caught:
        client_for(handler, retry=_no_retry()).lists()
    everything = shown(caught.value)
    assert KEY not in everything and KEY[:8] not in everything  # nor a cut copy
    assert_sentence(caught.value.message)


def test_a_2000_character_url_is_not_echoed_whole() -> None:
    host = "a" * 2000 + ".api-us1.com"

    def dns(request: httpx.Request) -> httpx.Response:
        error = httpx.ConnectError("[Errno -2] Name or service not known")
        error.__cause__ = socket.gaierror(-2, "Name or service not known")
        raise error

    for handler, error_class in [
        (dns, HostNotFound),
        (lambda r: httpx.Response(301, headers={"Location": "https://" + host}), RedirectError),
        (lambda r: httpx.Response(404, json={"message": "No " + "z" * 3000}), NotFoundError),
    ]:
        with pytest.raises(error_class) as caught:
            client_for(handler, url=f"https://{host}", retry=_no_retry()).me()
        assert_sentence(caught.value.message)
        # A host or a location is cut at 120 characters, the API's words at 200.
        assert "a" * 121 not in caught.value.message and "z" * 200 not in caught.value.message
        assert len(caught.value.detail) < 1000


@pytest.mark.parametrize(
    ("send", "says"),
    [
        (lambda c: c.send("GET", "/contacts/1\n2/contactLists"), "non-printable"),
        (lambda c: c.find_contact("a" * 100_000 + "@example.com"), "too long"),
    ],
)
def test_a_request_that_cannot_be_built_is_refused_not_sent(send, says) -> None:
    sent: list[httpx.Request] = []
    client = client_for(lambda r: sent.append(r) or httpx.Response(200, json={}))
    with pytest.raises(RequestRejected) as caught:
        send(client)
    assert says in caught.value.message and "Nothing was sent" in caught.value.message
    assert_sentence(caught.value.message)
    assert not caught.value.retryable and not caught.value.may_have_landed
    assert sent == []


# -- a check's pages ------------------------------------------------------------------------------


def test_a_server_ignoring_the_offset_does_not_loop_a_check_forever() -> None:
    rows = {"contactTags": [{"id": str(n), "tag": "1", "contact": "1"} for n in range(100)]}
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=rows)

    with pytest.raises(UnexpectedResponse, match="ignores the offset") as caught:
        Reads(client_for(handler)).rows("/contacts/1/contactTags", "contactTags")
    assert len(sent) == 2
    assert_sentence(caught.value.message)


# -- writes answered oddly, through the runner --------------------------------------------------


Answer = bytes | Callable[[httpx.Response], bytes]


def tampered(console: Console, *rules: tuple[str, str, Answer, bool]) -> Runner:
    """A runner on ``console``'s sandbox whose answers to each rule's ``method path`` (an fnmatch
    pattern under /api/3) are replaced by its answer (bytes, or made from the real answer); the
    rule's ``commit`` lets the sandbox apply the request first."""
    sandbox = console.sandbox
    account = console.account()

    def handler(request: httpx.Request) -> httpx.Response:
        for method, path, answer, commit in rules:
            if request.method == method and fnmatchcase(request.url.path, "/api/3" + path):
                real = sandbox.handle(request) if commit else None
                if callable(answer):
                    assert real is not None
                    real.read()
                    return httpx.Response(real.status_code, content=answer(real))
                return httpx.Response(200, content=answer)
        return sandbox.handle(request)

    clock = FakeClock()
    client = AcClient(
        account.api_url,
        account.api_key,
        transport=httpx.MockTransport(handler),
        clock=clock,
        sleep=clock.sleep,
    )
    intake = Intake(console.log, account=account.label, operator="", source="simulator")
    executor = Executor(client, console.log, console.claims, console.heartbeat, clock=clock)
    return Runner(intake, executor, console.leases)


def run(runner: Runner, *actions: ActionConfig, email: str = "odd@example.com") -> Run:
    return runner.run(prompt_with(*actions), Interaction.ACCEPT, user(), {0: email})


SYNC = ActionConfig(ActionType.ADD_CONTACT)
SYNC_ANSWERS = [
    b'{"contact": []}',
    b'{"contact": null}',
    b'{"contact": "1"}',
    b'{"contact": {"id": null}}',
    b'{"contact": {"id": ""}}',
    b'{"contact": {"id": 3.5}}',
    b'{"contact": {"id": {"x": 1}}}',
    b'{"contact": {"id": "1\\n2"}}',
    b'{"contact": {"id": "1", "email": "someone-else@example.com"}}',
    b'{"contacts": [{"id": "1"}]}',
    b"[]",
    b"{}",
    b"",
    b"<html>ok</html>",
]


@pytest.mark.parametrize("body", SYNC_ANSWERS)
def test_a_sync_answered_oddly_that_did_not_land_is_not_a_success(console, body) -> None:
    done = run(tampered(console, ("POST", "/contact/sync", body, False)), SYNC)
    sync = done.attempts[0]
    assert sync.status is Status.FAILED, sync.reason
    assert ADVICE_WRITE in sync.reason and len(sync.tries) == 4
    assert sync.checks and sync.checks[-1].present is False  # a check decided, not the answer
    assert all(t.status == 200 for t in sync.tries)


@pytest.mark.parametrize("body", SYNC_ANSWERS[:4])
def test_a_sync_answered_oddly_that_landed_is_confirmed_by_a_check(console, body) -> None:
    done = run(tampered(console, ("POST", "/contact/sync", body, True)), SYNC)
    sync = done.attempts[0]
    assert sync.status is Status.SUCCEEDED and sync.reason_code is Reason.CONFIRMED
    assert sync.evidence == sync.checks[-1].exchange  # the evidence is the check, not the answer
    assert sync.contact_id and sync.contact_id.isdigit()


def test_a_sync_whose_check_is_malformed_too_is_unknown(console) -> None:
    unnamed = json.dumps({"contacts": [{"email": "odd@example.com"}]}).encode()  # no id
    runner = tampered(
        console,
        ("POST", "/contact/sync", b'{"contact": []}', True),
        ("GET", "/contacts", unnamed, False),
    )
    done = run(runner, action(ActionType.ADD_TO_LIST, "3"))
    sync, listed = done.attempts
    assert sync.status is Status.UNKNOWN
    assert ADVICE_WRITE in sync.reason and "the check that would tell failed too" in sync.reason
    assert listed.status is Status.SKIPPED and "unknown" in listed.reason


WRITES = [
    (action(ActionType.ADD_TO_LIST, "3"), "/contactLists", "contactList"),
    (action(ActionType.ADD_TAG, "1"), "/contactTags", "contactTag"),
    (action(ActionType.ADD_TO_AUTOMATION, "1"), "/contactAutomations", "contactAutomation"),
]


def _ints_for_ids(real: httpx.Response) -> bytes:
    """The real answer with every id-like string as an int, as some answers send them."""

    def convert(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        return int(value) if isinstance(value, str) and value.isdigit() else value

    return json.dumps(convert(real.json())).encode()


@pytest.mark.parametrize(("config", "path", "key"), WRITES)
@pytest.mark.parametrize(
    "shape", ["missing", "an array", "null", "text", "an empty object", "other ids"]
)
@pytest.mark.parametrize("commit", [True, False])
def test_a_write_answered_oddly_is_decided_by_a_check(console, config, path, key, shape, commit):
    bodies = {
        "missing": {"contacts": []},
        "an array": {key: []},
        "null": {key: None},
        "text": {key: "ok"},
        "an empty object": {key: {}},
        "other ids": {key: {"contact": "999999", "list": "0", "tag": "0", "automation": "0"}},
    }
    body = json.dumps(bodies[shape]).encode()
    done = run(tampered(console, ("POST", path, body, commit)), config)
    write = done.attempts[-1]
    assert done.attempts[0].status is Status.SUCCEEDED  # the sync was not tampered with
    if commit:  # it landed: the check after the odd answer finds the new row
        assert write.status is Status.SUCCEEDED, write.reason
        assert write.reason_code is Reason.LANDED_EARLIER
        assert write.evidence == write.checks[-1].exchange
    else:
        assert write.status is Status.FAILED, write.reason
        assert ADVICE_WRITE in write.reason
    assert write.tries and all(t.status == 200 for t in write.tries)
    assert_sentence(write.tries[0].error)


@pytest.mark.parametrize(
    ("config", "path", "field"),
    [
        (action(ActionType.ADD_TO_LIST, "3"), "/contactLists", "contactList"),
        (action(ActionType.ADD_TAG, "1"), "/contactTags", "contactTag"),
        (action(ActionType.ADD_TO_AUTOMATION, "1"), "/contactAutomations", "contactAutomation"),
        (ActionConfig(ActionType.ADD_CONTACT), "/contact/sync", "contact"),
    ],
)
def test_a_proof_with_ints_for_ids_is_read_as_meant(console, config, path, field) -> None:
    done = run(tampered(console, ("POST", path, _ints_for_ids, True)), config)
    assert [a.status for a in done.attempts] == [Status.SUCCEEDED] * len(done.attempts)
    proof = done.attempts[-1].tries[0].response_body[field]
    assert isinstance(proof["id"], int) and done.contact_id.isdigit()
