"""Runs one interaction of one user through its actions, recording every step.

Order of a run:
1. Only Accept and Secondary Accept submit the form: their form values are validated, and a
   refusal ends the run before anything is sent (the run is still recorded, as ``refused``).
   Decline, Dismiss and Timeout carry the user's traits alone; what was typed is not sent.
2. The email comes from the input mapped to ``email`` (when the form was submitted), else the
   user's ``email_address`` trait. Without one, every action is skipped with that reason.
3. The same action on the same target twice in one interaction runs once: the later one is
   recorded as merged.
4. The contact is synced once (``POST /contact/sync``) before any action that needs its id. An
   Add Contact action *is* that sync, so it runs first wherever it sits in the list; without
   one, the runner adds the sync itself ("required by later actions").
5. The remaining actions run concurrently up to and including the next Stop action; if that
   one fails, everything after it is skipped. Continue failures skip nothing.

Each action that is not safe to repeat claims its contact and target (``claims``), checks where
the contact is, and only then sends; a retry after an answer that may have been lost checks
first, and recognises its own write by a row that was not there before. Every answer must show
the change (``ActionSpec.proof``); an outcome that cannot be established is ``unknown``, never a
success. A dry run sends nothing but performs the same read-only checks, so it predicts which
actions would be skipped and why.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, replace
from itertools import count
from typing import Any

from connector.ac.actions import (
    CONTACT_ID_PLACEHOLDER,
    REGISTRY,
    ActionSpec,
    Presence,
    Reads,
    RunContext,
)
from connector.ac.actions.base import object_in
from connector.ac.client import AcClient
from connector.core.errors import ApiError, StorageError, clip
from connector.core.models import ActionType, ErrorBehaviour, Interaction, api_id
from connector.core.records import Attempt, Check, Exchange, Reason, Run, SimulatedUser, Status
from connector.engage.contact import contact_payload
from connector.engage.forms import validate_form
from connector.engage.prompts import ActionConfig, Prompt
from connector.engine.claims import ClaimBusy, ClaimKey, Claims
from connector.store.log import ActionLog, AlreadyReplayed

__all__ = ["Runner"]

_NO_EMAIL = (
    "No email: fill the form input mapped to Email (Accept and Secondary Accept submit the "
    "form), or give the user an email_address trait. ActiveCampaign needs an email to find "
    "the contact."
)


@dataclass
class _Step:
    config: ActionConfig
    attempt: Attempt

    @property
    def spec(self) -> ActionSpec:
        return REGISTRY[self.config.type]


class Runner:
    """Runs interactions against one account. Thread-safe when its client and log are."""

    def __init__(
        self,
        client: AcClient,
        log: ActionLog,
        claims: Claims,
        *,
        account: str,
        operator: str = "",
        source: str = "simulator",
    ) -> None:
        self.client = client
        self.log = log
        self.claims = claims
        self.account = account
        self.operator = operator
        self.source = source

    def run(
        self,
        prompt: Prompt,
        interaction: Interaction,
        user: SimulatedUser,
        form_values: Mapping[int, str] | None = None,
        *,
        dry_run: bool = False,
    ) -> Run:
        """Run ``interaction`` of ``prompt`` for ``user``. Raises ``StorageError`` only when the
        run can't be recorded before anything is sent; every later failure is in the record."""
        run = Run(
            run_id=uuid.uuid4().hex[:12],
            prompt_id=prompt.id,
            prompt_name=prompt.name,
            interaction=interaction,
            user=user,
            dry_run=dry_run,
            operator=self.operator,
            source=self.source,
            account=self.account,
        )
        values: dict[int, str] | None = None  # None: this interaction does not submit the form
        if interaction.submits_form:
            check = validate_form(prompt.inputs, form_values or {})
            values = check.values
            run.inputs = [
                {"label": form_input.label, "value": check.values.get(n, "")}
                for n, form_input in enumerate(prompt.inputs)
            ]
            if not check.ok:
                run.input_errors = check.errors
                run.conclude()
                self.log.finish_run(run)
                return run
        run.contact = contact_payload(prompt, values, user)
        run.mapped = contact_payload(prompt, values, user, defaults=False)
        run.contact_email = run.contact.get("email", "")
        return self._start(run, self._plan(run, prompt.actions_for(interaction)))

    def replay(
        self, original: Run, attempts: list[Attempt], *, job_id: str = "", dry_run: bool = False
    ) -> Run:
        """Run ``attempts`` (rows of ``original``) again as a new run with the original user,
        form values and contact payload. Each new attempt points at the one it retries; the
        usual checks, claims and proofs apply, and a replay never repeats an action that is
        already in place, whatever its re-entry option says."""
        run = Run(
            run_id=uuid.uuid4().hex[:12],
            prompt_id=original.prompt_id,
            prompt_name=original.prompt_name,
            interaction=original.interaction,
            user=original.user,
            dry_run=dry_run,
            operator=self.operator,
            source=self.source,
            account=self.account,
            inputs=original.inputs,
            contact=original.contact or _contact_of(original),
            mapped=original.mapped,
            contact_email=original.contact_email,
            job_id=job_id,
        )
        originals = sorted(attempts, key=lambda a: a.position)
        configs = [ActionConfig(a.action_type, dict(a.params), a.on_error) for a in originals]
        steps = self._plan(run, configs, implicit_sync=False)  # found by email, not synced again
        for step in steps:
            retried = originals[step.attempt.position - 1]  # positions count from 1
            step.attempt.job_id = job_id
            step.attempt.retry_of = retried.log_id
            step.attempt.position = retried.position
        return self._start(run, steps)

    def _start(self, run: Run, steps: list[_Step]) -> Run:
        self.log.start_run(run)
        try:
            self._execute(run, steps, RunContext(run.contact, "", mapped=run.mapped))
        finally:
            run.conclude()
            self.log.finish_run(run)
        return run

    # -- planning ---------------------------------------------------------------------------------

    def _plan(
        self, run: Run, configs: list[ActionConfig], *, implicit_sync: bool = True
    ) -> list[_Step]:
        """The steps in running order: the sync first (explicit, or the runner's own when
        ``implicit_sync``), then the rest in their order, a repeated action on the same target
        marked merged."""
        steps: list[_Step] = []
        seen: dict[tuple[ActionType, str], int] = {}
        for position, config in enumerate(configs, start=1):
            step = self._step(run, config, position)
            key = (config.type, step.attempt.target_id)
            if key in seen:
                step.attempt.finish(
                    Status.SKIPPED,
                    f"Merged: action {seen[key]} is the same {step.spec.label}"
                    + (f" on {step.attempt.target}" if step.attempt.target_id else "")
                    + ", so it runs once.",
                    code=Reason.MERGED,
                )
            else:
                seen[key] = position
            steps.append(step)
        syncs = [s for s in steps if s.config.type is ActionType.ADD_CONTACT]
        others = [s for s in steps if s.config.type is not ActionType.ADD_CONTACT]
        if implicit_sync and not syncs and any(s.spec.contact == "sync" for s in others):
            sync = self._step(run, ActionConfig(ActionType.ADD_CONTACT), 0)
            sync.attempt.implicit = True
            sync.attempt.target_name = "contact sync (required by later actions)"
            syncs = [sync]
        ordered = syncs + others
        run.attempts = [s.attempt for s in ordered]
        return ordered

    def _step(self, run: Run, config: ActionConfig, position: int) -> _Step:
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
        )
        return _Step(config, attempt)

    # -- running ----------------------------------------------------------------------------------

    def _execute(self, run: Run, steps: list[_Step], contact: RunContext) -> None:
        for step in steps:
            if step.attempt.done:  # merged
                self.log.finish(step.attempt, run)
        live = [s for s in steps if not s.attempt.done]
        if not live:
            return
        if not run.contact_email:
            self._skip_all(run, live, _NO_EMAIL, Reason.NO_EMAIL)
            return
        first: _Step | None = live[0]
        rest = live[1:]
        if live[0].config.type is not ActionType.ADD_CONTACT:
            first, rest = None, live  # nothing needs the contact id: no sync
            if any(s.spec.contact == "sync" for s in rest):  # a replay: find it instead
                found = self._find_contact(run, rest, contact)
                if found is None:
                    return
                contact = found
        if run.dry_run:
            self._predict(run, first, rest, contact)
            return
        context = contact
        if first is not None:
            self._perform(run, first, context)
            if first.attempt.status is not Status.SUCCEEDED:
                doubt = "whether the contact sync went through is unknown"
                why = doubt if first.attempt.status is Status.UNKNOWN else "the contact sync failed"
                self._skip_all(
                    run, rest, f"Not run: {why}, so there is no contact id.", Reason.NO_CONTACT
                )
                return
            run.contact_id = first.attempt.contact_id
            context = replace(contact, contact_id=run.contact_id)
        stopped = ""
        for segment in _segments(rest):
            if stopped:
                self._skip_all(run, segment, stopped, Reason.STOPPED)
                continue
            self._concurrently(segment, lambda step: self._perform(run, step, context))
            last = segment[-1]
            if last.config.on_error is ErrorBehaviour.STOP:
                if last.attempt.status is Status.FAILED:
                    stopped = f"Not run: “{last.attempt.label}” failed"
                elif last.attempt.status is Status.UNKNOWN:
                    stopped = f"Not run: the outcome of “{last.attempt.label}” is unknown"
                stopped += " and its error behaviour is Stop." if stopped else ""

    def _find_contact(self, run: Run, steps: list[_Step], contact: RunContext) -> RunContext | None:
        """The contact a replay acts on, found by email (a read): replaying an action must not
        sync the contact again. None, with every step skipped and why, when it isn't there."""
        reads = Reads(self.client)
        failed: ApiError | None = None
        contact_id = ""
        try:
            contact_id, _ = reads.contact(contact)
        except ApiError as exc:
            failed = exc
        if failed is not None:
            finding = f"The lookup of the contact by email failed: {failed.message}"
        elif contact_id:
            finding = f"Found contact #{contact_id} by email."
        else:
            finding = (
                "No contact has this email: replay the Add Contact of the original run first "
                "(or with it)."
            )
        check = Check("to find the contact", tuple(reads.exchanges), finding, bool(contact_id))
        for step in steps:
            step.attempt.checks.append(check)
            if not contact_id:
                status = Status.FAILED if failed else Status.SKIPPED
                code = Reason.CHECK_FAILED if failed else Reason.NO_CONTACT
                step.attempt.finish(status, f"Not sent: {finding}", code=code)
                self.log.finish(step.attempt, run)
        if not contact_id:
            return None
        run.contact_id = contact_id
        return replace(contact, contact_id=contact_id)

    def _skip_all(self, run: Run, steps: list[_Step], reason: str, code: Reason) -> None:
        for step in steps:
            step.attempt.finish(Status.SKIPPED, reason, code=code)
            self.log.finish(step.attempt, run)

    @staticmethod
    def _concurrently(steps: list[_Step], work: Callable[[_Step], None]) -> None:
        if len(steps) == 1:
            work(steps[0])
            return
        with ThreadPoolExecutor(len(steps), thread_name_prefix="ac-action") as pool:
            list(pool.map(work, steps))

    def _perform(self, run: Run, step: _Step, context: RunContext) -> None:
        """One action, start to recorded outcome."""
        attempt, spec = step.attempt, step.spec
        attempt.contact_id = context.contact_id
        started = time.perf_counter()
        try:
            self.log.start(attempt, run)
        except AlreadyReplayed as exc:
            attempt.finish(Status.SKIPPED, exc.message, code=Reason.ALREADY_REPLAYED)
            self.log.finish(attempt, run)
            return
        except StorageError as exc:
            attempt.finish(
                Status.FAILED,
                "Not sent: the action log can't be written, and nothing is sent without a "
                f"record. {exc.message}",
                code=Reason.NOT_RECORDED,
            )
            attempt.unrecorded = exc.message
            return
        try:
            with self._claim(run, attempt, spec):
                self._act(attempt, spec, context)
                attempt.duration_ms = round((time.perf_counter() - started) * 1000, 1)
                self.log.finish(attempt, run)  # before the claim goes: the next one reads it
        except ClaimBusy as exc:
            attempt.finish(Status.SKIPPED, exc.message, code=Reason.BUSY)
            self.log.finish(attempt, run)
        except StorageError as exc:  # the data file failed mid-way (a budget slot, a claim)
            if not attempt.done:
                if attempt.tries:
                    attempt.finish(
                        Status.UNKNOWN,
                        f"The console's data file failed after the request was sent, so whether "
                        f"it was applied was not checked. {exc.message}",
                    )
                else:
                    attempt.finish(Status.FAILED, f"Not sent: {exc.message}")
            self.log.finish(attempt, run)
        except BaseException as exc:
            if not attempt.done:  # never leave a started action pending in silence
                attempt.finish(
                    Status.UNKNOWN,
                    f"The console failed while running this action ({type(exc).__name__}: "
                    f"{clip(str(exc))}); whether ActiveCampaign received it is unknown. Check "
                    "the contact.",
                )
                self.log.finish(attempt, run)
            raise

    def _claim(self, run: Run, attempt: Attempt, spec: ActionSpec) -> Any:
        if not spec.check_first:
            return nullcontext()
        key = ClaimKey(
            self.account, run.contact_email, attempt.action_type.value, attempt.target_id
        )
        return self.claims.hold(key, run.run_id)

    def _act(self, attempt: Attempt, spec: ActionSpec, context: RunContext) -> None:
        """Check, send, retry and conclude; fills ``attempt``."""
        params = attempt.params
        self._plan_into(attempt, spec, context)
        before: Presence | None = None
        if spec.check_first:
            before = self._check(attempt, spec, context, "before sending")
            if before is None:
                attempt.finish(
                    Status.FAILED,
                    "Not sent: could not check whether the contact is already there. "
                    + attempt.checks[-1].finding,
                    code=Reason.CHECK_FAILED,
                )
                return
            shown = attempt.checks[-1].exchange
            if before.blocked and not spec.allows_unblock(params):
                attempt.finish(Status.SKIPPED, before.blocked, code=Reason.BLOCKED, evidence=shown)
                return
            repeat = spec.allows_repeat(params) and attempt.retry_of is None
            if before.present and not repeat:
                attempt.finish(Status.SKIPPED, before.sentence, code=spec.done, evidence=shown)
                return
            # What the check found to act on (the tag to remove, the contact to update).
            context = replace(context, targets=before.targets)
            if before.contact_id:
                attempt.contact_id = before.contact_id
        planned = self._plan_into(attempt, spec, context)
        verify = spec.proof(params, context)
        started = self.client.clock()
        in_doubt: ApiError | None = None  # a failure after which the write may have landed
        for number in count(1):
            if in_doubt is not None and before is not None:
                if self._landed(attempt, spec, context, before, in_doubt, "after a lost answer"):
                    return
                in_doubt = None
            try:
                done = self.client.send(
                    planned.method, planned.path, body=planned.body, verify=verify
                )
            except ApiError as exc:
                if exc.exchange is not None:
                    attempt.tries.append(exc.exchange)
                in_doubt = exc if exc.may_have_landed else in_doubt
                delay = self.client.retry.next_delay(number, exc, self.client.clock() - started)
                if delay is None:
                    self._give_up(attempt, spec, context, before, exc, in_doubt)
                    return
                self.client.sleep(delay)
                continue
            attempt.tries.append(done)
            if spec.confirm:  # the answer can't show the change: a check must
                self._confirm(attempt, spec, context, done)
                return
            note = f"Succeeded on try {number}." if number > 1 else ""
            attempt.finish(Status.SUCCEEDED, note, evidence=done)
            if spec.type is ActionType.ADD_CONTACT:  # its proof saw to an id
                attempt.contact_id = (
                    api_id(object_in(done.response_body, "contact").get("id")) or ""
                )
            return

    def _plan_into(self, attempt: Attempt, spec: ActionSpec, context: RunContext) -> Any:
        planned = spec.plan(attempt.params, context)
        attempt.planned = _planned(self.client, planned.method, planned.path, planned.body)
        return planned

    def _confirm(
        self, attempt: Attempt, spec: ActionSpec, context: RunContext, answer: Exchange
    ) -> None:
        """A 2xx whose body can't show the change (``{}``): read again and conclude from that."""
        said = f"ActiveCampaign answered HTTP {answer.status}"
        after = self._check(attempt, spec, context, "after sending, to confirm")
        if after is None:
            attempt.finish(
                Status.UNKNOWN,
                f"{said}, but the check that would confirm it failed. "
                f"{attempt.checks[-1].finding} Check the contact in ActiveCampaign.",
            )
        elif after.present:
            attempt.finish(
                Status.SUCCEEDED,
                f"{said}; a check confirms it: {after.sentence}",
                evidence=attempt.checks[-1].exchange,
            )
        else:
            attempt.finish(
                Status.FAILED,
                f"{said}, but a check shows it was not applied: {after.sentence}",
                evidence=attempt.checks[-1].exchange,
            )

    def _give_up(
        self,
        attempt: Attempt,
        spec: ActionSpec,
        context: RunContext,
        before: Presence | None,
        error: ApiError,
        in_doubt: ApiError | None,
    ) -> None:
        """No more tries: failed, unless a try may have landed; then the check decides."""
        if in_doubt is None:
            attempt.finish(Status.FAILED, error.message)
            return
        self._landed(attempt, spec, context, before, error, "before reporting")
        if not attempt.done:
            attempt.finish(Status.FAILED, f"{error.message} {attempt.checks[-1].finding}")

    def _landed(
        self,
        attempt: Attempt,
        spec: ActionSpec,
        context: RunContext,
        before: Presence | None,
        error: ApiError,
        purpose: str,
    ) -> bool:
        """Check whether a try whose answer was lost went through. True (and the attempt
        finished) when it did, or when that can't be known; False when it did not."""
        after = self._check(attempt, spec, context, purpose)
        if after is None:
            attempt.finish(
                Status.UNKNOWN,
                f"{error.message} Whether it was applied is unknown: the check that would tell "
                f"failed too. {attempt.checks[-1].finding} Check the contact in ActiveCampaign "
                "before retrying.",
            )
            return True
        if before is None:
            # An upsert, not checked before sending: whether one of its tries or an earlier
            # write put the values there can't be told, but the contact holds what was sent.
            if not after.present:
                return False
            why = f"{error.message} But a check shows the contact as sent: {after.sentence}"
            attempt.finish(Status.SUCCEEDED, why, code=Reason.CONFIRMED)
        else:
            if not after.found - before.found:  # a row that was not there before is ours
                return False
            why = f"{error.message} But a try went through: {after.sentence}"
            attempt.finish(Status.SUCCEEDED, why, code=Reason.LANDED_EARLIER)
        attempt.evidence = attempt.checks[-1].exchange
        if spec.type is ActionType.ADD_CONTACT:
            attempt.contact_id = after.contact_id
        return True

    def _check(
        self, attempt: Attempt, spec: ActionSpec, context: RunContext, purpose: str
    ) -> Presence | None:
        """Run the action's check and keep it in the record; None when the read failed."""
        reads = Reads(self.client)
        try:
            presence = spec.check(reads, attempt.params, context)
        except ApiError as exc:
            finding = f"The check failed: {exc.message}"
            attempt.checks.append(Check(purpose, tuple(reads.exchanges), finding, None))
            return None
        check = Check(purpose, tuple(reads.exchanges), presence.sentence, presence.present)
        attempt.checks.append(check)
        return presence

    # -- dry run ----------------------------------------------------------------------------------

    def _predict(
        self, run: Run, sync: _Step | None, rest: list[_Step], contact: RunContext
    ) -> None:
        """Send nothing; look up the contact and run each action's check, so the dry run says
        which actions would be sent and which skipped, and why."""
        context = contact  # without a sync, each action finds the contact by email itself
        if sync is not None:
            found = self._check(sync.attempt, sync.spec, contact, "dry run")
            contact_id = found.contact_id if found is not None else ""
            if found is None:
                why = "Would be sent; whether the contact exists could not be checked."
            elif contact_id:
                why = f"Would update the existing contact #{contact_id}."
            else:
                why = "Would create the contact: no contact has this email yet."
            self._dry(run, sync, replace(contact, contact_id=contact_id), why)
            context = replace(contact, contact_id=contact_id or CONTACT_ID_PLACEHOLDER)
        self._concurrently(rest, lambda step: self._predict_one(run, step, context))

    def _predict_one(self, run: Run, step: _Step, context: RunContext) -> None:
        spec, params = step.spec, step.attempt.params
        if context.contact_id == CONTACT_ID_PLACEHOLDER:
            if spec.contact == "lookup":  # the sync would create it: nothing on it to change
                why = "Would be skipped: the contact does not exist yet, so there is nothing to do."
                self._dry(run, step, context, why, spec.done)
            else:
                self._dry(run, step, context, "Would be sent: the contact does not exist yet.")
            return
        found = self._check(step.attempt, spec, context, "dry run")
        if found is None:
            why = "Would not be sent: the check for a duplicate failed, as a live run's would."
            self._dry(run, step, context, why, Reason.CHECK_FAILED)
        elif found.blocked and not spec.allows_unblock(params):
            self._dry(run, step, context, f"Would be skipped: {found.blocked}", Reason.BLOCKED)
        elif found.present and not spec.allows_repeat(params):
            self._dry(run, step, context, f"Would be skipped: {found.sentence}", spec.done)
        else:
            acting = replace(context, targets=found.targets)
            self._dry(run, step, acting, f"Would be sent: {found.sentence}")

    def _dry(
        self, run: Run, step: _Step, context: RunContext, why: str, code: Reason | None = None
    ) -> None:
        planned = step.spec.plan(step.attempt.params, context)
        step.attempt.planned = _planned(self.client, planned.method, planned.path, planned.body)
        step.attempt.contact_id = (
            "" if context.contact_id == CONTACT_ID_PLACEHOLDER else context.contact_id
        )
        step.attempt.finish(Status.DRY_RUN, why, code=code)
        self.log.finish(step.attempt, run)


def _contact_of(run: Run) -> dict[str, Any]:
    """The contact payload of a run logged before runs kept it: its sync's request body."""
    for attempt in run.attempts:
        body = (attempt.planned or {}).get("body") or {}
        if attempt.action_type is ActionType.ADD_CONTACT and isinstance(body.get("contact"), dict):
            return dict(body["contact"])
    return {"email": run.contact_email} if run.contact_email else {}


def _planned(client: AcClient, method: str, path: str, body: Any) -> dict[str, Any]:
    return {"method": method, "url": client.url(path), "body": body}


def _segments(steps: list[_Step]) -> Iterator[list[_Step]]:
    """Split after every Stop action: within a segment nothing depends on anything else."""
    segment: list[_Step] = []
    for step in steps:
        segment.append(step)
        if step.config.on_error is ErrorBehaviour.STOP:
            yield segment
            segment = []
    if segment:
        yield segment
