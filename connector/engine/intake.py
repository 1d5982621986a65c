"""Intake: every entry point submits an interaction here, and nothing is sent before it is done.

The Simulator, ``simulate``, ``action``, ``test-action``, replays and the receiver all submit
the same thing: a prompt (its definition is snapshotted into the run), an interaction, a user
with traits, the form values, who acts, from where, on which account, and an idempotency key.
Intake then:

1. validates it in full: the stored definition (``check_runnable``: every action of the
   interaction has its target, ids are ids), the form values (only Accept and Secondary Accept
   submit the form), and the email the contact is found by, whether it came from the form or a
   trait. Refused input is a ``refused`` run with the sentence, recorded, never a traceback and
   never a half-sent run;
2. plans every attempt (``plan.plan_run``);
3. writes the run and its plan in one transaction (``ActionLog.record_plan``), born leased to
   the executor that is about to run it when there is one. A repeated idempotency key returns
   the first run instead (``Run.duplicate``).

A replay plans rows of an earlier run again, as a new run whose attempts point at the rows they
retry (``engine.replay`` decides which rows: those asked for and what their failure blocked).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from connector.core.errors import InputError
from connector.core.models import ActionType, Interaction
from connector.core.records import Attempt, Run, RunStatus, SimulatedUser
from connector.engage.contact import contact_payload
from connector.engage.forms import email_problem, validate_form
from connector.engage.prompts import ActionConfig, Prompt, check_runnable
from connector.engine.plan import plan_run
from connector.store.log import ActionLog

__all__ = ["Intake", "Submission"]


@dataclass(frozen=True)
class Submission:
    """One interaction of one user, as an entry point hands it in."""

    prompt: Prompt
    interaction: Interaction
    user: SimulatedUser
    form_values: Mapping[int, str] | None = None
    dry_run: bool = False
    idempotency_key: str = ""


class Intake:
    """Validates and records submissions for one account, operator and source. Thread-safe."""

    def __init__(self, log: ActionLog, *, account: str, operator: str, source: str) -> None:
        self.log = log
        self.account = account
        self.operator = operator
        self.source = source

    def _new_run(self, **fields: object) -> Run:
        return Run(
            run_id=uuid.uuid4().hex[:12],
            operator=self.operator,
            source=self.source,
            account=self.account,
            **fields,  # type: ignore[arg-type]
        )

    def submit(
        self, submission: Submission, *, lease_owner: str = "", lease_until: float | None = None
    ) -> Run:
        """The run for ``submission``, recorded with its plan (or refused, or the earlier run
        of the same idempotency key). Raises ``StorageError`` when it can't be recorded: then
        nothing is sent."""
        prompt, interaction = submission.prompt, submission.interaction
        run = self._new_run(
            prompt_id=prompt.id,
            prompt_name=prompt.name,
            interaction=interaction,
            user=submission.user,
            dry_run=submission.dry_run,
            idempotency_key=submission.idempotency_key,
            definition=prompt.to_dict(),
        )
        try:
            check_runnable(prompt, interaction)
        except InputError as exc:
            run.refusal = exc.message
            return self._record(run, lease_owner, lease_until)
        values: dict[int, str] | None = None  # None: this interaction does not submit the form
        if interaction.submits_form:
            check = validate_form(prompt.inputs, submission.form_values or {})
            values = check.values
            run.inputs = [
                {"label": form_input.label, "value": check.values.get(n, "")}
                for n, form_input in enumerate(prompt.inputs)
            ]
            run.input_errors = dict(check.errors)
            if run.input_errors:
                return self._record(run, lease_owner, lease_until)
        run.contact = contact_payload(prompt, values, submission.user)
        run.mapped = contact_payload(prompt, values, submission.user, defaults=False)
        run.contact_email = run.contact.get("email", "")
        # Form emails were validated above; a trait's (or a fixed value's) is checked here by
        # the same rule, before anything is sent with it.
        raw = submission.user.traits.get("email_address")
        problem = email_problem(raw) if raw not in (None, "") and "email" not in run.mapped else ""
        if not problem and run.contact_email:
            problem = email_problem(run.contact_email)
        if problem:
            run.refusal = f"The contact's email is refused: {problem}"
            return self._record(run, lease_owner, lease_until)
        plan_run(run, prompt.actions_for(interaction))
        return self._record(run, lease_owner, lease_until)

    def replay(
        self,
        original: Run,
        attempts: list[Attempt],
        *,
        job_id: str = "",
        dry_run: bool = False,
        lease_owner: str = "",
        lease_until: float | None = None,
    ) -> Run:
        """A new run that resumes ``original`` with ``attempts`` (rows of it, in order), with the
        original user, form values and contact payload. Each new attempt points at the row it
        retries. A row whose own verification is still due makes the replay wait for it
        (``run.next_at``): its request may still be in flight."""
        run = self._new_run(
            prompt_id=original.prompt_id,
            prompt_name=original.prompt_name,
            interaction=original.interaction,
            user=original.user,
            dry_run=dry_run,
            inputs=original.inputs,
            contact=original.contact or _contact_of(original),
            mapped=original.mapped,
            contact_email=original.contact_email,
            job_id=job_id,
            definition=original.definition,
        )
        chosen = sorted(attempts, key=lambda a: a.log_id or 0)
        configs = [ActionConfig(a.action_type, dict(a.params), a.on_error) for a in chosen]
        steps = plan_run(run, configs, implicit_sync=False)  # found by email, not synced again
        for step, retried in zip(steps, chosen, strict=True):
            step.attempt.retry_of = retried.log_id
            step.attempt.position = retried.position
            step.attempt.implicit = retried.implicit
            step.attempt.target_name = retried.target_name or step.attempt.target_name
        due = [a.verify_after for a in attempts if a.verify_after is not None]
        run.next_at = max(due) if due else None
        return self._record(run, lease_owner, lease_until)

    def _record(self, run: Run, lease_owner: str, lease_until: float | None) -> Run:
        run.conclude()
        if run.status is not RunStatus.PENDING:
            lease_owner, lease_until = "", None  # nothing left to execute
        elif run.next_at is None:
            run.next_at = 0.0  # due now: if its executor dies, a worker takes it up at once
        earlier = self.log.record_plan(run, lease_owner=lease_owner, lease_until=lease_until)
        if earlier is not None:
            earlier.duplicate = True
            return earlier
        return run


def _contact_of(run: Run) -> dict[str, object]:
    """The contact payload of a run logged before runs kept it: its sync's request body."""
    for attempt in run.attempts:
        body = (attempt.planned or {}).get("body") or {}
        if attempt.action_type is ActionType.ADD_CONTACT and isinstance(body.get("contact"), dict):
            return dict(body["contact"])
    return {"email": run.contact_email} if run.contact_email else {}
