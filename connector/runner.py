"""Runs one interaction of one simulated user through its actions, writing the log.

Order of a run:
1. Validate the form values; any problem stops the run before anything is sent or logged.
2. Resolve the email: the input mapped to ``email``, else the user's ``email_address`` trait.
3. Sync the contact once (``POST /contact/sync``) before any action that needs its id. An Add
   Contact action *is* that sync, so it runs first wherever it sits in the list; without one, the
   runner adds the sync itself and logs it as Add Contact "(required by later actions)".
4. Run the remaining actions. Order only matters where Stop says so: the actions up to and
   including the next Stop action run concurrently (within the account's request budget); if
   that Stop action fails, everything after it is skipped. Continue failures skip nothing.

Each action is retried per the client's policy. Writes with a duplicate check (Add to List, Add
to Automation, Add Tag) are never blindly repeated: the check runs before the first attempt and
before each retry, so an attempt that landed without an answer is recognised, not repeated.

A dry run plans the same requests and logs them as ``dry_run`` without sending anything.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .actions import CONTACT_ID_PLACEHOLDER, REGISTRY, ActionSpec, PlannedRequest, RunContext
from .client import AcClient, Exchange
from .errors import ApiError
from .forms import validate_form
from .log import ActionLog, LogEntry, Status
from .models import ActionType, ErrorBehaviour, Interaction
from .prompts import ActionConfig, Prompt

__all__ = ["ActionOutcome", "RunResult", "Runner", "SimulatedUser"]


@dataclass(frozen=True)
class SimulatedUser:
    """Identity as the host app would pass it: an id plus Engage-style traits."""

    user_id: str = ""
    email_address: str = ""
    first_name: str = ""
    last_name: str = ""


@dataclass
class ActionOutcome:
    position: int
    action_type: ActionType
    label: str
    target_id: str
    target_name: str
    status: Status
    http_status: int | None = None
    attempts: int = 0
    duration_ms: float = 0.0
    request: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    error: str = ""
    log_id: int | None = None
    # Reads made first to avoid duplicates: [{"request": ..., "response": ...}, ...]
    checks: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""  # e.g. "succeeded on attempt 3 after: HTTP 429 ..."


@dataclass
class RunResult:
    run_id: str
    prompt: Prompt
    interaction: Interaction
    dry_run: bool
    contact_email: str = ""
    contact_id: str = ""
    outcomes: list[ActionOutcome] = field(default_factory=list)
    # Problems with the form values, by input position: nothing was sent when there are any.
    input_errors: dict[int, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.input_errors and all(
            o.status in (Status.SUCCEEDED, Status.DRY_RUN) for o in self.outcomes
        )


@dataclass
class _Step:
    config: ActionConfig
    position: int  # 1-based position in the prompt's list; 0 for the runner's own sync
    implicit: bool = False

    @property
    def spec(self) -> ActionSpec:
        return REGISTRY[self.config.type]


class _Attempts:
    """The tally of one action's attempts, for the log row."""

    def __init__(self) -> None:
        self.count = 0
        self.last_error = ""
        self.checks: list[dict[str, Any]] = []


class Runner:
    """Runs interactions against one account. Thread-safe when its client and log are."""

    def __init__(
        self,
        client: AcClient,
        log: ActionLog,
        *,
        account: str,
        operator: str = "",
        source: str = "simulator",
    ) -> None:
        self.client = client
        self.log = log
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
    ) -> RunResult:
        result = RunResult(uuid.uuid4().hex[:12], prompt, interaction, dry_run)
        check = validate_form(prompt.inputs, form_values or {})
        if not check.ok:
            result.input_errors = check.errors
            return result

        contact = _contact_payload(prompt, check.values, user)
        result.contact_email = contact.get("email", "")
        steps = _plan_steps(prompt.actions_for(interaction))
        if not steps:
            return result
        if not result.contact_email:
            reason = (
                "No email: fill the form input mapped to Email, or give the user an "
                "email_address trait. ActiveCampaign needs an email to find the contact."
            )
            result.outcomes = [self._skip(result, step, reason) for step in steps]
            return result

        first, rest = steps[0], steps[1:]
        if first.config.type is ActionType.ADD_CONTACT:
            sync = self._perform(result, first, contact, dry_run)
            result.outcomes.append(sync)
            if sync.status is Status.FAILED:
                reason = "Not run: the contact sync failed, so there is no contact id."
                result.outcomes += [self._skip(result, step, reason) for step in rest]
                return result
        else:
            rest = steps
        result.outcomes += self._run_segments(result, rest, contact, dry_run)
        return result

    def _run_segments(
        self, result: RunResult, steps: list[_Step], contact: dict[str, Any], dry_run: bool
    ) -> list[ActionOutcome]:
        outcomes: list[ActionOutcome] = []
        stopped = ""
        for segment in _segments(steps):
            if stopped:
                outcomes += [self._skip(result, step, stopped) for step in segment]
                continue
            if len(segment) == 1:
                done = [self._perform(result, segment[0], contact, dry_run)]
            else:
                with ThreadPoolExecutor(len(segment), thread_name_prefix="ac-action") as pool:
                    done = list(
                        pool.map(lambda s: self._perform(result, s, contact, dry_run), segment)
                    )
            outcomes += done
            last, last_outcome = segment[-1], done[-1]
            if last.config.on_error is ErrorBehaviour.STOP and last_outcome.status is Status.FAILED:
                stopped = f"Not run: “{last_outcome.label}” failed and its error behaviour is Stop."
        return outcomes

    # -- one action ------------------------------------------------------------------------------

    def _entry(self, result: RunResult, step: _Step) -> LogEntry:
        target_id, target_name = step.spec.target(step.config.params)
        if step.implicit:
            target_name = "contact sync (required by later actions)"
        return LogEntry(
            run_id=result.run_id,
            action_type=step.spec.type.value,
            interaction=result.interaction.value,
            prompt_id=result.prompt.id,
            prompt_name=result.prompt.name,
            position=step.position,
            target_id=target_id,
            target_name=target_name,
            contact_email=result.contact_email,
            contact_id=result.contact_id,
            operator=self.operator,
            source=self.source,
            account=self.account,
        )

    def _outcome(self, entry: LogEntry, step: _Step, status: Status, **kw: Any) -> ActionOutcome:
        return ActionOutcome(
            position=step.position,
            action_type=step.config.type,
            label=step.spec.label,
            target_id=entry.target_id,
            target_name=entry.target_name,
            status=status,
            **kw,
        )

    def _skip(self, result: RunResult, step: _Step, reason: str) -> ActionOutcome:
        entry = self._entry(result, step)
        log_id = self.log.start(entry, status=Status.SKIPPED, error=reason)
        return self._outcome(entry, step, Status.SKIPPED, error=reason, log_id=log_id)

    def _perform(
        self, result: RunResult, step: _Step, contact: dict[str, Any], dry_run: bool
    ) -> ActionOutcome:
        entry = self._entry(result, step)
        context = RunContext(contact, result.contact_id or CONTACT_ID_PLACEHOLDER)
        planned = step.spec.plan(step.config.params, context)
        if dry_run:
            url = f"{self.client.api_url}/api/3{planned.path}"
            shown = {"method": planned.method, "url": url, "body": planned.body}
            log_id = self.log.start(entry, status=Status.DRY_RUN, request=shown)
            return self._outcome(entry, step, Status.DRY_RUN, request=shown, log_id=log_id)

        log_id = self.log.start(entry)
        started = time.perf_counter()
        tally = _Attempts()
        exchange: Exchange | None = None
        status, error, note = Status.SUCCEEDED, "", ""
        try:
            exchange, note = self._send(step, planned, result.contact_id, tally)
            if step.config.type is ActionType.ADD_CONTACT:
                result.contact_id = self._contact_id(exchange, result.contact_email, tally)
                entry.contact_id = result.contact_id
        except _Skipped as skip:
            status, error = Status.SKIPPED, skip.reason
        except ApiError as exc:
            exchange, status, error = exc.exchange, Status.FAILED, exc.message
            tally.count = exc.attempts
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        request: dict[str, Any] | None = exchange.request_dict() if exchange else None
        response = exchange.response_dict() if exchange and exchange.status else None
        if request is None and tally.checks:  # skipped after a check: show what was read
            request, response = tally.checks[-1]["request"], tally.checks[-1]["response"]
        final = {
            "http_status": exchange.status if exchange else None,
            "attempts": tally.count,
            "duration_ms": duration_ms,
            "request": request,
            "response": response,
            "error": error,
            "last_error": tally.last_error,
            "contact_id": entry.contact_id,
        }
        self.log.finish(log_id, status, **final)
        final.pop("last_error")
        final.pop("contact_id")
        return self._outcome(
            entry, step, status, log_id=log_id, checks=tally.checks, note=note, **final
        )

    def _send(
        self, step: _Step, planned: PlannedRequest, contact_id: str, tally: _Attempts
    ) -> tuple[Exchange, str]:
        """Send ``planned`` with retries; a write with a duplicate check is checked first, and
        again before every retry, so an attempt that landed unanswered is never repeated."""
        spec, params = step.spec, step.config.params
        before = self._check(spec, params, contact_id, tally)
        landed = None
        if before is not None:
            if before.blocked and not spec.allows_unblock(params):
                raise _Skipped(before.blocked)
            if before.count and not spec.allows_repeat(params):
                raise _Skipped(before.already)

            def landed() -> bool:
                return self._check(spec, params, contact_id, tally).count > before.count

        exchange = self.client.call(planned.method, planned.path, body=planned.body, landed=landed)
        tally.count, tally.last_error = exchange.attempts, exchange.last_error
        if exchange.landed_earlier:
            return exchange, "An earlier attempt went through although its answer was lost."
        return (
            exchange,
            f"Succeeded on attempt {exchange.attempts}." if exchange.attempts > 1 else "",
        )

    def _check(
        self, spec: ActionSpec, params: Mapping[str, str], contact_id: str, tally: _Attempts
    ) -> Any:
        if spec.check is None:
            return None
        presence = spec.check(self.client, params, contact_id)
        tally.checks.append(self.client.last_read or {})
        return presence

    def _contact_id(self, exchange: Exchange, email: str, tally: _Attempts) -> str:
        """The synced contact's id; if the answer lacked it (an empty 201), look it up by email."""
        body = exchange.response_body if isinstance(exchange.response_body, dict) else {}
        contact_id = str((body.get("contact") or {}).get("id") or "")
        if contact_id:
            return contact_id
        found = self.client.find_contact(email)
        tally.checks.append(self.client.last_read or {})
        if found is None:
            raise ApiError(
                "ActiveCampaign accepted the contact but returned no id, and it can't be found "
                "by email. Try again; if it persists, check the contact in ActiveCampaign."
            )
        return found.id


class _Skipped(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _segments(steps: list[_Step]) -> list[list[_Step]]:
    """Split after every Stop action: within a segment nothing depends on anything else."""
    segments: list[list[_Step]] = [[]]
    for step in steps:
        segments[-1].append(step)
        if step.config.on_error is ErrorBehaviour.STOP:
            segments.append([])
    return [s for s in segments if s]


def _plan_steps(configs: list[ActionConfig]) -> list[_Step]:
    """The contact sync first (explicit or implicit), then the rest in their order."""
    steps = [_Step(c, n) for n, c in enumerate(configs, start=1)]
    syncs = [s for s in steps if s.config.type is ActionType.ADD_CONTACT]
    others = [s for s in steps if s.config.type is not ActionType.ADD_CONTACT]
    needs_contact = any(s.spec.needs_contact_id for s in others)
    if not syncs and needs_contact:
        syncs = [_Step(ActionConfig(ActionType.ADD_CONTACT), 0, implicit=True)]
    # One sync per run: a second Add Contact in the same list would send the same payload twice.
    return syncs[:1] + others


def _contact_payload(
    prompt: Prompt, values: Mapping[int, str], user: SimulatedUser
) -> dict[str, Any]:
    contact: dict[str, Any] = {}
    custom: list[dict[str, str]] = []
    for position, form_input in enumerate(prompt.inputs):
        value = values.get(position, "")
        if not value or not form_input.maps_to:
            continue
        if form_input.is_custom:
            custom.append({"field": form_input.custom_field_id or "", "value": value})
        else:
            contact[form_input.maps_to] = value
    traits = {
        "email": user.email_address.strip().lower(),
        "firstName": user.first_name.strip(),
        "lastName": user.last_name.strip(),
    }
    for key, value in traits.items():
        if value and not contact.get(key):
            contact[key] = value
    ordered: dict[str, Any] = {
        k: contact[k] for k in ("email", "firstName", "lastName", "phone") if k in contact
    }
    if custom:
        ordered["fieldValues"] = custom
    return ordered
