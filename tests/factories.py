"""Small builders shared by the tests: prompts, actions, users, raw clients, a fake clock."""

from __future__ import annotations

import time

import httpx

from connector import (
    REGISTRY,
    ActionConfig,
    ActionLog,
    ActionType,
    Attempt,
    Console,
    ErrorBehaviour,
    FormInput,
    InputKind,
    Interaction,
    Prompt,
    Run,
    SimulatedUser,
    Status,
    custom_field_target,
)
from connector.sandbox import SANDBOX_URL, Sandbox

# Form inputs with the contact field each fills: (input, field).
Form = list[tuple[FormInput, str]]
EMAIL_ONLY: Form = [(FormInput("Email", kind=InputKind.EMAIL, id="email"), "email")]
EMAIL_NAME_COMPANY: Form = [
    *EMAIL_ONLY,
    (FormInput("First", id="first"), "firstName"),
    (FormInput("Company", id="company"), custom_field_target("1")),
]


def action(
    kind: ActionType,
    target: str = "",
    on_error: ErrorBehaviour = ErrorBehaviour.STOP,
    **options: bool,
) -> ActionConfig:
    params = REGISTRY[kind].params_for(target, f"T{target}" if target else "", **options)
    return ActionConfig(kind, params, on_error)


def prompt_with(*actions: ActionConfig, inputs: Form | None = None) -> Prompt:
    """A prompt whose Accept carries ``actions``, with ``inputs`` mapped to their fields."""
    prompt = Prompt(name="Test", actions={Interaction.ACCEPT: list(actions)})
    for form_input, target in EMAIL_ONLY if inputs is None else inputs:
        prompt.map_input(form_input, target)
    return prompt


def api_client(sb: Sandbox, key: str | None = None) -> httpx.Client:
    """A raw httpx client on the in-process sandbox (``key`` None: the right key)."""
    headers = {"Api-Token": key if key is not None else sb.api_key}
    return httpx.Client(transport=sb.transport(), base_url=SANDBOX_URL + "/api/3", headers=headers)


class FakeClock:
    """A clock whose ``sleep`` advances it instead of waiting: budgets, retries and backoff run
    through their waits in no time, and the test can read every wait."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def user(email: str = "", **traits: str) -> SimulatedUser:
    """A simulated user with an ``email_address`` trait (and any other traits)."""
    if email:
        traits["email_address"] = email
    return SimulatedUser("user-1", traits)


def settle(console: Console) -> None:
    """Let the settle delay pass on the console's fake clock, then let a worker do whatever is
    due, for as long as anything is."""
    clock = console.leases.clock
    assert isinstance(clock, FakeClock), "settle needs a console on a FakeClock"
    clock.now += console.settle_seconds + 1
    while console.work_on_due_run():
        pass


TEST_OWNER = "test-node/1/tests"  # the lease owner the log helpers below write runs under


def record_plan(log: ActionLog, run: Run, owner: str = TEST_OWNER) -> Run:
    """Write ``run`` and its whole plan (``run.attempts``, each made ``planned``) in one
    transaction, as intake does before anything is sent: every ``attempt.log_id`` set, the run
    leased to ``owner`` for 30 s so that ``mark_sending(log, attempt, run, owner)`` may send."""
    for attempt in run.attempts:
        attempt.status = Status.PLANNED
    earlier = log.record_plan(run, lease_owner=owner, lease_until=time.time() + 30)
    assert earlier is None, f"run {run.run_id} was already logged"
    assert all(attempt.log_id is not None for attempt in run.attempts)
    return run


def mark_sending(log: ActionLog, attempt: Attempt, run: Run, owner: str = TEST_OWNER) -> None:
    """Mark ``attempt`` pending (its request about to leave), as the executor holding the run
    does; fails the test if ``owner`` does not hold the run's lease."""
    run.lease_owner = owner
    assert log.mark_sending(attempt, run), f"{owner} does not hold run {run.run_id}"
