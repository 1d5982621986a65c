"""Runs one interaction of one simulated user through its actions, writing the log.

Order of a run:
1. Validate the form values; any problem stops the run before anything is sent or logged.
2. Resolve the email: the input mapped to ``email``, else the user's ``email_address`` trait.
3. Sync the contact once (``POST /contact/sync``) before any action that needs its id. An Add
   Contact action *is* that sync, so it runs first wherever it sits in the list; without one, the
   runner adds the sync itself and logs it as Add Contact "(required by later actions)".
4. Run the remaining actions in order. A failure of an action whose error behaviour is Stop
   skips the rest; with Continue the rest still run. Everything skipped is logged with its reason.

A dry run plans the same requests and logs them as ``dry_run`` without sending anything.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .actions import CONTACT_ID_PLACEHOLDER, REGISTRY, RunContext
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
        stop_reason = ""
        for step in steps:
            spec = REGISTRY[step.config.type]
            entry = self._entry(result, step)
            if not stop_reason and not result.contact_email:
                stop_reason = (
                    "No email: fill the form input mapped to Email, or give the user an "
                    "email_address trait. ActiveCampaign needs an email to find the contact."
                )
            if stop_reason:
                result.outcomes.append(self._skip(entry, step, stop_reason))
                continue
            context = RunContext(contact, result.contact_id or CONTACT_ID_PLACEHOLDER)
            outcome = self._execute(entry, step, spec.plan(step.config.params, context), dry_run)
            result.outcomes.append(outcome)
            if spec.type is ActionType.ADD_CONTACT and outcome.status is Status.SUCCEEDED:
                result.contact_id = _contact_id(outcome.response)
            if outcome.status is Status.FAILED:
                if spec.type is ActionType.ADD_CONTACT:
                    stop_reason = "Not run: the contact sync failed, so there is no contact id."
                elif step.config.on_error is ErrorBehaviour.STOP:
                    stop_reason = (
                        f"Not run: “{outcome.label}” failed and its error behaviour is Stop."
                    )
        return result

    def _entry(self, result: RunResult, step: _Step) -> LogEntry:
        spec = REGISTRY[step.config.type]
        target_id, target_name = spec.target(step.config.params)
        if step.implicit:
            target_name = "contact sync (required by later actions)"
        return LogEntry(
            run_id=result.run_id,
            action_type=spec.type.value,
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
            label=REGISTRY[step.config.type].label,
            target_id=entry.target_id,
            target_name=entry.target_name,
            status=status,
            **kw,
        )

    def _skip(self, entry: LogEntry, step: _Step, reason: str) -> ActionOutcome:
        log_id = self.log.start(entry, status=Status.SKIPPED, error=reason)
        return self._outcome(entry, step, Status.SKIPPED, error=reason, log_id=log_id)

    def _execute(self, entry: LogEntry, step: _Step, planned: Any, dry_run: bool) -> ActionOutcome:
        url = f"{self.client.api_url}/api/3{planned.path}"
        if dry_run:
            request = {"method": planned.method, "url": url, "body": planned.body}
            log_id = self.log.start(entry, status=Status.DRY_RUN, request=request)
            return self._outcome(entry, step, Status.DRY_RUN, request=request, log_id=log_id)

        log_id = self.log.start(entry)
        started = time.perf_counter()
        exchange: Exchange | None
        try:
            exchange = self.client.call(planned.method, planned.path, body=planned.body)
            status, error = Status.SUCCEEDED, ""
        except ApiError as exc:
            exchange, status, error = exc.exchange, Status.FAILED, exc.message
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        request = exchange.request_dict() if exchange else None
        response = exchange.response_dict() if exchange and exchange.status else None
        http_status = exchange.status if exchange else None
        contact_id = entry.contact_id
        if step.config.type is ActionType.ADD_CONTACT and status is Status.SUCCEEDED:
            contact_id = _contact_id(response)
        self.log.finish(
            log_id,
            status,
            http_status=http_status,
            attempts=1,
            duration_ms=duration_ms,
            request=request,
            response=response,
            error=error,
            contact_id=contact_id,
        )
        return self._outcome(
            entry,
            step,
            status,
            http_status=http_status,
            attempts=1,
            duration_ms=duration_ms,
            request=request,
            response=response,
            error=error,
            log_id=log_id,
        )


def _plan_steps(configs: list[ActionConfig]) -> list[_Step]:
    """The contact sync first (explicit or implicit), then the rest in their order."""
    steps = [_Step(c, n) for n, c in enumerate(configs, start=1)]
    syncs = [s for s in steps if s.config.type is ActionType.ADD_CONTACT]
    others = [s for s in steps if s.config.type is not ActionType.ADD_CONTACT]
    needs_contact = any(REGISTRY[s.config.type].needs_contact_id for s in others)
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
    ordered = {k: contact[k] for k in ("email", "firstName", "lastName", "phone") if k in contact}
    if custom:
        ordered["fieldValues"] = custom
    return ordered


def _contact_id(response: dict[str, Any] | None) -> str:
    body = (response or {}).get("body") or {}
    return str((body.get("contact") or {}).get("id") or "")
