"""``Console``: the console's state in one object, shared by the pages, the CLI and the tests.

Creating one opens and migrates the database and does nothing else. The account in effect is
resolved when asked (``account()``: the environment's, else the saved one, else the sandbox; a
broken environment is an error), the built-in sandbox is created only when it is the account in
use, and the demo prompts are seeded by an explicit step (``seed_demo_prompts``). Thread-safe:
the dashboard keeps one per process (``st.cache_resource``) for all browser sessions.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

from connector.ac.client import AcClient
from connector.ac.retry import RetryPolicy
from connector.core.errors import ConnectorError, InputError, SettingsError, clip
from connector.core.models import ActionType, CatalogKind, Interaction, User
from connector.core.records import Run, SimulatedUser
from connector.engage.demo import demo_prompts
from connector.engage.forms import email_problem, sample_form
from connector.engage.prompts import Prompt
from connector.engine.budget import RequestBudget
from connector.engine.claims import Claims
from connector.engine.executor import Executor
from connector.engine.heartbeat import Heartbeat
from connector.engine.intake import Intake
from connector.engine.jobs import ReplayJob, ReplayJobs
from connector.engine.runner import Runner
from connector.sandbox import DEMO_API_KEY, SANDBOX_URL, Sandbox
from connector.store.audit import AuditKind, AuditLog, account_snapshot
from connector.store.catalog import Catalog, RefreshProgress
from connector.store.cipher import KeyCipher
from connector.store.db import BUSY_TIMEOUT_SECONDS, Database
from connector.store.leases import Leases
from connector.store.log import ActionLog
from connector.store.prompts import PromptStore
from connector.store.retention import Cleanup, count_older, delete_older
from connector.store.settings import (
    AccountSettings,
    SettingsStore,
    allowed_hosts,
    default_test_contact,
    env_number,
    parse_api_key,
    parse_api_url,
)

__all__ = ["DEFAULT_DB", "DEMO_SEEDED", "Console"]

DEFAULT_DB = "data/connector.db"
DEMO_SEEDED = "demo_prompts_seeded"


class Console:
    """The console on one data file.

    ``clock`` and ``sleep`` replace the real ones for request budgets, retries and log-write
    retries (tests pass a fake clock so nothing waits for real)."""

    def __init__(
        self,
        db_path: str | Path | None = None,
        *,
        env: Mapping[str, str] | None = None,
        sandbox: Sandbox | None = None,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        busy_timeout: float = BUSY_TIMEOUT_SECONDS,
    ) -> None:
        self.env = os.environ if env is None else env
        self.rate_limit = int(env_number(self.env, "AC_RATE_LIMIT", 1))
        self.retry = retry or RetryPolicy(
            max_attempts=int(env_number(self.env, "AC_MAX_ATTEMPTS", 1)),
            max_seconds=env_number(self.env, "AC_RETRY_SECONDS", 0, whole=False),
        )
        self._clock = clock
        self._sleep = sleep
        path = db_path or self.env.get("CONNECTOR_DB") or DEFAULT_DB
        self.db = Database(path, busy_timeout=busy_timeout)
        self.settings = SettingsStore(self.db)
        try:
            self.settings.seal_if_plain(self.env)  # a key saved before the secret was set
        except SettingsError:
            pass  # a malformed secret: said wherever the key is used
        self.prompts = PromptStore(self.db)
        self.log = ActionLog(self.db, sleep=sleep)
        self.catalog = Catalog(self.db)
        wall = clock or time.time
        self.settle_seconds = env_number(self.env, "CONNECTOR_SETTLE_SECONDS", 0, whole=False)
        lease_seconds = env_number(self.env, "CONNECTOR_LEASE_SECONDS", 1, whole=False)
        self.leases = Leases(self.db, seconds=lease_seconds, clock=wall)
        self.heartbeat = Heartbeat(self.leases)
        self.claims = Claims(self.db, self.leases)
        self.audit = AuditLog(self.db)
        self.jobs = ReplayJobs(self.db, self.leases)
        self._sandbox = sandbox
        self._lock = threading.RLock()
        self._clients: dict[tuple[str, str], AcClient] = {}

    # -- accounts ---------------------------------------------------------------------------------

    @property
    def sandbox(self) -> Sandbox:
        """The built-in emulator, created on first use; its state lives in ``sandbox.db``
        beside the console's file, shared by every process using that file."""
        with self._lock:
            if self._sandbox is None:
                # The demo account limits requests like a live one, so what works here works there.
                self._sandbox = Sandbox(self.sandbox_path, rate_limit=self.rate_limit)
            return self._sandbox

    @property
    def sandbox_path(self) -> Path:
        return self.db.path.parent / "sandbox.db"

    def account(self) -> AccountSettings:
        """The account in effect; ``SettingsError`` when the environment's is broken."""
        key = self._sandbox.api_key if self._sandbox is not None else DEMO_API_KEY
        return self.settings.effective(SANDBOX_URL, key, self.env)

    def account_source(self) -> str:
        """Where the account in effect comes from (``environment``, ``saved``, ``sandbox``), or
        ``unusable`` when it can't be used."""
        try:
            return self.account().source
        except SettingsError:
            return "unusable"

    def will_encrypt(self) -> bool:
        """Whether a key saved now is encrypted (``CONNECTOR_SECRET_KEY`` is set);
        ``SettingsError`` when the secret is set but not usable."""
        return KeyCipher.from_env(self.env).encrypts

    def key_encrypted(self) -> bool:
        """Whether the saved key is encrypted at rest."""
        saved = self.settings.account()
        return saved is not None and saved.encrypted

    def client(self, account: AccountSettings | None = None) -> AcClient:
        """The shared client for ``account`` (default: the one in effect)."""
        account = account or self.account()
        key = (account.api_url, account.api_key)
        with self._lock:
            if key not in self._clients:
                sandboxed = account.api_url == SANDBOX_URL
                self._clients[key] = self._new_client(
                    account, self.sandbox.transport() if sandboxed else None
                )
            return self._clients[key]

    def _new_client(self, account: AccountSettings, transport: object = None) -> AcClient:
        if transport is None:
            # The last door before the key leaves the process: only an allowed host, whatever
            # path the account took to get here.
            parse_api_url(account.api_url, allowed_hosts(self.env))
        return AcClient(
            account.api_url,
            account.api_key,
            transport=transport,  # type: ignore[arg-type]
            budget=self._budget(account),
            retry=self.retry,
            clock=self._clock or time.monotonic,
            sleep=self._sleep,
        )

    def _budget(self, account: AccountSettings) -> RequestBudget | None:
        """The account's budget, shared with every process on this data file. The embedded
        sandbox gets one only when it limits requests itself (tests run it unlimited)."""
        limit = self.rate_limit
        if account.api_url == SANDBOX_URL:
            sandbox_limit = self.sandbox.config()["rate_limit"]
            if not sandbox_limit:
                return None
            limit = int(sandbox_limit)
        return RequestBudget(
            self.db, account.label, limit, clock=self._clock or time.time, sleep=self._sleep
        )

    def check(self, api_url: str | None = None, api_key: str | None = None) -> User:
        """Ask the API who the key belongs to; raises ``SettingsError`` or an ``ApiError``.

        Without arguments checks the account in effect; with them, the typed (unsaved) ones."""
        if api_url is None or api_key is None:
            return self.client().me()
        url = parse_api_url(api_url, allowed_hosts(self.env))
        account = AccountSettings(url, parse_api_key(api_key), "saved")
        with self._new_client(account) as client:
            return client.me()

    def save_account(
        self, api_url: str, api_key: str, *, operator: str = "", source: str = "setup"
    ) -> User:
        """Check the account live, then save it and put it in use; nothing is saved when the
        check fails. The audit trail gets the URL and the masked key, never the key."""
        user = self.check(api_url, api_key)
        before = self._saved_account()
        url, key = self.settings.save(api_url, api_key, self.env)
        after = account_snapshot(url, key)
        self.audit.record(
            AuditKind.ACCOUNT_SAVED,
            after["host"],
            before=before,
            after=after,
            operator=operator,
            source=source,
            secrets=(key, api_key),
        )
        return user

    def use_sandbox(self, *, operator: str = "", source: str = "setup") -> None:
        """Go back to the sandbox; the saved account stays saved, to switch back to without
        entering the key again."""
        before = self._saved_account()
        self.settings.use("sandbox")
        self.audit.record(
            AuditKind.ACCOUNT_SWITCHED,
            "sandbox",
            before=before,
            after={"account": "sandbox", "saved account": "kept"},
            operator=operator,
            source=source,
        )

    def use_saved_account(self, *, operator: str = "", source: str = "setup") -> AccountSettings:
        """Switch back to the saved account (its key must open); returns it."""
        self.settings.use("saved")
        try:
            account = self.account()
        except SettingsError:
            self.settings.use("sandbox")  # a key that can't be opened is not left in use
            raise
        saved = self._saved_account()
        self.audit.record(
            AuditKind.ACCOUNT_SWITCHED,
            saved["host"] if saved else account.label,  # the environment's may be in effect
            before={"account": "sandbox"},
            after=saved,
            operator=operator,
            source=source,
        )
        return account

    def forget_account(self, *, operator: str = "", source: str = "setup") -> None:
        """Remove the saved account and its key from the data file; the sandbox is in use."""
        before = self._saved_account()
        if before is None:
            return
        self.settings.clear()
        self.audit.record(
            AuditKind.ACCOUNT_REMOVED,
            before["host"],
            before=before,
            after=None,
            operator=operator,
            source=source,
        )

    def reset_sandbox(self, *, operator: str = "", source: str = "setup") -> None:
        self.sandbox.reset()
        self.catalog.clear("sandbox")
        self.audit.record(
            AuditKind.SANDBOX_RESET,
            "sandbox",
            before=None,
            after={"sandbox": "seeded demo account", "catalog": "cleared"},
            operator=operator,
            source=source,
        )

    def _saved_account(self) -> dict[str, str] | None:
        saved = self.settings.account()
        if saved is None:
            return None
        return {"api_url": saved.api_url, "host": saved.host, "masked_key": saved.masked_key}

    # -- prompts ----------------------------------------------------------------------------------

    def save_prompt(self, prompt: Prompt, *, operator: str = "", source: str = "prompts") -> Prompt:
        """Create (no id) or update the prompt, and record which, with what changed."""
        edited = prompt.id is not None
        before = self._stored(prompt.id) if prompt.id is not None else None
        saved = self.prompts.save(prompt)
        self.audit.record(
            AuditKind.PROMPT_EDITED if edited else AuditKind.PROMPT_CREATED,
            saved.name,
            before=before,
            after=saved.to_dict(),
            operator=operator,
            source=source,
        )
        return saved

    def _stored(self, prompt_id: int) -> dict[str, object] | None:
        """What the store holds for ``prompt_id``, for the audit trail: the definition, or, when
        it can't be read, its name and why (so a broken prompt can still be replaced or
        deleted, on the record)."""
        try:
            found = self.prompts.get(prompt_id)
        except InputError as exc:
            broken = next((b for b in self.prompts.broken() if b.id == prompt_id), None)
            return {"name": broken.name if broken else f"#{prompt_id}", "unreadable": exc.message}
        return found.to_dict() if found is not None else None

    def duplicate_prompt(
        self, prompt_id: int, *, operator: str = "", source: str = "prompts"
    ) -> Prompt:
        """A copy of the stored prompt under a free name, recorded as created."""
        copy = self.prompts.duplicate(prompt_id)
        self.audit.record(
            AuditKind.PROMPT_CREATED,
            copy.name,
            before=None,
            after=copy.to_dict(),
            operator=operator,
            source=source,
        )
        return copy

    def delete_prompt(self, prompt_id: int, *, operator: str = "", source: str = "prompts") -> None:
        """Delete the prompt (its rows in the action log are kept); the event keeps what it was.
        Nothing is recorded when it was already gone."""
        before = self._stored(prompt_id)
        self.prompts.delete(prompt_id)
        if before is None:
            return
        self.audit.record(
            AuditKind.PROMPT_DELETED,
            str(before.get("name") or f"#{prompt_id}"),
            before=before,
            after=None,
            operator=operator,
            source=source,
        )

    def delete_log_older(
        self, cutoff: str, *, operator: str = "", source: str = "action_log"
    ) -> Cleanup:
        """Delete the log rows from before ``cutoff`` (UTC ISO) and record who did it."""
        before = count_older(self.db, cutoff)
        done = delete_older(self.db, cutoff)
        self.audit.record(
            AuditKind.LOG_RETENTION,
            f"rows before {cutoff[:10]}",
            before={"action rows": before.actions, "runs": before.runs},
            after={"action rows deleted": done.actions, "runs deleted": done.runs},
            operator=operator,
            source=source,
        )
        return done

    # -- work -----------------------------------------------------------------------------------

    def start_replay(
        self,
        row_ids: list[int],
        *,
        description: str,
        operator: str = "",
        source: str = "action_log",
        dry_run: bool = False,
    ) -> ReplayJob:
        """Queue a replay of ``row_ids`` on the account in effect for a worker to run."""
        job = self.jobs.create(
            row_ids,
            account=self.account().label,
            description=description,
            operator=operator,
            source=source,
            dry_run=dry_run,
        )
        return job

    def runner(
        self,
        *,
        operator: str = "",
        source: str = "simulator",
        account: AccountSettings | None = None,
        expect: str | None = None,
    ) -> Runner:
        """A runner on ``account`` (default: the one in effect). ``expect`` is the account the
        operator was shown: if another is in effect now, nothing runs."""
        account = account or self.account()
        if expect is not None and account.label != expect:
            raise SettingsError(
                f"The account changed since the page was drawn: it is now {account.label}, not "
                f"{expect}. Nothing was sent; look at the page again, then click."
            )
        intake = Intake(self.log, account=account.label, operator=operator, source=source)
        return Runner(intake, self.executor(account), self.leases)

    def executor(self, account: AccountSettings) -> Executor:
        return Executor(
            self.client(account),
            self.log,
            self.claims,
            self.heartbeat,
            settle_seconds=self.settle_seconds,
            clock=self.leases.clock,
        )

    def work_on_due_run(self) -> bool:
        """Take one due open run (its executor died, a verification is due) and execute it,
        on its own account only. False when nothing is due."""
        account = self.account()  # unusable: raises before anything is taken
        token = self.heartbeat.token()
        run_id = self.leases.take_due_run(token)
        if run_id is None:
            return False
        later = self.leases.clock() + 60.0
        run = self.log.run(run_id)
        if run is None:  # deleted between the two reads
            return True
        if run.account != account.label:
            # Never on another account: it waits until its own is in effect again.
            self.leases.release_run(run_id, token, later)
            return False
        try:
            self.executor(account).execute(run, token)
        except Exception as exc:
            # A run this version can't execute (a row it can't read, a bug) is parked, said,
            # and retried later: it must not stop the worker or be retaken hot.
            self.leases.release_run(run_id, token, later)
            raise ConnectorError(
                f"Run {run_id} could not be executed ({type(exc).__name__}: {clip(str(exc))}); "
                "it is tried again in a minute."
            ) from exc
        return True

    def work_on_free_job(self) -> bool:
        """Run one replay job nobody holds (queued, or its holder's lease expired)."""
        for job_id in self.jobs.resumable():
            if self.jobs.run_if_free(job_id, self)[1]:
                return True
        return False

    def test_action(
        self,
        prompt: Prompt,
        interaction: Interaction,
        action_id: str,
        email: str = "",
        *,
        dry_run: bool = True,
        operator: str = "",
        form_values: Mapping[int, str] | None = None,
        traits: Mapping[str, str] | None = None,
        expect: str | None = None,
    ) -> Run:
        """Run one action of ``prompt`` alone on the contact with ``email`` (default: the
        ``CONNECTOR_TEST_CONTACT`` setting), the editor's "Test this action" and the CLI's
        ``test-action``: one more entry point of the intake, with the same runner, claims and
        log as any run (source ``test``). A dry run by default: it only reads.

        A test sends only what the operator chose. The contact payload (and so the sync the
        runner makes before an action that needs a contact id) carries the email, plus, when
        the action under test sets contact fields itself (Add Contact, Update Contact Fields),
        the mapped fields whose values the operator typed (``form_values`` by input position,
        ``traits``) and the prompt's fixed values. Nothing is invented: no sample name, no
        sample form value; an input left blank is not sent (a test does not require the form's
        required inputs). Testing any other action (Add Tag, Add to List…) therefore never
        changes the contact's name, phone or custom fields.

        On an email no contact has, an action that needs a contact (Add Tag, Add to List, Add
        to Automation) creates it with the email alone, as the sync of a real run would: the
        test exercises the path a real run takes, and the default target is a dedicated test
        contact, which the first test may have to create. Refusing instead would make those
        actions untestable on a fresh test contact. Actions that act on an existing contact only
        (Remove Tag, Unsubscribe, Update Contact Fields…) find nothing to do, as in a real run.

        ``expect`` is the account the operator was shown: if another is in effect now, nothing
        runs. Raises ``InputError`` when there is no valid email to test on."""
        config = next((a for a in prompt.actions_for(interaction) if a.id == action_id), None)
        if config is None:
            raise InputError("That action is no longer on the prompt: save it, then test.")
        typed = email.strip()
        email = typed or default_test_contact(self.env)
        if not email:
            raise InputError(
                "Enter the email of the contact the test acts on (or set CONNECTOR_TEST_CONTACT "
                "to name a test contact).",
                field="test_email",
            )
        if problem := email_problem(email):
            where = "The test contact's email" if typed else "CONNECTOR_TEST_CONTACT"
            raise InputError(f"{where} is refused: {problem}", field="test_email")
        sets_fields = config.type in (ActionType.ADD_CONTACT, ActionType.UPDATE_CONTACT)
        alone = Prompt.from_dict({**prompt.to_dict(), "actions": {}})
        alone.id, alone.actions = prompt.id, {interaction: [config]}
        if sets_fields:  # the mapped fields, from what was typed; the email is the test's own
            alone.mappings = [m for m in alone.mappings if m.field != "email"]
            alone.inputs = [replace(i, required=False) for i in alone.inputs]
            values = sample_form(prompt, email, form_values)
            chosen = {k: str(v) for k, v in (traits or {}).items() if str(v).strip()}
        else:  # only the email: the contact's fields are not this action's business
            alone.mappings, alone.inputs, values, chosen = [], [], {}, {}
        sample = SimulatedUser("test-user", {**chosen, "email_address": email})
        runner = self.runner(operator=operator, source="test", expect=expect)
        return runner.run(alone, interaction, sample, values, dry_run=dry_run)

    def refresh_catalog(
        self,
        kinds: tuple[CatalogKind, ...] = tuple(CatalogKind),
        on_progress: RefreshProgress | None = None,
    ) -> dict[CatalogKind, int]:
        account = self.account()
        return self.catalog.refresh(self.client(account), account.label, kinds, on_progress)

    def catalog_items(self, kind: CatalogKind) -> list:
        return self.catalog.items(self.account().label, kind)

    def seed_demo_prompts(self) -> bool:
        """Two example prompts on the sandbox's catalog, once per data file: only while the
        sandbox is the account in use and no prompt exists. Safe to call from any number of
        processes at once; returns whether this call seeded them."""
        if self.settings.flag(DEMO_SEEDED):
            return False
        account = self.account()
        if not account.is_sandbox:
            return False
        return self.prompts.seed_once(demo_prompts(self.client(account)), DEMO_SEEDED)

    def close(self) -> None:
        # Outcomes the store refused earlier get one more chance; if it still refuses, their
        # rows stay pending and the resuming worker verifies them.
        self.log.flush()
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()
            if self._sandbox is not None:
                self._sandbox.close()
            self.db.close()
