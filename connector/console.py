"""``Console``: the console's state in one object, shared by the pages, the CLI and the tests.

It opens the database, knows which account is in effect, hands out one ``AcClient`` per account
(the built-in sandbox's talks to it in process) and builds runners. Thread-safe: the dashboard
keeps one per process (``st.cache_resource``) for all browser sessions.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path

from .budget import RequestBudget, budget_for
from .catalog import Catalog, RefreshProgress
from .client import AcClient
from .db import Database
from .demo import demo_prompts
from .log import ActionLog
from .models import CatalogKind, User
from .prompts import PromptStore
from .retry import RetryPolicy
from .runner import Runner
from .sandbox import SANDBOX_URL, Sandbox
from .settings import AccountSettings, SettingsStore, env_number, parse_api_key, parse_api_url

__all__ = ["DEFAULT_DB", "Console"]

DEFAULT_DB = "data/connector.db"
_DEMO_SEEDED = "demo_prompts_seeded"


class Console:
    def __init__(
        self,
        db_path: str | Path | None = None,
        *,
        env: Mapping[str, str] | None = None,
        sandbox: Sandbox | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.env = os.environ if env is None else env
        self.db = Database(db_path or self.env.get("CONNECTOR_DB") or DEFAULT_DB)
        self.settings = SettingsStore(self.db)
        self.prompts = PromptStore(self.db)
        self.log = ActionLog(self.db)
        self.catalog = Catalog(self.db)
        self._sandbox = sandbox
        self.rate_limit = int(env_number(self.env, "AC_RATE_LIMIT", 1))
        self.retry = retry or RetryPolicy(
            max_attempts=int(env_number(self.env, "AC_MAX_ATTEMPTS", 1)),
            max_seconds=env_number(self.env, "AC_RETRY_SECONDS", 0, whole=False),
        )
        self._sandbox_budget: RequestBudget | None = None
        self._lock = threading.RLock()
        self._clients: dict[tuple[str, str], AcClient] = {}
        self.log.recover_interrupted()
        self._seed_demo_prompts()

    # -- accounts ---------------------------------------------------------------------------------

    @property
    def sandbox(self) -> Sandbox:
        """The built-in emulator; its state lives in ``sandbox.db`` beside the console's file."""
        with self._lock:
            if self._sandbox is None:
                # The demo account limits requests like a live one, so what works here works there.
                self._sandbox = Sandbox(self.sandbox_path, rate_limit=self.rate_limit)
            return self._sandbox

    @property
    def sandbox_path(self) -> Path:
        return self.db.path.parent / "sandbox.db"

    def account(self) -> AccountSettings:
        return self.settings.effective(SANDBOX_URL, self.sandbox.api_key, self.env)

    def client(self, account: AccountSettings | None = None) -> AcClient:
        """The shared client for ``account`` (default: the one in effect)."""
        account = account or self.account()
        key = (account.api_url, account.api_key)
        with self._lock:
            if key not in self._clients:
                if account.api_url == SANDBOX_URL:
                    transport, budget = self.sandbox.transport(), self._budget_for_sandbox()
                else:
                    transport, budget = None, budget_for(account.api_url, self.rate_limit)
                self._clients[key] = AcClient(
                    account.api_url,
                    account.api_key,
                    transport=transport,
                    budget=budget,
                    retry=self.retry,
                )
            return self._clients[key]

    def _budget_for_sandbox(self) -> RequestBudget | None:
        """Keep the in-process sandbox's own limit, if it has one (tests run it unlimited)."""
        limit = self.sandbox.config()["rate_limit"]
        if limit and self._sandbox_budget is None:
            self._sandbox_budget = RequestBudget(int(limit), self.sandbox.config()["rate_window"])
        return self._sandbox_budget if limit else None

    def check(self, api_url: str | None = None, api_key: str | None = None) -> User:
        """Ask the API who the key belongs to; raises ``SettingsError`` or an ``ApiError``.

        Without arguments checks the account in effect; with them, the typed (unsaved) ones."""
        if api_url is None or api_key is None:
            return self.client().me()
        account = AccountSettings(parse_api_url(api_url), parse_api_key(api_key), "saved")
        budget = budget_for(account.api_url, self.rate_limit)
        with AcClient(account.api_url, account.api_key, budget=budget, retry=self.retry) as client:
            return client.me()

    def save_account(self, api_url: str, api_key: str) -> User:
        """Check the account live, then save it; nothing is saved when the check fails."""
        user = self.check(api_url, api_key)
        self.settings.save(api_url, api_key)
        return user

    def use_sandbox(self) -> None:
        self.settings.clear()

    def reset_sandbox(self) -> None:
        self.sandbox.reset()
        self.catalog.clear("sandbox")

    # -- work -----------------------------------------------------------------------------------

    def runner(self, *, operator: str = "", source: str = "simulator") -> Runner:
        account = self.account()
        return Runner(
            self.client(account), self.log, account=account.label, operator=operator, source=source
        )

    def refresh_catalog(
        self,
        kinds: tuple[CatalogKind, ...] = tuple(CatalogKind),
        on_progress: RefreshProgress | None = None,
    ) -> dict[CatalogKind, int]:
        account = self.account()
        return self.catalog.refresh(self.client(account), account.label, kinds, on_progress)

    def catalog_items(self, kind: CatalogKind) -> list:
        return self.catalog.items(self.account().label, kind)

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()
            if self._sandbox is not None:
                self._sandbox.close()
            self.db.close()

    # -- demo -----------------------------------------------------------------------------------

    def _seed_demo_prompts(self) -> None:
        """Two example prompts on first start, pointing at the sandbox's lists and automations.

        Seeded once: an operator who deletes them does not get them back."""
        if self.settings.flag(_DEMO_SEEDED) or not self.prompts.is_empty():
            return
        client = self.client(AccountSettings(SANDBOX_URL, self.sandbox.api_key, "sandbox"))
        for prompt in demo_prompts(client):
            self.prompts.save(prompt)
        self.settings.set_flag(_DEMO_SEEDED)
