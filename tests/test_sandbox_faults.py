"""The sandbox fighting back: request budget, latency, scripted faults and the admin endpoints."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from factories import api_client

from connector.sandbox import SANDBOX_URL, Fault, Sandbox, SandboxServer, emulator
from connector.sandbox.__main__ import describe, parse_args
from connector.sandbox.faults import Budget, SharedBudget

TOO_MANY = {"message": "Too Many Requests"}


def new_contact_id(client: httpx.Client, email: str = "faulty@example.com") -> str:
    response = client.post("/contact/sync", json={"contact": {"email": email}})
    assert response.status_code == 201
    return str(response.json()["contact"]["id"])


def multientry_automation(client: httpx.Client) -> str:
    automations = client.get("/automations", params={"limit": 100}).json()["automations"]
    return next(a["id"] for a in automations if a["multientry"] == "1")


def enrollment(contact_id: str, automation_id: str) -> dict[str, Any]:
    return {"contactAutomation": {"contact": contact_id, "automation": automation_id}}


def runs_of(client: httpx.Client, contact_id: str) -> list[dict[str, Any]]:
    return client.get(f"/contacts/{contact_id}/contactAutomations").json()["contactAutomations"]


# -- request budget --------------------------------------------------------------------------


def test_no_limit_by_default(sb: Sandbox, client: httpx.Client) -> None:
    assert sb.config() == {"rate_limit": None, "rate_window": 1.0, "latency": 0.0, "jitter": 0.0}
    assert all(client.get("/users/me").status_code == 200 for _ in range(20))
    assert sb.refused_count() == 0


def test_budget_refuses_the_sixth_request_then_admits_after_the_window() -> None:
    with Sandbox(rate_limit=5, rate_window=0.3) as sb, api_client(sb) as client:
        started = time.monotonic()
        assert [client.get("/users/me").status_code for _ in range(5)] == [200] * 5
        refused = client.get("/users/me")
        assert time.monotonic() - started < 0.3, "the test machine is too slow for this window"
        assert refused.status_code == 429
        assert refused.json() == TOO_MANY
        assert refused.headers["Retry-After"] == "1"  # whole seconds, at least 1
        # Refused requests do not consume budget, but they are still refused within the window.
        assert client.get("/users/me").status_code == 429
        assert sb.refused_count() == 2
        assert sb.stats() == {"requests": 7, "admitted": 5, "refused": 2, "faults_fired": 0}

        time.sleep(0.3)
        assert [client.get("/users/me").status_code for _ in range(5)] == [200] * 5
        assert sb.stats()["admitted"] == 10
        assert sb.request_count() == 12


def test_budget_runs_before_auth(sb: Sandbox) -> None:
    sb.configure(rate_limit=1, rate_window=5.0)
    with api_client(sb, key="wrong") as wrong:
        assert wrong.get("/users/me").status_code == 403  # admitted, then refused by auth
        assert wrong.get("/users/me").status_code == 429  # the budget answers first


@pytest.fixture(params=["memory", "file"])
def budget(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Budget]:
    """The in-memory budget and the one shared through a file obey the same rule."""
    made = Budget(2, 1.0) if request.param == "memory" else SharedBudget(tmp_path / "b.db", 2, 1.0)
    yield made
    made.close()


def test_budget_window_slides(budget: Budget) -> None:
    assert budget.admit(0.0) is None
    assert budget.admit(0.5) is None
    assert budget.admit(0.9) == pytest.approx(0.1)  # refused until 0.0 leaves the window
    assert budget.admit(1.0) is None  # 0.0 has left: only 0.5 remains
    assert budget.admit(1.2) == pytest.approx(0.3)  # 0.5 and 1.0 are in (0.2, 1.2]
    assert budget.admit(1.5) is None
    budget.forget()  # 1.0 and 1.5 are forgotten: two fresh slots
    assert budget.admit(1.6) is None
    assert budget.admit(1.7) is None
    assert budget.admit(1.8) == pytest.approx(0.8)


class FakeClock:
    """A wall clock the test moves by hand."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def test_the_clock_drives_the_budget_and_the_arrivals() -> None:
    clock = FakeClock()
    with Sandbox(rate_limit=2, clock=clock) as sb, api_client(sb) as client:
        assert client.get("/users/me").status_code == 200
        clock.advance(0.25)
        assert client.get("/users/me").status_code == 200
        clock.advance(0.5)
        refused = client.get("/users/me")
        assert (refused.status_code, refused.headers["Retry-After"]) == (429, "1")
        clock.advance(0.25)  # the first admission leaves the window
        assert client.get("/users/me").status_code == 200
        start = 1_700_000_000.0
        assert sb.arrivals() == [start, start + 0.25, start + 1.0]  # refused ones not included
        assert sb.stats() == {"requests": 4, "admitted": 3, "refused": 1, "faults_fired": 0}


def test_arrivals_keep_the_most_recent_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(emulator, "MAX_ARRIVALS", 3)
    clock = FakeClock(100.0)
    with Sandbox(clock=clock) as sb, api_client(sb) as client:
        for _ in range(5):
            client.get("/users/me")
            clock.advance(1)
        assert sb.arrivals() == [102.0, 103.0, 104.0]
        assert sb.stats()["admitted"] == 5


def test_instances_on_one_file_share_one_budget(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    clock = FakeClock()
    with (
        Sandbox(db, rate_limit=3, clock=clock) as one,
        Sandbox(db, rate_limit=3, clock=clock) as two,
        api_client(one) as first,
        api_client(two) as second,
    ):
        assert first.get("/users/me").status_code == 200
        assert second.get("/users/me").status_code == 200
        assert first.get("/users/me").status_code == 200
        refused = second.get("/users/me")  # two had one admission; the account had three
        assert (refused.status_code, refused.json()) == (429, TOO_MANY)
        assert refused.headers["Retry-After"] == "1"
        assert first.get("/users/me").status_code == 429
        # Stats and arrivals stay per instance.
        assert one.stats() == {"requests": 3, "admitted": 2, "refused": 1, "faults_fired": 0}
        assert two.stats() == {"requests": 2, "admitted": 1, "refused": 1, "faults_fired": 0}
        assert (len(one.arrivals()), len(two.arrivals())) == (2, 1)

        clock.advance(1.0)
        assert second.get("/users/me").status_code == 200
        # reset() forgets the account's recent admissions, for every instance on the file.
        for _ in range(2):
            assert first.get("/users/me").status_code == 200
        assert second.get("/users/me").status_code == 429
        one.reset()
        assert second.get("/users/me").status_code == 200


def test_an_unlimited_instance_still_uses_the_shared_budget(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    clock = FakeClock()
    with (
        Sandbox(db, clock=clock) as free,
        Sandbox(db, rate_limit=2, clock=clock) as limited,
        api_client(free) as unlimited,
        api_client(limited) as client,
    ):
        assert [unlimited.get("/users/me").status_code for _ in range(4)] == [200] * 4
        assert client.get("/users/me").status_code == 429  # the account's traffic counts
        limited.configure(rate_limit=None)
        assert client.get("/users/me").status_code == 200
        assert free.stats()["refused"] == 0


def test_in_memory_sandboxes_do_not_share_a_budget() -> None:
    clock = FakeClock()
    with (
        Sandbox(rate_limit=1, clock=clock) as one,
        Sandbox(rate_limit=1, clock=clock) as two,
        api_client(one) as first,
        api_client(two) as second,
    ):
        assert first.get("/users/me").status_code == 200
        assert second.get("/users/me").status_code == 200


def test_retry_after_rounds_up_to_whole_seconds() -> None:
    with Sandbox(rate_limit=1, rate_window=2.5) as sb, api_client(sb) as client:
        client.get("/users/me")
        assert client.get("/users/me").headers["Retry-After"] == "3"


def test_configure_changes_only_what_is_given(sb: Sandbox, client: httpx.Client) -> None:
    for _ in range(3):
        client.get("/users/me")
    # A limit switched on at runtime already knows the recent traffic.
    assert sb.configure(rate_limit=3) == {
        "rate_limit": 3,
        "rate_window": 1.0,
        "latency": 0.0,
        "jitter": 0.0,
    }
    assert client.get("/users/me").status_code == 429
    assert sb.configure(latency=0.01, jitter=0.02)["rate_limit"] == 3
    assert sb.configure(rate_limit=0)["rate_limit"] is None  # 0 lifts the limit, as on the CLI
    assert client.get("/users/me").status_code == 200
    assert sb.configure(rate_limit=None, latency=0)["latency"] == 0.0


@pytest.mark.parametrize(
    "settings",
    [
        {"rate_limit": -1},
        {"rate_limit": 2.5},
        {"rate_limit": True},
        {"rate_window": 0},
        {"latency": -0.1},
        {"jitter": float("nan")},
    ],
)
def test_configure_rejects_bad_values_and_applies_nothing(
    sb: Sandbox, settings: dict[str, Any]
) -> None:
    before = sb.config()
    with pytest.raises(ValueError):
        sb.configure(**{"rate_limit": 7, "latency": 0.5, **settings})
    assert sb.config() == before


def test_constructor_checks_settings() -> None:
    with pytest.raises(ValueError, match="rate_window"):
        Sandbox(rate_window=0)
    with pytest.raises(ValueError, match="busy_timeout"):
        Sandbox(busy_timeout=-1)
    with pytest.raises(ValueError, match="clock"):
        Sandbox(clock=5.0)  # type: ignore[arg-type]


# -- latency ---------------------------------------------------------------------------------


def test_latency_delays_each_answer() -> None:
    with Sandbox(latency=0.1, jitter=0.05) as sb, api_client(sb) as client:
        started = time.monotonic()
        assert client.get("/users/me").status_code == 200
        took = time.monotonic() - started
    assert 0.1 <= took < 0.5


def concurrently(count: int, call: Callable[[], object]) -> float:
    """Run ``call`` in ``count`` threads at once; the seconds until all finished."""
    threads = [threading.Thread(target=call) for _ in range(count)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - started


def test_concurrent_requests_overlap() -> None:
    statuses: list[int] = []
    with Sandbox(latency=0.2) as sb, api_client(sb) as client:
        took = concurrently(4, lambda: statuses.append(client.get("/lists").status_code))
    assert statuses == [200] * 4
    assert 0.2 <= took < 0.5  # serialized would be 0.8 s


def test_budget_is_measured_at_arrival_before_latency() -> None:
    # 3 requests arrive together; the third is over the budget even though latency spreads the
    # answers out, and it still waits out the latency (a 429 crosses the network too).
    statuses: list[int] = []
    with Sandbox(rate_limit=2, latency=0.15) as sb, api_client(sb) as client:
        took = concurrently(3, lambda: statuses.append(client.get("/users/me").status_code))
    assert sorted(statuses) == [200, 200, 429]
    assert 0.15 <= took < 0.4


# -- scripted faults in process --------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (429, "Too Many Requests"),
        (500, "Internal Server Error"),
        (502, "Bad Gateway"),
        (503, "Service Unavailable"),
    ],
)
def test_status_fault(sb: Sandbox, client: httpx.Client, status: int, message: str) -> None:
    sb.inject(Fault("status", status=status, retry_after=2))
    response = client.get("/lists")
    assert response.status_code == status
    assert response.json() == {"message": message}
    assert response.headers["Retry-After"] == "2"
    assert response.headers["content-type"] == "application/json"
    assert client.get("/lists").status_code == 200  # used up
    # A scripted 429 is a fault, not a refusal by the budget.
    assert sb.stats() == {"requests": 2, "admitted": 2, "refused": 0, "faults_fired": 1}


def test_status_fault_defaults(sb: Sandbox, client: httpx.Client) -> None:
    sb.inject(Fault("status"), Fault("status", retry_after=0.25))
    first = client.get("/lists")
    assert (first.status_code, "Retry-After" in first.headers) == (500, False)
    assert client.get("/lists").headers["Retry-After"] == "0.25"  # fractions kept, for fast tests


def test_hang_fault_is_a_read_timeout(sb: Sandbox, client: httpx.Client) -> None:
    sb.inject(Fault("hang", hang_seconds=0.1))
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout, match="no answer"):
        client.get("/lists")
    assert time.monotonic() - started >= 0.1
    assert client.get("/lists").status_code == 200


def test_reset_fault_is_a_transport_error(sb: Sandbox, client: httpx.Client) -> None:
    sb.inject(Fault("reset"))
    with pytest.raises(httpx.RemoteProtocolError, match="connection reset"):
        client.get("/lists")
    assert client.get("/lists").status_code == 200


def test_empty_fault(sb: Sandbox, client: httpx.Client) -> None:
    sb.inject(Fault("empty"), Fault("empty", status=503))
    first = client.get("/lists")
    assert (first.status_code, first.content) == (200, b"")
    second = client.get("/lists")
    assert (second.status_code, second.content) == (503, b"")


def test_malformed_fault(sb: Sandbox, client: httpx.Client) -> None:
    sb.inject(Fault("malformed"))
    response = client.get("/contacts/1")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == b'{"contact": '
    with pytest.raises(ValueError):
        response.json()


def test_fault_count_then_gone(sb: Sandbox, client: httpx.Client) -> None:
    sb.inject(Fault("status", status=503, count=3))
    assert client.get("/lists").status_code == 503
    assert sb.pending_faults() == [Fault("status", status=503, count=2)]
    assert [client.get("/lists").status_code for _ in range(3)] == [503, 503, 200]
    assert sb.pending_faults() == []
    assert sb.stats()["faults_fired"] == 3


def test_faults_fire_in_injection_order_one_per_request(sb: Sandbox, client: httpx.Client) -> None:
    sb.inject(Fault("status", status=502), Fault("status", status=503))
    assert [client.get("/lists").status_code for _ in range(3)] == [502, 503, 200]


def test_fault_matching_by_method_and_path(sb: Sandbox, client: httpx.Client) -> None:
    contact_id = new_contact_id(client)
    sb.inject(Fault("status", method="get", path="/contacts/*/contactAutomations", count=5))
    assert client.get(f"/contacts/{contact_id}").status_code == 200
    assert client.get("/contacts").status_code == 200
    assert client.post(f"/contacts/{contact_id}/contactAutomations").status_code == 404
    assert client.get(f"/contacts/{contact_id}/contactAutomations").status_code == 500
    # Trailing slash and query string do not matter.
    assert client.get(f"/contacts/{contact_id}/contactAutomations/").status_code == 500
    assert client.get("/contacts/1/contactAutomations", params={"limit": 1}).status_code == 500
    assert sb.pending_faults()[0].count == 2

    sb.clear_faults()
    sb.inject(Fault("status", method="POST", path="/contactAutomations", status=503))
    assert client.get("/contacts/1/contactAutomations").status_code == 200
    body = enrollment(contact_id, multientry_automation(client))
    assert client.post("/contactAutomations", json=body).status_code == 503
    assert client.post("/contactAutomations", json=body).status_code == 201


def test_faults_only_match_api_paths(sb: Sandbox) -> None:
    sb.inject(Fault("status", status=503))
    with httpx.Client(transport=sb.transport(), headers={"Api-Token": sb.api_key}) as raw:
        assert raw.get(SANDBOX_URL + "/api/2/lists").status_code == 404
        assert raw.get(SANDBOX_URL + "/api/3").status_code == 503


def test_faults_fire_before_auth(sb: Sandbox) -> None:
    sb.inject(Fault("status", status=502))
    with api_client(sb, key="wrong") as wrong:
        assert wrong.get("/lists").status_code == 502
        assert wrong.get("/lists").status_code == 403


def test_refused_requests_do_not_use_up_faults(sb: Sandbox, client: httpx.Client) -> None:
    sb.configure(rate_limit=1, rate_window=5.0)
    client.get("/users/me")
    sb.inject(Fault("status", status=500))
    assert client.get("/lists").status_code == 429
    assert sb.pending_faults() == [Fault("status")]


def test_without_commit_the_write_is_lost(sb: Sandbox, client: httpx.Client) -> None:
    contact_id = new_contact_id(client)
    sb.inject(Fault("status", method="POST", path="/contactAutomations", status=500))
    body = enrollment(contact_id, multientry_automation(client))
    assert client.post("/contactAutomations", json=body).status_code == 500
    assert runs_of(client, contact_id) == []


def test_commit_hang_writes_then_times_out(sb: Sandbox, client: httpx.Client) -> None:
    contact_id = new_contact_id(client)
    automation_id = multientry_automation(client)
    sb.inject(Fault("hang", "POST", "/contactAutomations", commit=True, hang_seconds=0.05))
    with pytest.raises(httpx.ReadTimeout):
        client.post("/contactAutomations", json=enrollment(contact_id, automation_id))
    runs = runs_of(client, contact_id)
    assert [run["automation"] for run in runs] == [automation_id]


@pytest.mark.parametrize(
    "fault",
    [
        Fault("status", status=503, commit=True),
        Fault("reset", commit=True),
        Fault("empty", commit=True),
        Fault("malformed", commit=True),
    ],
    ids=lambda fault: fault.kind,
)
def test_commit_lands_for_every_kind(sb: Sandbox, client: httpx.Client, fault: Fault) -> None:
    contact_id = new_contact_id(client)
    automation_id = multientry_automation(client)
    sb.inject(fault)
    try:
        response = client.post("/contactAutomations", json=enrollment(contact_id, automation_id))
    except httpx.TransportError:
        pass
    else:
        assert response.status_code != 201
    assert len(runs_of(client, contact_id)) == 1


def test_fault_validation() -> None:
    assert Fault("empty").status == 200
    assert Fault("malformed").status == 200
    assert Fault("status").status == 500
    assert Fault("hang").method == "*"
    assert Fault("status", method="post").method == "POST"
    for bad in (
        {"kind": "explode"},
        {"kind": "status", "count": 0},
        {"kind": "status", "status": 99},
        {"kind": "hang", "hang_seconds": -1},
        {"kind": "status", "retry_after": "soon"},
        {"kind": "status", "commit": "yes"},
        {"kind": "status", "colour": "red"},
        {"status": 500},
        ["status"],
    ):
        with pytest.raises(ValueError):
            Fault.from_dict(bad)
    fault = Fault.from_dict({"kind": "status", "status": 503, "path": "/lists", "count": 2})
    assert fault == Fault("status", path="/lists", count=2, status=503)
    assert Fault.from_dict(fault.to_dict()) == fault


def test_reset_drops_faults_and_the_budget_window(sb: Sandbox, client: httpx.Client) -> None:
    sb.configure(rate_limit=1, rate_window=5.0)
    new_contact_id(client)
    sb.inject(Fault("status"))
    sb.reset()
    assert sb.pending_faults() == []
    assert client.get("/contacts", params={"email": "faulty@example.com"}).json()["contacts"] == []
    assert sb.config()["rate_limit"] == 1  # settings are kept
    assert sb.stats()["requests"] == 2  # and so are the counters


def test_close_wakes_a_hanging_request() -> None:
    sb = Sandbox()
    sb.inject(Fault("hang", hang_seconds=30))
    failures: list[BaseException] = []

    def call() -> None:
        with api_client(sb) as client:
            try:
                client.get("/lists")
            except httpx.ReadTimeout as error:
                failures.append(error)

    thread = threading.Thread(target=call)
    thread.start()
    time.sleep(0.05)
    started = time.monotonic()
    sb.close()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert time.monotonic() - started < 1
    assert len(failures) == 1


# -- over the loopback server ----------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with Sandbox() as sandbox, SandboxServer(sandbox, port=0) as running:
        yield running


@pytest.fixture
def http(server: SandboxServer) -> Iterator[httpx.Client]:
    headers = {"Api-Token": server.sandbox.api_key}
    with httpx.Client(base_url=server.base_url + "/api/3", headers=headers, timeout=0.5) as c:
        yield c


@pytest.fixture
def admin(server: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.admin_url, timeout=5) as c:
        yield c


def test_hang_over_http_times_the_client_out(server: SandboxServer, http: httpx.Client) -> None:
    server.sandbox.inject(Fault("hang", hang_seconds=1.5))
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        http.get("/lists")
    assert 0.5 <= time.monotonic() - started < 1.2
    assert http.get("/lists").status_code == 200  # on a new connection


def test_short_hang_over_http_closes_without_answer(
    server: SandboxServer, http: httpx.Client
) -> None:
    server.sandbox.inject(Fault("hang", hang_seconds=0.1))
    with pytest.raises(httpx.RemoteProtocolError):
        http.get("/lists")


def test_reset_over_http_drops_the_connection(server: SandboxServer, http: httpx.Client) -> None:
    assert http.get("/users/me").status_code == 200  # a kept-alive connection, then reset on it
    server.sandbox.inject(Fault("reset", count=2))
    for _ in range(2):
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError)):
            http.get("/lists")
    assert http.get("/lists").status_code == 200


def test_commit_over_http(server: SandboxServer, http: httpx.Client) -> None:
    contact_id = new_contact_id(http)
    automation_id = multientry_automation(http)
    server.sandbox.inject(Fault("reset", "POST", "/contactAutomations", commit=True))
    with pytest.raises(httpx.TransportError):
        http.post("/contactAutomations", json=enrollment(contact_id, automation_id))
    assert len(runs_of(http, contact_id)) == 1


def test_budget_and_faults_over_http(server: SandboxServer, http: httpx.Client) -> None:
    server.sandbox.inject(Fault("malformed"), Fault("status", status=503, retry_after=1))
    assert http.get("/lists").content == b'{"contact": '
    unavailable = http.get("/lists")
    assert (unavailable.status_code, unavailable.headers["Retry-After"]) == (503, "1")
    server.sandbox.configure(rate_limit=1, rate_window=5.0)
    refused = http.get("/lists")
    assert (refused.status_code, refused.json()) == (429, TOO_MANY)
    assert refused.headers["Retry-After"] == "5"


def test_admin_faults_and_stats(
    server: SandboxServer, http: httpx.Client, admin: httpx.Client
) -> None:
    assert server.admin_url == server.base_url + "/__sandbox"
    started = time.time()
    one = {"kind": "status", "status": 503, "path": "/lists", "retry_after": 1}
    created = admin.post("/faults", json=one)
    assert created.status_code == 201
    assert created.json()["faults"] == [
        Fault("status", path="/lists", status=503, retry_after=1).to_dict()
    ]
    more = [{"kind": "empty", "path": "/users/me"}, {"kind": "status", "count": 2}]
    assert len(admin.post("/faults", json=more).json()["faults"]) == 3
    assert len(admin.get("/faults").json()["faults"]) == 3

    assert http.get("/lists").status_code == 503
    assert http.get("/users/me").content == b""
    assert http.get("/tags").status_code == 500
    assert [f["count"] for f in admin.get("/faults").json()["faults"]] == [1]
    assert admin.delete("/faults").json() == {"faults": []}
    assert http.get("/tags").status_code == 200

    stats = admin.get("/stats")
    assert stats.status_code == 200
    body = stats.json()
    arrivals = body.pop("arrivals")
    assert body == {"requests": 4, "admitted": 4, "refused": 0, "faults_fired": 3}
    assert server.sandbox.request_count() == 4  # admin requests are not counted
    # The admitted requests' wall-clock arrival times, oldest first.
    assert arrivals == server.sandbox.arrivals()
    assert len(arrivals) == 4 and arrivals == sorted(arrivals)
    assert started <= arrivals[0] and arrivals[-1] <= time.time()


def test_admin_config_and_reset(
    server: SandboxServer, http: httpx.Client, admin: httpx.Client
) -> None:
    config = admin.post("/config", json={"rate_limit": 2, "rate_window": 5})
    assert config.json() == {"rate_limit": 2, "rate_window": 5.0, "latency": 0.0, "jitter": 0.0}
    assert admin.get("/config").json() == config.json()
    contact_id = new_contact_id(http)
    assert http.get(f"/contacts/{contact_id}").status_code == 200
    assert http.get(f"/contacts/{contact_id}").status_code == 429
    assert admin.get("/stats").json()["refused"] == 1

    assert admin.post("/reset").status_code == 200  # seed back, budget window forgotten
    assert http.get(f"/contacts/{contact_id}").status_code == 404
    assert admin.post("/config", json={"rate_limit": None}).json()["rate_limit"] is None


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/faults", b"{not json", 400),
        ("POST", "/faults", b'{"kind": "explode"}', 400),
        ("POST", "/faults", b'[{"kind": "status"}, {"kind": "status", "count": -1}]', 400),
        ("POST", "/config", b'{"rate_limit": -5}', 400),
        ("POST", "/config", b'{"speed": 11}', 400),
        ("POST", "/config", b"[1]", 400),
        ("GET", "/nothing", b"", 404),
        ("DELETE", "/stats", b"", 405),
        ("GET", "/reset", b"", 405),
    ],
)
def test_admin_rejects_bad_requests(
    server: SandboxServer, admin: httpx.Client, method: str, path: str, body: bytes, status: int
) -> None:
    response = admin.request(method, path, content=body)
    assert response.status_code == status
    assert isinstance(response.json()["message"], str)
    assert server.sandbox.pending_faults() == []  # a bad list injects nothing
    assert server.sandbox.config()["rate_limit"] is None


# -- command line ----------------------------------------------------------------------------


def test_cli_defaults_to_the_live_budget() -> None:
    args = parse_args([])
    assert (args.rate_limit, args.rate_window, args.latency, args.jitter) == (5, 1.0, 0.0, 0.0)
    assert parse_args(["--rate-limit", "0", "--latency", "30", "--jitter", "20"]).rate_limit == 0
    config = {"rate_limit": 5, "rate_window": 1.0, "latency": 0.03, "jitter": 0.02}
    assert describe(config) == "5 requests per 1 s, latency 30 ms + up to 20 ms"
    assert describe({**config, "rate_limit": None}).startswith("no rate limit")


@pytest.mark.parametrize("flags", [["--rate-limit", "-1"], ["--rate-window", "0"]])
def test_cli_rejects_bad_traffic_flags(flags: list[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(flags)
