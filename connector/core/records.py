"""What the console did, as records: one object per thing, from the runner to the log to the page.

* ``Exchange``: one request and its answer (or the failure instead of one), key redacted.
* ``Check``: a read-only look at the contact made for an action, with its exchanges and finding.
* ``Attempt``: one action in a run: the plan, its checks, every try, and the outcome with its
  reason and evidence. The runner fills it, ``ActionLog`` stores it and reads it back, pages
  draw it.
* ``Run``: one interaction of one user: who, what they submitted, which account, and its attempts.

An outcome is never claimed without evidence: ``Attempt.evidence`` is the answer (a try, or a
check's read) that shows the change, and a write whose answer was lost and could not be checked
is ``unknown``, with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from connector.core.models import ActionType, ErrorBehaviour, Interaction

__all__ = [
    "Attempt",
    "Check",
    "Exchange",
    "Reason",
    "Run",
    "RunStatus",
    "SimulatedUser",
    "Status",
    "utc_now",
]


def utc_now() -> str:
    """Now as ISO 8601 UTC with milliseconds and a ``Z``: sortable text, the log's time format."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Status(StrEnum):
    """An attempt's state: ``planned`` (written with its run, nothing sent), ``pending`` (its
    request is about to leave or out), then one outcome. ``unknown`` with a due verification
    (``Attempt.verify_after``) is still open: a worker will settle it."""

    PLANNED = "planned"
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    DRY_RUN = "dry_run"
    UNKNOWN = "unknown"  # sent, but whether ActiveCampaign applied it could not be established
    # Rows logged before runs were resumable: the process running it ended before it finished.
    # Nothing writes it any more (a worker resumes such a run instead).
    INTERRUPTED = "interrupted"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Reason(StrEnum):
    """Why an attempt ended as it did, when a status alone does not say (mostly skips)."""

    ALREADY_DONE = "already_done"  # the contact is already where the action puts it
    NOTHING_TO_DO = "nothing_to_do"  # nothing to remove or update: no tag, no run, no contact
    BLOCKED = "blocked"  # e.g. unsubscribed: sending would override the contact's choice
    NO_EMAIL = "no_email"
    STOPPED = "stopped"  # an earlier Stop action failed
    NO_CONTACT = "no_contact"  # the contact sync failed, so there is no contact id
    MERGED = "merged"  # the same action on the same target appears earlier in the interaction
    BUSY = "busy"  # another run held the claim on this contact and target for too long
    LANDED_EARLIER = "landed_earlier"  # a try whose answer was lost did go through (a new row)
    CONFIRMED = "confirmed"  # the answers were lost; a check shows the contact as sent
    CHECK_FAILED = "check_failed"  # the read that decides whether to send failed
    NOT_RECORDED = "not_recorded"  # the log could not be written, so nothing was sent
    ALREADY_REPLAYED = "already_replayed"  # another replay of the same row came first
    VERIFIED = "verified"  # an answer was lost; a check after the settle delay shows it landed
    AWAITING_VERIFICATION = "awaiting_verification"  # answer lost: verified after a settle delay


@dataclass(frozen=True)
class Exchange:
    """One request and its answer as an operator may see them: no key, bodies as parsed JSON.

    ``status`` None means no answer came; ``error`` says what went wrong with this exchange
    ("" when it went well)."""

    method: str
    url: str
    request_body: Any = None
    request_headers: Mapping[str, str] = field(default_factory=dict)
    status: int | None = None
    response_body: Any = None
    duration_ms: float = 0.0
    error: str = ""
    at: str = ""  # when the request left (UTC)

    def request_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "url": self.url,
            "headers": dict(self.request_headers),
            "body": self.request_body,
        }

    def response_dict(self) -> dict[str, Any] | None:
        """None when no answer came."""
        if self.status is None:
            return None
        return {"status": self.status, "body": self.response_body}

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "url": self.url,
            "request_headers": dict(self.request_headers),
            "request_body": self.request_body,
            "status": self.status,
            "response_body": self.response_body,
            "duration_ms": self.duration_ms,
            "error": self.error,
            "at": self.at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Exchange:
        return cls(
            method=str(data.get("method", "")),
            url=str(data.get("url", "")),
            request_body=data.get("request_body"),
            request_headers=dict(data.get("request_headers") or {}),
            status=data.get("status"),
            response_body=data.get("response_body"),
            duration_ms=float(data.get("duration_ms") or 0.0),
            error=str(data.get("error") or ""),
            at=str(data.get("at") or ""),
        )


@dataclass(frozen=True)
class Check:
    """A read made for an action: ``purpose`` says when and why ("before sending", "after a
    lost answer", "dry run"), ``finding`` what it found in a sentence. ``present`` is True when
    the contact is where the action puts it, False when not, None when the read failed."""

    purpose: str
    exchanges: tuple[Exchange, ...]
    finding: str
    present: bool | None
    # The ids of the rows that showed the action's work (a verification tells its own write
    # from rows that were there before by them).
    found: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        return self.present is None

    @property
    def exchange(self) -> Exchange | None:
        """The read that decided (the last try)."""
        return self.exchanges[-1] if self.exchanges else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "purpose": self.purpose,
            "exchanges": [e.to_dict() for e in self.exchanges],
            "finding": self.finding,
            "present": self.present,
            "found": list(self.found),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Check:
        return cls(
            purpose=str(data.get("purpose", "")),
            exchanges=tuple(Exchange.from_dict(e) for e in data.get("exchanges") or []),
            finding=str(data.get("finding", "")),
            present=data.get("present"),
            found=tuple(str(f) for f in data.get("found") or ()),
        )


@dataclass
class Attempt:
    """One action in one run, from plan to outcome. Filled by one runner thread at a time."""

    run_id: str
    position: int  # 1-based in the prompt's list; 0 for the sync the runner adds itself
    action_type: ActionType
    label: str
    target_id: str = ""
    target_name: str = ""
    params: dict[str, str] = field(default_factory=dict)
    on_error: ErrorBehaviour = ErrorBehaviour.STOP
    implicit: bool = False
    planned: dict[str, Any] | None = None  # the request as it would leave: method, url, body
    checks: list[Check] = field(default_factory=list)
    tries: list[Exchange] = field(default_factory=list)
    status: Status = Status.PLANNED
    reason: str = ""
    reason_code: Reason | None = None
    contact_email: str = ""
    contact_id: str = ""
    evidence: Exchange | None = None  # the answer that shows the outcome
    started_at: str = ""
    finished_at: str = ""
    duration_ms: float = 0.0
    log_id: int | None = None
    unrecorded: str = ""  # why the action log does not hold this outcome, if it does not
    retry_of: int | None = None  # the log row this attempt replays
    job_id: str = ""  # the bulk replay it belongs to
    # When a write's answer was lost: the moment (epoch seconds) a check may tell whether it
    # landed. Set, the attempt is ``unknown`` and still open.
    verify_after: float | None = None

    def finish(
        self,
        status: Status,
        reason: str = "",
        *,
        code: Reason | None = None,
        evidence: Exchange | None = None,
    ) -> None:
        self.status, self.reason, self.reason_code = status, reason, code
        self.verify_after = None
        if evidence is not None:
            self.evidence = evidence

    def await_verification(self, reason: str, due: float) -> None:
        """The answer was lost after sending: ``unknown`` until a check at ``due`` tells."""
        self.status, self.reason = Status.UNKNOWN, reason
        self.reason_code, self.verify_after = Reason.AWAITING_VERIFICATION, due

    @property
    def done(self) -> bool:
        """Concluded: nothing more will happen to it (an awaited verification is not done)."""
        return self.status not in (Status.PLANNED, Status.PENDING) and self.verify_after is None

    @property
    def sent(self) -> bool:
        """Whether its request may have left: it is (or was) pending, or has tries."""
        return self.status is not Status.PLANNED

    @property
    def attempts(self) -> int:
        """How many times the request was sent."""
        return len(self.tries)

    @property
    def shown(self) -> Exchange | None:
        """The exchange to show first: the evidence, else the last try, else the last read."""
        if self.evidence is not None:
            return self.evidence
        if self.tries:
            return self.tries[-1]
        reads = [c.exchange for c in self.checks if c.exchange is not None]
        return reads[-1] if reads else None

    @property
    def http_status(self) -> int | None:
        shown = self.shown
        return shown.status if shown is not None else None

    @property
    def ok(self) -> bool:
        """Nothing is left to do for this action: it succeeded, or it was already done (or, in a
        dry run, it would be sent or skipped as already done: the live run would be fine)."""
        if self.status is Status.SUCCEEDED:
            return True
        if self.status is Status.DRY_RUN:
            return self.reason_code not in (Reason.BLOCKED, Reason.CHECK_FAILED)
        # merged: its twin in the run did it
        done_already = (Reason.ALREADY_DONE, Reason.NOTHING_TO_DO, Reason.MERGED)
        return self.status is Status.SKIPPED and self.reason_code in done_already

    @property
    def target(self) -> str:
        """The target as a phrase: “Newsletter” (#3)."""
        if not self.target_id:
            return ""
        return f"“{self.target_name or self.target_id}” (#{self.target_id})"

    def to_dict(self) -> dict[str, Any]:
        """The whole record as JSON-ready data (the CLI's ``--json``)."""
        return {
            "log_id": self.log_id,
            "run_id": self.run_id,
            "position": self.position,
            "action": self.action_type.value,
            "label": self.label,
            "target_id": self.target_id,
            "target_name": self.target_name,
            "status": self.status.value,
            "reason": self.reason,
            "reason_code": self.reason_code.value if self.reason_code else None,
            "contact_email": self.contact_email,
            "contact_id": self.contact_id,
            "http_status": self.http_status,
            "attempts": self.attempts,
            "duration_ms": self.duration_ms,
            "planned": self.planned,
            "checks": [c.to_dict() for c in self.checks],
            "tries": [t.to_dict() for t in self.tries],
            "evidence": self.evidence.to_dict() if self.evidence else None,
            "unrecorded": self.unrecorded or None,
            "retry_of": self.retry_of,
            "job_id": self.job_id or None,
            "verify_after": self.verify_after,
            "started_at": self.started_at or None,
            "finished_at": self.finished_at or None,
        }


class RunStatus(StrEnum):
    """A run's outcome, from its attempts."""

    PENDING = "pending"  # open: planned work remains, or a verification is due
    SUCCEEDED = "succeeded"  # every action succeeded or was already done
    NO_ACTIONS = "no_actions"  # the interaction carries no actions
    REFUSED = "refused"  # the input was refused at intake: nothing was planned or sent
    FAILED = "failed"  # an action failed or could not run
    UNKNOWN = "unknown"  # an action's outcome could not be established
    DRY_RUN = "dry_run"
    INTERRUPTED = "interrupted"  # runs logged before runs were resumable; never written now

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


@dataclass(frozen=True)
class SimulatedUser:
    """Identity as the host app passes it: a user id plus Engage-style traits
    (``email_address``, ``first_name``, ``last_name``, anything else)."""

    user_id: str = ""
    traits: Mapping[str, str] = field(default_factory=dict)

    def trait(self, name: str) -> str:
        return str(self.traits.get(name) or "").strip()


@dataclass
class Run:
    """One interaction of one user, and everything it did."""

    run_id: str
    prompt_id: int | None
    prompt_name: str
    interaction: Interaction
    user: SimulatedUser
    dry_run: bool = False
    operator: str = ""
    source: str = "simulator"
    account: str = ""
    # What the form submitted, in input order: [{"label": ..., "value": ...}]; empty for the
    # interactions that do not submit the form.
    inputs: list[dict[str, str]] = field(default_factory=list)
    input_errors: dict[int, str] = field(default_factory=dict)
    # Why intake refused the run when it was not a form value (a trait email, the stored
    # definition): a sentence for the operator.
    refusal: str = ""
    # The /contact/sync payload the run computed (email, names, fieldValues): what a replay
    # sends again.
    contact: dict[str, Any] = field(default_factory=dict)
    mapped: dict[str, Any] = field(default_factory=dict)  # the mapped fields alone
    job_id: str = ""  # the bulk replay it belongs to
    attempts: list[Attempt] = field(default_factory=list)
    status: RunStatus = RunStatus.PENDING
    contact_email: str = ""
    contact_id: str = ""
    started_at: str = ""
    finished_at: str = ""
    unrecorded: str = ""  # why the action log does not hold this run's outcome, if it does not
    idempotency_key: str = ""  # a repeat of the same submission is this run, not a new one
    duplicate: bool = False  # intake found this run for a repeated submission
    definition: dict[str, Any] = field(default_factory=dict)  # the prompt as it was submitted
    next_at: float | None = None  # open: when a worker should take it up (epoch seconds)
    lease_owner: str = ""  # who executes it now (a lease token): the store's fences check it

    @property
    def open(self) -> bool:
        """Work remains: a planned attempt, or a verification still due."""
        return any(not a.done for a in self.attempts)

    def conclude(self) -> RunStatus:
        """Set and return the status its attempts (or refused inputs) imply."""
        if self.input_errors or self.refusal:
            self.status = RunStatus.REFUSED
        elif not self.attempts:
            self.status = RunStatus.NO_ACTIONS
        elif self.open:
            self.status = RunStatus.PENDING
        elif self.dry_run:
            self.status = RunStatus.DRY_RUN
        elif any(a.status in (Status.UNKNOWN, Status.PENDING) for a in self.attempts):
            self.status = RunStatus.UNKNOWN
        elif all(a.ok for a in self.attempts):
            self.status = RunStatus.SUCCEEDED
        else:
            self.status = RunStatus.FAILED
        return self.status

    @property
    def ok(self) -> bool:
        """Everything is done (or, for a dry run, the live run would get everything done)."""
        if self.status is RunStatus.DRY_RUN:
            return all(a.ok for a in self.attempts)
        return self.status in (RunStatus.SUCCEEDED, RunStatus.NO_ACTIONS)

    def to_dict(self) -> dict[str, Any]:
        """The whole record as JSON-ready data (the CLI's ``--json``)."""
        return {
            "run_id": self.run_id,
            "prompt_id": self.prompt_id,
            "prompt_name": self.prompt_name,
            "interaction": self.interaction.value,
            "user_id": self.user.user_id,
            "traits": dict(self.user.traits),
            "inputs": self.inputs,
            "input_errors": {str(k): v for k, v in self.input_errors.items()},
            "refusal": self.refusal or None,
            "dry_run": self.dry_run,
            "status": self.status.value,
            "contact_email": self.contact_email,
            "contact_id": self.contact_id,
            "operator": self.operator,
            "source": self.source,
            "account": self.account,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "job_id": self.job_id or None,
            "duplicate": self.duplicate,
            "next_at": self.next_at,
            "actions": [a.to_dict() for a in self.attempts],
            "not_recorded": self.not_recorded,
        }

    @property
    def not_recorded(self) -> list[str]:
        """Sentences for every outcome the action log could not keep: show them to the operator."""
        lines = [f"This run: {self.unrecorded}"] if self.unrecorded else []
        lines += [
            f"{a.label} {a.target}".strip() + f": {a.unrecorded}"
            for a in self.attempts
            if a.unrecorded
        ]
        return lines
