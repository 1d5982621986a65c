"""The executor: runs a recorded run's remaining attempts under its lease, on evidence.

It works from what the store holds, never from a call stack, so the executor that starts a run
(the Simulator or the CLI, in process) and the one that finishes it (a worker, after the first
died) do the same thing:

* concluded attempts stay as they are;
* ``pending`` attempts were being sent by an executor that is gone: their request may have left
  and may still be in flight, so they wait for a verification (below);
* ``planned`` attempts run: the sync first, then the actions in segments up to each Stop action
  (concurrently within a segment); a Stop failure skips the later segments, a sync that failed
  skips everything that needs its contact id.

Each action that is not safe to repeat claims its contact and target (``claims``), checks where
the contact is, records itself ``pending`` (fenced by the run's lease: a run taken over is
never sent twice) and only then sends. Every answer must show the change (``ActionSpec.proof``).

**Ambiguous writes are never resent blind.** When no answer comes after sending (a timeout, a
dropped connection), the attempt is ``unknown`` until a verification made after the settle
delay (longer than the client's timeout plus what the account takes to apply a write) shows
whether it landed: landed, it succeeded with that read as evidence; not landed, it is sent again
through the same claim. A Stop action awaiting verification holds back what follows it; the run
stays open (``next_at``) and any worker finishes it. An error *answer* (5xx) is not ambiguous in
time: the server is done with the request, so the check runs at once, before a retry.

**Evidence first.** An answer, once received, is recorded as the attempt's outcome; no later
failure of the console's own bookkeeping replaces it. What can't be written is kept in the
log's outbox and said (``Attempt.unrecorded``); if this process dies first, the row is still
``pending`` and the resuming worker verifies it.

A dry run sends nothing but performs the same read-only checks, so it predicts which actions
would be skipped and why.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import astuple, replace
from datetime import UTC, datetime
from itertools import count
from typing import Any

from connector.ac.actions import CONTACT_ID_PLACEHOLDER, ActionSpec, Presence, Reads, RunContext
from connector.ac.actions.base import object_in
from connector.ac.client import AcClient
from connector.core.errors import ApiError, ConnectorError, StorageError, clip
from connector.core.models import ActionType, ErrorBehaviour, api_id
from connector.core.records import Attempt, Check, Exchange, Reason, Run, Status
from connector.engage.display import utc_text
from connector.engine.claims import ClaimBusy, ClaimKey, Claims
from connector.engine.heartbeat import Heartbeat
from connector.engine.plan import Step, segments
from connector.store.log import ActionLog

__all__ = ["DEFAULT_SETTLE_SECONDS", "Executor", "LeaseLost"]

# A minute: well past the client's 10 s timeout plus the seconds ActiveCampaign may take to
# apply a write it has received.
DEFAULT_SETTLE_SECONDS = 60.0
# A verification whose read fails is tried again this many times before the outcome stays
# unknown for good (then it is the operator's to replay).
VERIFY_TRIES = 3
# When the store refused a write before anything was sent, the run is due again this soon.
STORAGE_RETRY_SECONDS = 5.0


class LeaseLost(ConnectorError):
    """Another executor took the run over (this one's lease expired): send nothing more."""


def when(epoch: float) -> str:
    """A due time as operators read it (the console's one time format)."""
    return utc_text(datetime.fromtimestamp(epoch, UTC))


class Executor:
    """Executes runs on one account. Thread-safe when its client and log are."""

    def __init__(
        self,
        client: AcClient,
        log: ActionLog,
        claims: Claims,
        heartbeat: Heartbeat,
        *,
        settle_seconds: float = DEFAULT_SETTLE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.log = log
        self.claims = claims
        self.heartbeat = heartbeat
        self.settle_seconds = settle_seconds
        self.clock = clock

    def execute(self, run: Run, token: str) -> Run:
        """Run what remains of ``run`` (leased under ``token``, see ``Heartbeat.token``) and
        record where it got: every attempt concluded, or the run open until it is next due."""
        lost = False
        run.lease_owner = token
        with self.heartbeat.holding(token):
            try:
                self._execute(run)
            except LeaseLost:
                lost = True
            finally:
                if not lost:
                    run.conclude()
                    run.next_at = self._next_at(run)
                    self.log.finish_run(run, owner=token)
        return run

    def _next_at(self, run: Run) -> float | None:
        """When the open run is due again: its first due verification (or deferred attempt),
        never sooner than a short pause (a run that can't move must not be retaken hot)."""
        if not run.open:
            return None
        soonest = self.clock() + STORAGE_RETRY_SECONDS
        due = [a.verify_after for a in run.attempts if a.verify_after is not None]
        return max(min(due), soonest) if due else soonest

    # -- the order of a run -----------------------------------------------------------------------

    def _execute(self, run: Run) -> None:
        steps = [Step.of(a) for a in run.attempts]
        for step in steps:
            if step.attempt.status is Status.PENDING and step.attempt.verify_after is None:
                self._orphaned(run, step)
        if all(s.attempt.done for s in steps):
            return
        # Found or synced before a crash: its attempts kept it even if the run did not.
        run.contact_id = run.contact_id or next(
            (a.contact_id for a in run.attempts if a.contact_id), ""
        )
        contact = RunContext(run.contact, run.contact_id, mapped=run.mapped)
        sync = steps[0] if steps[0].config.type is ActionType.ADD_CONTACT else None
        rest = steps[1:] if sync is not None else steps
        if sync is None and not contact.contact_id:
            needing = [s for s in rest if s.spec.contact == "sync" and not s.attempt.done]
            if needing:  # a replay without its sync: the contact is found, not synced again
                found = self._find_contact(run, [s for s in rest if not s.attempt.done], contact)
                if found is None:
                    return
                contact = found
        if run.dry_run:
            self._predict(run, sync, [s for s in rest if not s.attempt.done], contact)
            return
        if sync is not None:
            if not sync.attempt.done:
                self._advance(run, sync, contact)
            if sync.attempt.verify_after is not None:
                return  # the rest waits for the contact: nothing else is due before it
            if sync.attempt.status is Status.PLANNED:
                return  # the store refused: the run stays open
            if sync.attempt.status is not Status.SUCCEEDED:
                doubt = "whether the contact sync went through is unknown"
                why = doubt if sync.attempt.status is Status.UNKNOWN else "the contact sync failed"
                self._skip_planned(
                    run, rest, f"Not run: {why}, so there is no contact id.", Reason.NO_CONTACT
                )
                return
            run.contact_id = sync.attempt.contact_id or run.contact_id
            contact = replace(contact, contact_id=run.contact_id)
        stopped = ""
        for segment in segments(rest):
            if stopped:
                self._skip_planned(run, segment, stopped, Reason.STOPPED)
                continue
            due = [s for s in segment if not s.attempt.done]
            self._concurrently(due, lambda step: self._advance(run, step, contact))
            last = segment[-1]
            if last.config.on_error is ErrorBehaviour.STOP:
                if not last.attempt.done:
                    return  # awaiting its verification (or the store): what follows waits
                if last.attempt.status is Status.FAILED:
                    stopped = f"Not run: “{last.attempt.label}” failed"
                elif last.attempt.status is Status.UNKNOWN:
                    stopped = f"Not run: the outcome of “{last.attempt.label}” is unknown"
                stopped += " and its error behaviour is Stop." if stopped else ""

    def _orphaned(self, run: Run, step: Step) -> None:
        """A ``pending`` attempt of an executor that is gone: its request may have left."""
        due = self.clock() + self.settle_seconds
        step.attempt.await_verification(
            "The console process sending this request ended before its outcome was recorded; "
            "the request may have reached ActiveCampaign. A check after the settle delay (at "
            f"{when(due)}) tells whether it was applied; if not, it is sent again.",
            due,
        )
        self.log.finish(step.attempt, run)

    def _advance(self, run: Run, step: Step, context: RunContext) -> None:
        """Move one attempt on: run it when planned, verify it when its verification is due."""
        attempt = step.attempt
        if attempt.verify_after is not None and attempt.verify_after > self.clock():
            return  # not due yet
        if attempt.status is Status.UNKNOWN and attempt.verify_after is not None:
            self._perform(run, step, context, verify=True)
        elif attempt.status is Status.PLANNED:
            attempt.verify_after = None  # a deferred attempt whose time has come
            self._perform(run, step, context, verify=False)

    def _find_contact(self, run: Run, steps: list[Step], contact: RunContext) -> RunContext | None:
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
            if contact_id:
                continue
            if step.attempt.status is not Status.PLANNED:  # in doubt: never "not sent"
                step.attempt.verify_after = self.clock() + self.settle_seconds
            else:
                status = Status.FAILED if failed else Status.SKIPPED
                code = Reason.CHECK_FAILED if failed else Reason.NO_CONTACT
                step.attempt.finish(status, f"Not sent: {finding}", code=code)
            self.log.finish(step.attempt, run)
        if not contact_id:
            return None
        run.contact_id = contact_id
        return replace(contact, contact_id=contact_id)

    def _skip_planned(self, run: Run, steps: list[Step], reason: str, code: Reason) -> None:
        for step in steps:
            if step.attempt.status is Status.PLANNED:
                step.attempt.finish(Status.SKIPPED, reason, code=code)
                self.log.finish(step.attempt, run)

    @staticmethod
    def _concurrently(steps: list[Step], work: Callable[[Step], None]) -> None:
        if len(steps) <= 1:
            for step in steps:
                work(step)
            return
        with ThreadPoolExecutor(len(steps), thread_name_prefix="ac-action") as pool:
            list(pool.map(work, steps))  # re-raises LeaseLost from any of them

    # -- one attempt ------------------------------------------------------------------------------

    def _perform(self, run: Run, step: Step, context: RunContext, *, verify: bool) -> None:
        """One action (or its verification), start to recorded outcome."""
        attempt = step.attempt
        attempt.contact_id = attempt.contact_id or context.contact_id
        started = time.perf_counter()
        try:
            with self._claim(run, step):
                if verify:
                    self._verify(run, step, context)
                elif not self._deferred(run, step):
                    self._act(run, step, context)
                attempt.duration_ms = round(
                    attempt.duration_ms + (time.perf_counter() - started) * 1000, 1
                )
                self.log.finish(attempt, run)  # before the claim goes: the next one reads it
        except ClaimBusy as exc:
            if verify:  # it stays in doubt; the next verification tries again
                attempt.verify_after = self.clock() + self.settle_seconds
            else:
                attempt.finish(Status.SKIPPED, exc.message, code=Reason.BUSY)
            self.log.finish(attempt, run)
        except StorageError as exc:
            # The store refused a write needed before sending (a claim, a budget slot, the
            # pending mark): no request of this attempt is in flight. An attempt in doubt stays
            # in doubt; any other goes back to planned. Either way soon again, never hot.
            if attempt.status is not Status.UNKNOWN:
                attempt.status = Status.PLANNED
                attempt.reason = (
                    "Not sent yet: the console's data file refused a write needed before "
                    f"sending ({exc.message}). A worker runs it when the file takes writes."
                )
            attempt.verify_after = self.clock() + STORAGE_RETRY_SECONDS
            attempt.unrecorded = exc.message
            self.log.finish(attempt, run)
        except LeaseLost:
            raise
        except BaseException as exc:
            if attempt.status is Status.PENDING and not attempt.done:
                self._lost_answer(
                    attempt,
                    f"The console failed while this request was out ({type(exc).__name__}: "
                    f"{clip(str(exc))}).",
                )
                self.log.finish(attempt, run)
            raise

    def _deferred(self, run: Run, step: Step) -> bool:
        """Whether the attempt waits (and why) because another run's write to the same
        contact and target may still land: acting now could do the same thing twice."""
        key = self._claim_key(run, step)
        found = self.log.in_doubt(astuple(key), run.run_id) if key is not None else None
        if found is None:
            return False
        other, due = found
        due = max(due or self.clock() + self.settle_seconds, self.clock() + STORAGE_RETRY_SECONDS)
        step.attempt.verify_after = due
        step.attempt.reason = (
            f"Waiting: run {other} sent this same action to this contact and its outcome is "
            f"not known yet (its answer was lost). This one checks and acts after that is "
            f"verified (at {when(due)}), so nothing happens twice."
        )
        return True

    @staticmethod
    def _claim_key(run: Run, step: Step) -> ClaimKey | None:
        """The claim an action holds while it acts (None: an upsert, safe to repeat)."""
        if not step.spec.check_first:
            return None
        return ClaimKey(
            run.account,
            run.contact_email.lower(),
            step.attempt.action_type.value,
            step.attempt.target_id,
        )

    def _claim(self, run: Run, step: Step) -> Any:
        key = self._claim_key(run, step)
        if key is None:
            return nullcontext()
        return self.claims.hold(key, run.run_id, run.lease_owner)

    def _act(self, run: Run, step: Step, context: RunContext) -> None:
        """Check, record as pending, send, conclude; fills the attempt."""
        attempt, spec, params = step.attempt, step.spec, step.attempt.params
        before: Presence | None = None
        if spec.check_first:
            self._plan_into(attempt, spec, context)
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
        self._send(run, step, context, before)

    def _send(self, run: Run, step: Step, context: RunContext, before: Presence | None) -> None:
        """Record the attempt pending (fenced by the lease), then send with retries."""
        attempt, spec = step.attempt, step.spec
        planned = self._plan_into(attempt, spec, context)
        key = self._claim_key(run, step)
        claim = astuple(key) if key is not None else None
        if not self.log.mark_sending(attempt, run, claim):
            raise LeaseLost(f"Run {run.run_id} was taken over by another executor.")
        verify = spec.proof(attempt.params, context)
        started = self.client.clock()
        first = len(attempt.tries) + 1
        in_doubt: ApiError | None = None  # an error answer after which the write may be there
        for number in count(first):
            if in_doubt is not None and before is not None:  # an upsert is resent as it is
                if self._landed(attempt, spec, context, before, in_doubt, "after an error answer"):
                    return
                in_doubt = None
            try:
                done = self.client.send(
                    planned.method, planned.path, body=planned.body, verify=verify
                )
            except ApiError as exc:
                if exc.exchange is not None:
                    attempt.tries.append(exc.exchange)
                if exc.answer_lost:
                    # Its first sentence says what happened; its advice (try again) is not ours.
                    self._lost_answer(attempt, exc.message.split(". ", 1)[0].rstrip(".") + ".")
                    return
                in_doubt = exc if exc.may_have_landed else None
                delay = self.client.retry.next_delay(
                    number - first + 1, exc, self.client.clock() - started
                )
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

    def _lost_answer(self, attempt: Attempt, why: str) -> None:
        due = self.clock() + self.settle_seconds
        attempt.await_verification(
            f"{why} The request may still be applied, so it is not sent again blind: a check "
            f"after the settle delay (at {when(due)}) tells whether it landed; if not, it is "
            "sent again.",
            due,
        )

    def _verify(self, run: Run, step: Step, context: RunContext) -> None:
        """The settle delay has passed: did the lost write land? Landed: succeeded, with the
        read as evidence. Not landed: sent again, through the claim held."""
        attempt, spec = step.attempt, step.spec
        before = _before(attempt) if spec.check_first else None
        after = self._check(attempt, spec, context, "verification after the settle delay")
        if after is None:
            tries = sum(1 for c in attempt.checks if c.purpose.startswith("verification"))
            if tries < VERIFY_TRIES:
                attempt.verify_after = self.clock() + self.settle_seconds
                return
            attempt.finish(
                Status.UNKNOWN,
                f"Whether the request was applied is unknown: {VERIFY_TRIES} checks after its "
                f"lost answer failed. {attempt.checks[-1].finding} Check the contact in "
                "ActiveCampaign, then replay it if it is missing.",
            )
            return
        landed = after.present if before is None else bool(after.found - before.found)
        if landed:
            attempt.finish(
                Status.SUCCEEDED,
                f"Its answer was lost, but a check after the settle delay shows it landed: "
                f"{after.sentence}",
                code=Reason.VERIFIED,
                evidence=attempt.checks[-1].exchange,
            )
            if spec.type is ActionType.ADD_CONTACT:
                attempt.contact_id = after.contact_id
            return
        attempt.verify_after = None
        attempt.status = Status.PLANNED  # not landed: it goes out again, as a new try
        if spec.check_first:
            context = replace(context, targets=after.targets)
        self._send(run, step, context, before)

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
        """After an error answer (the server is done with the request): did the write go
        through? True (and the attempt finished) when it did, or when that can't be known."""
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
        attempt.checks.append(
            Check(
                purpose,
                tuple(reads.exchanges),
                presence.sentence,
                presence.present,
                tuple(sorted(presence.found)),
            )
        )
        return presence

    # -- dry run ----------------------------------------------------------------------------------

    def _predict(self, run: Run, sync: Step | None, rest: list[Step], contact: RunContext) -> None:
        """Send nothing; look up the contact and run each action's check, so the dry run says
        which actions would be sent and which skipped, and why."""
        context = contact  # without a sync, each action finds the contact by email itself
        if sync is not None and not sync.attempt.done:
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

    def _predict_one(self, run: Run, step: Step, context: RunContext) -> None:
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
        self, run: Run, step: Step, context: RunContext, why: str, code: Reason | None = None
    ) -> None:
        planned = step.spec.plan(step.attempt.params, context)
        step.attempt.planned = _planned(self.client, planned.method, planned.path, planned.body)
        step.attempt.contact_id = (
            "" if context.contact_id == CONTACT_ID_PLACEHOLDER else context.contact_id
        )
        step.attempt.finish(Status.DRY_RUN, why, code=code)
        self.log.finish(step.attempt, run)


def _before(attempt: Attempt) -> Presence:
    """What the check before the first send found (stored with the attempt): the rows that
    were there already, so a verification recognises its own write by a new one."""
    for check in attempt.checks:
        if check.purpose == "before sending" and check.present is not None:
            return Presence(frozenset(check.found), check.finding)
    return Presence(frozenset(), "")


def _planned(client: AcClient, method: str, path: str, body: Any) -> dict[str, Any]:
    return {"method": method, "url": client.url(path), "body": body}
