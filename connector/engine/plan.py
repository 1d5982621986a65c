"""The plan of a run: every attempt it will make, in running order, before anything is sent.

* A definition never holds the same action on the same target twice (intake refuses it with
  the editor's own validation), so every planned attempt is its own.
* The contact is synced once (``POST /contact/sync``) before any action that needs its id. An
  Add Contact action *is* that sync, so it runs first wherever it sits in the list; without
  one, the plan adds the sync itself ("required by later actions").
* Without an email every action is planned skipped, with the reason.
* The actions after the sync run in segments: each segment ends with a Stop action, whose
  failure skips every later segment; within a segment nothing depends on anything else.

Planning is pure: it reads nothing and writes nothing. Intake writes the plan with its run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from connector.ac.actions import REGISTRY, ActionSpec
from connector.core.models import ActionType, ErrorBehaviour
from connector.core.records import Attempt, Reason, Run, Status
from connector.engage.prompts import ActionConfig

__all__ = ["NO_EMAIL", "Step", "plan_run", "segments"]

NO_EMAIL = (
    "No email: fill the form input mapped to Email (Accept and Secondary Accept submit the "
    "form), or give the user an email_address trait. ActiveCampaign needs an email to find "
    "the contact."
)


@dataclass
class Step:
    """One planned attempt with the configuration it came from."""

    config: ActionConfig
    attempt: Attempt

    @property
    def spec(self) -> ActionSpec:
        return REGISTRY[self.config.type]

    @classmethod
    def of(cls, attempt: Attempt) -> Step:
        """The step of a stored attempt (its configuration is part of its record)."""
        return cls(
            ActionConfig(attempt.action_type, dict(attempt.params), attempt.on_error), attempt
        )


def plan_run(run: Run, configs: list[ActionConfig], *, implicit_sync: bool = True) -> list[Step]:
    """The steps in running order, also set as ``run.attempts``: the sync first (explicit, or
    the plan's own when ``implicit_sync``), then the rest in their order."""
    steps = [_step(run, config, position) for position, config in enumerate(configs, start=1)]
    syncs = [s for s in steps if s.config.type is ActionType.ADD_CONTACT]
    others = [s for s in steps if s.config.type is not ActionType.ADD_CONTACT]
    if implicit_sync and not syncs and any(s.spec.contact == "sync" for s in others):
        sync = _step(run, ActionConfig(ActionType.ADD_CONTACT), 0)
        sync.attempt.implicit = True
        sync.attempt.target_name = "contact sync (required by later actions)"
        syncs = [sync]
    ordered = syncs + others
    if not run.contact_email:
        for step in ordered:
            if not step.attempt.done:
                step.attempt.finish(Status.SKIPPED, NO_EMAIL, code=Reason.NO_EMAIL)
    run.attempts = [s.attempt for s in ordered]
    return ordered


def _step(run: Run, config: ActionConfig, position: int) -> Step:
    spec = REGISTRY[config.type]
    target_id, target_name = spec.target(config.params)
    attempt = Attempt(
        run_id=run.run_id,
        position=position,
        action_type=config.type,
        label=spec.label,
        target_id=target_id,
        target_name=target_name,
        params=dict(config.params),
        on_error=config.on_error,
        contact_email=run.contact_email,
        job_id=run.job_id,
    )
    return Step(config, attempt)


def segments(steps: list[Step]) -> Iterator[list[Step]]:
    """Split after every Stop action: within a segment nothing depends on anything else."""
    segment: list[Step] = []
    for step in steps:
        segment.append(step)
        if step.config.on_error is ErrorBehaviour.STOP:
            yield segment
            segment = []
    if segment:
        yield segment
