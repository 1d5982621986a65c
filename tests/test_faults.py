"""Faults injected into the sandbox, seen through the runner and the log: the outcome, the
attempt count and the error are right, nothing is lost, and no retry enrolls twice."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import prompt_with

from connector import (
    ActionConfig,
    ActionType,
    Console,
    ErrorBehaviour,
    Interaction,
    RunResult,
    SimulatedUser,
    Status,
)
from connector.retry import RetryPolicy
from connector.sandbox import Fault, Sandbox

FAST = RetryPolicy(max_attempts=4, max_seconds=10, base_delay=0.01, max_delay=0.05)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as made:
        yield made


@pytest.fixture
def console(tmp_path: Path, sandbox: Sandbox) -> Iterator[Console]:
    made = Console(tmp_path / "c.db", env={}, sandbox=sandbox, retry=FAST)
    yield made
    made.close()


def automation_id(console: Console) -> str:
    return next(a.id for a in console.client().automations() if a.multientry)


def run(console: Console, *actions: ActionConfig, email: str = "f@x.io") -> RunResult:
    prompt = prompt_with(ActionConfig(ActionType.ADD_CONTACT), *actions)
    return console.runner().run(prompt, Interaction.ACCEPT, SimulatedUser(), {0: email})


def enroll(console: Console) -> ActionConfig:
    return ActionConfig(ActionType.ADD_TO_AUTOMATION, {"automation_id": automation_id(console)})


def enrollments(console: Console, result: RunResult) -> int:
    return len(console.client().contact_automations(result.contact_id))


def row(console: Console, result: RunResult, action_type: str) -> dict:
    return next(r for r in console.log.run(result.run_id) if r["action_type"] == action_type)


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_a_transient_status_is_retried_and_enrolls_once(console, sandbox, status) -> None:
    action = enroll(console)
    sandbox.inject(Fault("status", "POST", "/contactAutomations", status=status, retry_after=0.01))
    result = run(console, action)
    outcome = result.outcomes[-1]
    assert outcome.status is Status.SUCCEEDED and outcome.attempts == 2
    assert enrollments(console, result) == 1
    logged = row(console, result, "add_to_automation")
    assert (logged["status"], logged["attempts"]) == ("succeeded", 2)
    assert f"HTTP {status}" in logged["last_error"] or "rate limit" in logged["last_error"]


def test_a_lost_answer_after_the_write_landed_is_not_repeated(console, sandbox) -> None:
    action = enroll(console)
    sandbox.inject(Fault("hang", "POST", "/contactAutomations", commit=True, hang_seconds=0.01))
    result = run(console, action)
    outcome = result.outcomes[-1]
    assert outcome.status is Status.SUCCEEDED
    assert "earlier attempt went through" in outcome.note
    assert outcome.attempts == 1  # one POST sent; the check before the retry found it
    assert enrollments(console, result) == 1
    assert "did not answer in time" in row(console, result, "add_to_automation")["last_error"]


def test_a_reset_before_the_write_is_retried(console, sandbox) -> None:
    action = enroll(console)
    sandbox.inject(Fault("reset", "POST", "/contactAutomations"))
    result = run(console, action)
    assert result.outcomes[-1].status is Status.SUCCEEDED
    assert result.outcomes[-1].attempts == 2
    assert enrollments(console, result) == 1


def test_a_reset_after_a_tag_landed_is_not_repeated(console, sandbox) -> None:
    tag = console.client().tags()[0].id
    sandbox.inject(Fault("reset", "POST", "/contactTags", commit=True))
    result = run(console, ActionConfig(ActionType.ADD_TAG, {"tag_id": tag}))
    assert result.outcomes[-1].status is Status.SUCCEEDED
    assert len(console.client().contact_tags(result.contact_id)) == 1


def test_every_retry_checks_first_so_a_storm_still_enrolls_once(console, sandbox) -> None:
    action = enroll(console)
    sandbox.inject(
        Fault("hang", "POST", "/contactAutomations", commit=True, hang_seconds=0.01),
        Fault("status", "GET", "/contacts/*/contactAutomations", status=502),
        Fault("reset", "POST", "/contactAutomations", count=3),
    )
    result = run(console, action)
    assert result.outcomes[-1].status is Status.SUCCEEDED
    assert enrollments(console, result) == 1


def test_retries_give_up_after_the_attempt_cap_and_say_why(console, sandbox) -> None:
    sandbox.inject(Fault("status", "POST", "/contactLists", status=500, count=10))
    result = run(console, ActionConfig(ActionType.ADD_TO_LIST, {"list_id": "3"}))
    outcome = result.outcomes[-1]
    assert outcome.status is Status.FAILED and outcome.attempts == 4
    assert "HTTP 500" in outcome.error
    logged = row(console, result, "add_to_list")
    assert (logged["status"], logged["attempts"], logged["http_status"]) == ("failed", 4, 500)
    assert console.log.page().counts.get("pending", 0) == 0  # nothing left hanging


def test_an_empty_sync_answer_still_finds_the_contact(console, sandbox) -> None:
    sandbox.inject(Fault("empty", "POST", "/contact/sync", status=201, commit=True))
    result = run(console, ActionConfig(ActionType.ADD_TO_LIST, {"list_id": "3"}))
    assert [o.status for o in result.outcomes] == [Status.SUCCEEDED, Status.SUCCEEDED]
    assert result.contact_id
    assert [r["list"] for r in console.client().contact_lists(result.contact_id)] == ["3"]


def test_a_malformed_sync_answer_is_retried(console, sandbox) -> None:
    sandbox.inject(Fault("malformed", "POST", "/contact/sync", commit=True))
    result = run(console, ActionConfig(ActionType.ADD_TO_LIST, {"list_id": "3"}))
    sync = result.outcomes[0]
    assert sync.status is Status.SUCCEEDED and sync.attempts == 2
    assert "not JSON" in row(console, result, "add_contact")["last_error"]


def test_a_permanent_error_is_not_retried(console, sandbox) -> None:
    result = run(console, ActionConfig(ActionType.ADD_TO_LIST, {"list_id": "999999"}))
    assert result.outcomes[-1].status is Status.FAILED and result.outcomes[-1].attempts == 1


def test_eight_threads_stay_within_the_accounts_budget(tmp_path: Path) -> None:
    with Sandbox(rate_limit=10, rate_window=0.5) as sandbox:
        console = Console(tmp_path / "c.db", env={}, sandbox=sandbox, retry=FAST)
        tag = console.client().tags()[0].id
        action = ActionConfig(ActionType.ADD_TAG, {"tag_id": tag}, ErrorBehaviour.CONTINUE)
        results: list[RunResult] = []
        lock = threading.Lock()

        def worker(n: int) -> None:
            done = run(
                console,
                action,
                ActionConfig(ActionType.ADD_TO_LIST, {"list_id": "3"}),
                email=f"t{n}@x.io",
            )
            with lock:
                results.append(done)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sandbox.refused_count() == 0
        assert len(results) == 8
        assert all(o.status is Status.SUCCEEDED for r in results for o in r.outcomes)
        assert all(o.attempts == 1 for r in results for o in r.outcomes)
        console.close()
