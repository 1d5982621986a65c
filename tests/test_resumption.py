"""Runs survive anything: ambiguous writes are verified, never resent blind; replays resume what a
failure blocked; and whatever kills a run at whatever step, workers finish it exactly once.

The crash property runs real processes (``crash_child.py``) that die like SIGKILL at a request
the test picks, before it reaches the account or after it was applied, then workers (each maybe
killed too) resume from what the store holds; the account ends as one clean run leaves it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
from factories import FakeClock, action, prompt_with, settle, user
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector import (
    ActionType,
    Console,
    ErrorBehaviour,
    Interaction,
    Reason,
    RunStatus,
    Status,
)
from connector.engine.intake import Submission
from connector.engine.replay import plan_replay
from connector.sandbox import Fault, Sandbox

TESTS = Path(__file__).resolve().parent


class LateLanding(Sandbox):
    """``POST /contactAutomations`` never answers in time: the client times out, and the request
    is applied later, when the test says (``land``): a slow account, seen from the client."""

    def __init__(self) -> None:
        super().__init__()
        self.late: list[httpx.Request] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/contactAutomations"):
            request.read()
            self.late.append(request)
            raise httpx.ReadTimeout("no answer in 10 s", request=request)
        return super().handle(request)

    def land(self) -> None:
        while self.late:
            super().handle(self.late.pop(0))


def multi_entry(console: Console) -> str:
    return next(a.id for a in console.client().automations() if a.multientry)


def enrollments(console: Console, contact_id: str) -> int:
    found = console.client().get(f"/contacts/{contact_id}/contactAutomations")
    return len(found["contactAutomations"])


def late_console(tmp_path: Path) -> tuple[Console, LateLanding]:
    sandbox = LateLanding()
    clock = FakeClock()
    console = Console(tmp_path / "late.db", env={}, sandbox=sandbox, clock=clock, sleep=clock.sleep)
    return console, sandbox


def test_an_answer_after_the_timeout_enrolls_once_with_a_verification_as_evidence(
    tmp_path: Path,
) -> None:
    console, sandbox = late_console(tmp_path)
    automation = multi_entry(console)  # re-entry possible: a blind resend would enroll twice
    prompt = prompt_with(action(ActionType.ADD_TO_AUTOMATION, automation))
    run = console.runner().run(prompt, Interaction.ACCEPT, user(), {0: "late@x.io"})
    enroll = run.attempts[-1]
    assert enroll.status is Status.UNKNOWN and enroll.attempts == 1
    assert enroll.reason_code is Reason.AWAITING_VERIFICATION
    assert run.status is RunStatus.PENDING
    assert console.work_on_due_run() is False  # not before the settle delay
    sandbox.land()  # the slow original is applied, seconds after the client gave up
    settle(console)
    done = console.log.run(run.run_id)
    assert done is not None and done.status is RunStatus.SUCCEEDED
    enroll = done.attempts[-1]
    assert enroll.status is Status.SUCCEEDED and enroll.reason_code is Reason.VERIFIED
    assert enroll.attempts == 1 and enroll.evidence == enroll.checks[-1].exchange
    assert enroll.checks[-1].purpose == "verification after the settle delay"
    assert enrollments(console, done.contact_id) == 1
    console.close()


def test_a_replay_of_a_row_whose_request_may_be_in_flight_waits_for_its_verification(
    tmp_path: Path,
) -> None:
    console, sandbox = late_console(tmp_path)
    automation = multi_entry(console)
    prompt = prompt_with(action(ActionType.ADD_TO_AUTOMATION, automation))
    run = console.runner().run(prompt, Interaction.ACCEPT, user(), {0: "wait@x.io"})
    in_doubt = run.attempts[-1]
    plan = plan_replay(console.log, [in_doubt.log_id or 0], account="sandbox")
    (group,) = plan.groups
    replay = console.runner(source="replay").replay(group.run, group.replayed)
    assert replay.status is RunStatus.PENDING and replay.next_at == in_doubt.verify_after
    assert replay.attempts[0].status is Status.PLANNED  # nothing sent: it waits
    sandbox.land()
    settle(console)  # the original is verified first, then the replay runs and finds it
    original = console.log.run(run.run_id)
    replayed = console.log.run(replay.run_id)
    assert original is not None and replayed is not None
    assert original.attempts[-1].reason_code is Reason.VERIFIED
    assert replayed.attempts[0].status is Status.SKIPPED
    assert replayed.attempts[0].reason_code is Reason.ALREADY_DONE
    assert enrollments(console, original.contact_id) == 1
    console.close()


def test_a_replay_of_a_stop_failure_runs_what_it_blocked(console: Console) -> None:
    automation = multi_entry(console)
    prompt = prompt_with(
        action(ActionType.ADD_TO_AUTOMATION, automation, ErrorBehaviour.STOP),
        action(ActionType.ADD_TAG, "1", ErrorBehaviour.CONTINUE),
    )
    console.sandbox.inject(Fault("status", "POST", "/contactAutomations", status=500, count=4))
    run = console.runner().run(prompt, Interaction.ACCEPT, user(), {0: "stop@x.io"})
    _, enroll, tag = run.attempts
    assert enroll.status is Status.FAILED and tag.reason_code is Reason.STOPPED
    plan = plan_replay(console.log, [enroll.log_id or 0], account="sandbox")
    (group,) = plan.groups
    assert [a.log_id for a in group.carried] == [tag.log_id]  # the blocked tag goes too
    replay = console.runner(source="replay").replay(group.run, group.replayed)
    assert [(a.retry_of, a.status) for a in replay.attempts] == [
        (enroll.log_id, Status.SUCCEEDED),
        (tag.log_id, Status.SUCCEEDED),
    ]
    assert replay.status is RunStatus.SUCCEEDED
    again = plan_replay(console.log, [enroll.log_id or 0, tag.log_id or 0], account="sandbox")
    assert not again.groups  # both are done: nothing left to replay, and it says why
    assert len(again.refused) == 2
    console.close()


def test_two_workers_never_take_the_same_run(tmp_path: Path) -> None:
    console, sandbox = late_console(tmp_path)
    prompt = prompt_with(action(ActionType.ADD_TO_AUTOMATION, multi_entry(console)))
    run = console.runner().run(prompt, Interaction.ACCEPT, user(), {0: "two@x.io"})
    sandbox.land()
    clock = console.leases.clock
    assert isinstance(clock, FakeClock)
    clock.now += console.settle_seconds + 1
    taken: list[str | None] = []
    barrier = threading.Barrier(4)

    def take() -> None:
        barrier.wait()
        taken.append(console.leases.take_due_run(f"worker-{threading.get_ident()}"))

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(t for t in taken if t) == [run.run_id]  # one of four took it
    console.close()


# -- crashes at every step ----------------------------------------------------------------------

CRASH = st.tuples(st.integers(1, 9), st.sampled_from(["before", "after"]))


def child(job: dict[str, Any]) -> int:
    done = subprocess.run(
        [sys.executable, str(TESTS / "crash_child.py"), json.dumps(job)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode in (0, 9), done.stderr[-3000:]
    return done.returncode


def account_state(console: Console, email: str) -> dict[str, Any]:
    client = console.client()
    (contact,) = client.get("/contacts", {"email": email})["contacts"]

    def ids(path: str, field: str) -> list[str]:
        rows = client.get(f"/contacts/{contact['id']}/{path}")[path]
        return sorted(str(row[field]) for row in rows)

    return {
        "firstName": contact.get("firstName"),
        "lists": ids("contactLists", "list"),
        "automations": ids("contactAutomations", "automation"),
        "tags": ids("contactTags", "tag"),
    }


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(crashes=st.lists(CRASH, min_size=1, max_size=2))
def test_crashes_at_any_step_end_as_one_clean_run(
    tmp_path_factory: Any, crashes: list[tuple[int, str]]
) -> None:
    folder = tmp_path_factory.mktemp("crash")
    db, account = folder / "connector.db", folder / "sandbox.db"
    setup = Console(db, env={}, sandbox=Sandbox(account))
    automation = multi_entry(setup)
    prompt = prompt_with(
        action(ActionType.ADD_TO_LIST, "3", ErrorBehaviour.STOP),
        action(ActionType.ADD_TO_AUTOMATION, automation, ErrorBehaviour.STOP),
        action(ActionType.ADD_TAG, "1", ErrorBehaviour.CONTINUE),
    )
    prompt.name = "Crash test"
    setup.save_prompt(prompt)
    base = {"db": str(db), "sandbox": str(account), "email": "crash@x.io"}
    first, *later = crashes
    child({**base, "role": "run", "crash_at": first[0], "when": first[1]})
    ahead, step = 0.0, setup.leases.seconds + setup.settle_seconds + 1
    deaths = [*later]
    for _ in range(len(later) + 3):  # each turn after a death finishes or moves the run on
        (crashed,) = setup.log.runs()
        if crashed.status is not RunStatus.PENDING:
            break
        ahead += step  # past every lease of the dead and every settle delay due so far
        crash_at, when = deaths.pop(0) if deaths else (None, "before")
        child({**base, "role": "work", "ahead": ahead, "crash_at": crash_at, "when": when})
    (crashed,) = setup.log.runs()
    assert crashed.status is RunStatus.SUCCEEDED, [
        (a.label, a.status.value, a.reason) for a in crashed.attempts
    ]
    assert all(a.done for a in crashed.attempts)
    clean = setup.runner().run(prompt, Interaction.ACCEPT, user(), {0: "clean@x.io"})
    assert clean.status is RunStatus.SUCCEEDED
    assert account_state(setup, "crash@x.io") == account_state(setup, "clean@x.io")
    setup.close()


def test_another_run_waits_while_a_lost_answer_to_the_same_target_is_in_doubt(
    tmp_path: Path,
) -> None:
    """A second click on the same contact and automation, seconds after the first one's answer
    was lost: it must not send (the first may still land); it waits for that verification,
    then finds the enrollment and skips. One enrollment, even in a multi-entry automation."""
    console, sandbox = late_console(tmp_path)
    prompt = prompt_with(action(ActionType.ADD_TO_AUTOMATION, multi_entry(console)))
    first = console.runner().run(prompt, Interaction.ACCEPT, user(), {0: "twice@x.io"})
    second = console.runner().run(prompt, Interaction.ACCEPT, user(), {0: "twice@x.io"})
    waiting = second.attempts[-1]
    assert waiting.status is Status.PLANNED and waiting.verify_after is not None
    assert first.run_id in waiting.reason and waiting.tries == []
    assert len(sandbox.late) == 1  # the second sent nothing
    sandbox.land()
    settle(console)
    done_first, done_second = console.log.run(first.run_id), console.log.run(second.run_id)
    assert done_first is not None and done_second is not None
    assert done_first.attempts[-1].reason_code is Reason.VERIFIED
    assert done_second.attempts[-1].status is Status.SKIPPED
    assert done_second.attempts[-1].reason_code is Reason.ALREADY_DONE
    assert done_second.status is RunStatus.SUCCEEDED
    assert enrollments(console, done_first.contact_id) == 1
    console.close()


def test_two_executors_in_one_process_are_two_lease_owners(tmp_path: Path) -> None:
    """The Simulator's thread and the dashboard's worker share a process: when one's lease on a
    run has run out and the other took the run, the first may send nothing more."""
    console, _ = late_console(tmp_path)
    first = console.heartbeat.token()
    prompt = prompt_with(action(ActionType.ADD_TAG, "1"))
    # A run planned under one token whose lease ran out; another token takes it.
    again = console.runner().intake.submit(
        Submission(prompt, Interaction.ACCEPT, user(), {0: "fence2@x.io"}),
        lease_owner=first,
        lease_until=console.leases.clock() - 1,  # expired
    )
    second = console.heartbeat.token()
    assert console.leases.take_due_run(second) == again.run_id
    again.lease_owner = first
    sync = again.attempts[0]
    assert console.log.mark_sending(sync, again) is False  # fenced out: nothing is sent
    again.lease_owner = second
    assert console.log.mark_sending(sync, again) is True
    console.close()
