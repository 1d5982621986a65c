"""Replaying logged actions: what a replay of some rows would do, and doing it.

A row is replayed through the same runner as a live click, as a new run with the original
user, form values and contact payload; the new row points at the one it retries
(``retry_of``). What keeps a replay honest:

* **The newest of a chain.** Asked to replay a row that was replayed already, the replay acts on
  the newest row of that chain: if it failed too, that one is retried; if it succeeded (or was
  skipped as done), nothing is sent and the answer says so.
* **One replay per row.** The log refuses a second replay of a row while another one is under
  way or done, in the transaction that writes the replay's row (``AlreadyReplayed``).
* **Never twice.** A replay checks where the contact is first, like any run, and never repeats
  an action already in place, even one whose re-entry option would allow it.
* **The account it was logged on.** A row is replayed only on the account it was first sent to;
  with another account in effect it is refused with the reason.

The rows of one original run are replayed together, in their original order, so a contact sync
runs before the actions that need its id. A replay is a resumption of the run: the rows that
were skipped *because of* a replayed row (after a Stop failure, without a contact) are carried
along, through the same claims and checks, so what the failure blocked runs too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from connector.core.records import Attempt, Reason, Run, Status
from connector.store.log import ActionLog
from connector.store.log_query import is_replayable

# Skips that only say "an earlier action went wrong": a replay of that action carries them.
BLOCKED = (Reason.STOPPED, Reason.NO_CONTACT)

__all__ = ["Refusal", "ReplayGroup", "ReplayPlan", "chain_head", "plan_replay", "replayable"]


@dataclass(frozen=True)
class Refusal:
    """A row that will not be replayed, and why."""

    row_id: int
    reason: str

    def to_dict(self) -> dict[str, object]:
        return {"row_id": self.row_id, "reason": self.reason}


@dataclass
class ReplayGroup:
    """The rows of one original run to replay together (``attempts`` are chain heads)."""

    run: Run
    attempts: list[Attempt]
    asked: list[int]  # the rows asked for, in the same order as ``attempts``
    # Rows of the run skipped because of one of ``attempts``, not replayed yet: they go too.
    carried: list[Attempt] = field(default_factory=list)

    @property
    def replayed(self) -> list[Attempt]:
        """Everything this group's replay plans, in the original order."""
        return sorted(self.attempts + self.carried, key=lambda a: a.log_id or 0)


@dataclass
class ReplayPlan:
    groups: list[ReplayGroup] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    # Rows the job resuming this plan replayed before it stopped: (row asked, its replay).
    done: list[tuple[int, Attempt]] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(len(g.attempts) for g in self.groups)


def chain_head(log: ActionLog, row_id: int) -> int:
    """The newest replay of ``row_id`` (following ``retry_of`` forward), or ``row_id``. Dry
    runs are not links: they changed nothing."""
    head = row_id
    for _ in range(1000):  # a chain is a few links; the bound only guards a corrupt file
        later = [r for r in log.retries(head) if r["status"] != "dry_run"]
        if not later:
            return head
        head = int(later[-1]["id"])
    return head


def replayable(attempt: Attempt) -> bool:
    code = attempt.reason_code.value if attempt.reason_code else None
    return is_replayable(attempt.status.value, code)


def plan_replay(
    log: ActionLog, row_ids: Iterable[int], *, account: str, job_id: str = ""
) -> ReplayPlan:
    """Which rows a replay of ``row_ids`` on ``account`` acts on, grouped by run; the others
    with their reason. ``job_id``: rows this job already finished count as done."""
    plan = ReplayPlan()
    by_run: dict[str, ReplayGroup] = {}
    for row_id in dict.fromkeys(row_ids):  # once each, in the order asked
        head_id = chain_head(log, row_id)
        head = log.attempt(head_id)
        if head is None:
            plan.refused.append(Refusal(row_id, f"Entry #{row_id} is not in the log."))
            continue
        if job_id and head.job_id == job_id:
            # This job replayed it before it was stopped: that replay's run is the replay, and
            # a worker finishes it if it is still open.
            plan.done.append((row_id, head))
            continue
        if not replayable(head):
            plan.refused.append(Refusal(row_id, _why_not(row_id, head)))
            continue
        known = by_run.get(head.run_id)
        run = known.run if known is not None else log.run(head.run_id)
        if run is None:
            plan.refused.append(Refusal(row_id, f"The run of entry #{head_id} is missing."))
            continue
        if run.account != account:
            plan.refused.append(
                Refusal(
                    row_id,
                    f"Entry #{head_id} was sent to {run.account}, not {account} (the account "
                    "in effect): a replay only goes to the account the action was meant for. "
                    "Switch to that account to replay it.",
                )
            )
            continue
        group = by_run.setdefault(head.run_id, ReplayGroup(run, [], []))
        group.attempts.append(head)
        group.asked.append(row_id)
    plan.groups = list(by_run.values())
    for group in plan.groups:
        group.carried = _blocked_by(log, group)
    return plan


def _blocked_by(log: ActionLog, group: ReplayGroup) -> list[Attempt]:
    """The rows of ``group.run`` skipped because an earlier row failed (a Stop failure, a
    contact sync that failed) that come after the first row replayed and were not replayed
    themselves."""
    chosen = {a.log_id for a in group.attempts}
    first = min((a.log_id or 0 for a in group.attempts), default=0)
    return [
        attempt
        for attempt in group.run.attempts
        if (attempt.log_id or 0) > first
        and attempt.log_id not in chosen
        and attempt.status is Status.SKIPPED
        and attempt.reason_code in BLOCKED
        and attempt.log_id is not None
        and chain_head(log, attempt.log_id) == attempt.log_id
    ]


def _why_not(row_id: int, head: Attempt) -> str:
    state = head.status.label.lower()
    if head.log_id != row_id:
        return (
            f"Entry #{row_id} was replayed already: its latest replay #{head.log_id} is "
            f"{state}, so there is nothing to replay."
        )
    return (
        f"Entry #{row_id} is {state}: only failed, interrupted or unknown actions (and those "
        "skipped because of them) are replayed."
    )
