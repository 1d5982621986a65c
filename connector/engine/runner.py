"""``Runner``: one entry point's way in: intake, then execution in this process at once.

The Simulator, the CLI, tests of actions and replays want the outcome now, so the runner hands
the submission to intake (validated, planned and recorded in one transaction, born leased to
this process) and executes it here while the user waits. If this process dies, the lease
expires and a worker (``python -m connector worker``, or the dashboard's) finishes the run from
what the store holds: the same executor, the same claims, the same evidence.

Order of a run: see ``engine.plan`` (what is planned) and ``engine.executor`` (how it runs).
"""

from __future__ import annotations

from collections.abc import Mapping

from connector.ac.client import AcClient
from connector.core.models import Interaction
from connector.core.records import Attempt, Run, SimulatedUser
from connector.engage.prompts import Prompt
from connector.engine.executor import Executor
from connector.engine.intake import Intake, Submission
from connector.store.leases import Leases

__all__ = ["Runner"]


class Runner:
    """Submits and executes interactions on one account. Thread-safe when its parts are."""

    def __init__(self, intake: Intake, executor: Executor, leases: Leases) -> None:
        self.intake = intake
        self.executor = executor
        self.leases = leases

    @property
    def account(self) -> str:
        return self.intake.account

    @property
    def client(self) -> AcClient:
        return self.executor.client

    def run(
        self,
        prompt: Prompt,
        interaction: Interaction,
        user: SimulatedUser,
        form_values: Mapping[int, str] | None = None,
        *,
        dry_run: bool = False,
        idempotency_key: str = "",
    ) -> Run:
        """Run ``interaction`` of ``prompt`` for ``user``. Raises ``StorageError`` only when the
        run can't be recorded before anything is sent; every later failure is in the record.
        A repeated ``idempotency_key`` returns the first run (``duplicate``), sending nothing."""
        submission = Submission(prompt, interaction, user, form_values, dry_run, idempotency_key)
        token = self.executor.heartbeat.token()
        run = self.intake.submit(submission, lease_owner=token, lease_until=self.leases.until())
        return self._execute(run, token)

    def replay(
        self, original: Run, attempts: list[Attempt], *, job_id: str = "", dry_run: bool = False
    ) -> Run:
        """Run ``attempts`` (rows of ``original``) again as a new run; see ``Intake.replay``."""
        token = self.executor.heartbeat.token()
        run = self.intake.replay(
            original,
            attempts,
            job_id=job_id,
            dry_run=dry_run,
            lease_owner=token,
            lease_until=self.leases.until(),
        )
        return self._execute(run, token)

    def _execute(self, run: Run, token: str) -> Run:
        if run.duplicate or not run.open:
            return run
        if run.next_at and run.next_at > self.leases.clock():
            self.leases.release_run(run.run_id, token, run.next_at)  # a worker runs it then
            return run
        return self.executor.execute(run, token)
