"""Which ActiveCampaign account the console talks to, and every setting it reads.

An account is an API URL plus an API key (both shown in ActiveCampaign under Settings >
Developer). Operators paste all sorts of things; ``parse_api_url`` accepts the forms people
actually copy and refuses the rest with a sentence saying what to paste instead.

Precedence: ``AC_API_URL`` + ``AC_API_KEY`` in the environment (both set and valid, or it is an
error), else the account saved from the Setup page, else the built-in sandbox. The key is kept
only in the ``settings`` table and is masked everywhere else.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import urlsplit

from .db import Database
from .errors import SettingsError

__all__ = [
    "SETTINGS",
    "env_number",
    "AccountSettings",
    "Setting",
    "SettingsStore",
    "mask_key",
    "parse_api_key",
    "parse_api_url",
]


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "CONNECTOR_DB", "data/connector.db", "SQLite file for settings, prompts, catalog, log."
    ),
    Setting("AC_API_URL", "", "ActiveCampaign API URL; with AC_API_KEY overrides the Setup page."),
    Setting("AC_API_KEY", "", "ActiveCampaign API key; with AC_API_URL overrides the Setup page."),
    Setting("CONNECTOR_OPERATOR", "", "Name recorded as the operator in the action log."),
    Setting("AC_RATE_LIMIT", "5", "Requests per second the console allows itself per account."),
    Setting("AC_MAX_ATTEMPTS", "4", "Attempts per request before giving up (1: no retries)."),
    Setting("AC_RETRY_SECONDS", "30", "No retry starts later than this after the first attempt."),
)


def env_number(env: Mapping[str, str], name: str, minimum: float, whole: bool = True) -> float:
    """A numeric setting from ``env`` (default from ``SETTINGS``), refused with a sentence."""
    default = next(s.default for s in SETTINGS if s.name == name)
    raw = env.get(name, "").strip() or default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        kind = "a whole number" if whole else "a number"
        raise SettingsError(f"{name} must be {kind} of at least {minimum:g}, not “{raw}”.")
    return value


Source = Literal["sandbox", "saved", "environment"]

_WHERE = "Settings > Developer in ActiveCampaign"
_EXAMPLE = "https://youraccount.api-us1.com"
_ACCOUNT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_API_HOST = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}\.api-[a-z]{2}\d{1,2}\.com$")
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


def _shown(typed: str) -> str:
    """What the operator typed, as an error may repeat it: only when it looks like an address
    (a key pasted into the URL field must never be echoed back), and never at length."""
    if not any(mark in typed for mark in "./:"):
        return "What you typed"
    return f"“{typed[:60]}…”" if len(typed) > 60 else f"“{typed}”"


def parse_api_url(raw: str) -> str:
    """Normalise what an operator pasted to ``https://<account>.api-usN.com`` (no ``/api/3``).

    Accepted: ``myaccount``, ``myaccount.api-us1.com``, ``https://myaccount.api-us2.com/``,
    ``https://myaccount.api-us1.com/api/3``, and ``http://127.0.0.1:PORT`` / ``localhost`` for a
    local sandbox. Raises ``SettingsError`` with what to paste instead.
    """
    text = raw.strip()
    if not text:
        raise SettingsError(f"Enter your API URL. Copy it from {_WHERE}; it looks like {_EXAMPLE}.")
    candidate = text if "://" in text else f"https://{text}"
    try:
        parts = urlsplit(candidate)
        port = parts.port
    except ValueError as exc:
        raise SettingsError(
            f"{_shown(text)} is not a URL. Paste the API URL from {_WHERE}, like {_EXAMPLE}.",
            detail=type(exc).__name__,
        ) from exc
    host = (parts.hostname or "").lower()
    path = parts.path.rstrip("/")
    if parts.query or parts.fragment or parts.username or path not in ("", "/api/3"):
        raise SettingsError(
            f"{_shown(text)} has extra parts. Paste only the API URL from {_WHERE}, like "
            f"{_EXAMPLE}."
        )
    if parts.scheme not in ("http", "https"):
        raise SettingsError(f"Use an https:// address: the API URL from {_WHERE}, like {_EXAMPLE}.")

    if host in _LOOPBACK_HOSTS:
        if port is None:
            raise SettingsError(
                f"Add the port of the local server, e.g. http://{host}:8600 "
                "(python -m connector.sandbox prints it)."
            )
        netloc = f"[::1]:{port}" if ":" in host or host == "[::1]" else f"{host}:{port}"
        # A local sandbox serves plain http; without a scheme typed, assume that.
        scheme = parts.scheme if "://" in text else "http"
        return f"{scheme}://{netloc}"

    if "://" not in text and _ACCOUNT_NAME.match(host):
        host = f"{host}.api-us1.com"
    if host.endswith(".activehosted.com"):
        account = host.removesuffix(".activehosted.com")
        raise SettingsError(
            f"{host} is the address of the ActiveCampaign web app, not the API. "
            f"Paste the API URL from {_WHERE}; it usually looks like https://{account}.api-us1.com."
        )
    if not _API_HOST.match(host):
        raise SettingsError(
            f"{_shown(text)} is not an ActiveCampaign API URL. Paste the API URL from {_WHERE}, "
            f"like {_EXAMPLE}, or just your account name."
        )
    if parts.scheme != "https":
        raise SettingsError(
            f"ActiveCampaign only accepts https. Use https://{host} (plain http is only for a "
            "local sandbox on 127.0.0.1 or localhost)."
        )
    if port not in (None, 443):
        raise SettingsError(f"Remove the port: the API URL is https://{host}.")
    return f"https://{host}"


MAX_KEY_LENGTH = 200  # ActiveCampaign keys are 72 characters; anything this long is a bad paste


def parse_api_key(raw: str) -> str:
    """Trim the key; refuse anything that can't be one: empty, spaces or line breaks inside,
    characters that are not printable ASCII (they can't travel in an HTTP header), or a length
    no key has. The refusal never repeats the key."""
    key = raw.strip()
    if not key:
        raise SettingsError(f"Enter your API key. Copy it from {_WHERE}.")
    if any(ch.isspace() for ch in key):
        raise SettingsError(
            "The API key has spaces or line breaks inside. Copy it again from "
            f"{_WHERE} with the copy button next to it."
        )
    odd = next(
        (n for n, ch in enumerate(key, start=1) if not (ch.isascii() and ch.isprintable())), 0
    )
    if odd:
        raise SettingsError(
            f"The API key has a character that can't be part of a key (character {odd}: "
            "keys are letters, digits and punctuation only). Copy it again from "
            f"{_WHERE}."
        )
    if len(key) > MAX_KEY_LENGTH:
        raise SettingsError(
            f"The API key is {len(key):,} characters long; an ActiveCampaign key is under "
            f"{MAX_KEY_LENGTH}. Copy only the key from {_WHERE}."
        )
    return key


def mask_key(key: str) -> str:
    """Show only the last four characters, so an operator can tell two keys apart."""
    if len(key) <= 4:
        return "•" * len(key)
    return "•" * 8 + key[-4:]


@dataclass(frozen=True)
class AccountSettings:
    """The account in effect. ``repr`` never shows the key."""

    api_url: str
    api_key: str = field(repr=False)
    source: Source

    @property
    def is_sandbox(self) -> bool:
        return self.source == "sandbox"

    @property
    def host(self) -> str:
        return urlsplit(self.api_url).netloc

    @property
    def masked_key(self) -> str:
        return mask_key(self.api_key)

    @property
    def label(self) -> str:
        """How the account is named in the log and the sidebar."""
        return "sandbox" if self.is_sandbox else self.host


class SettingsStore:
    """Saved account settings in the console database. Thread-safe."""

    _URL, _KEY = "ac_api_url", "ac_api_key"

    def __init__(self, db: Database) -> None:
        self._db = db

    def saved(self) -> tuple[str, str] | None:
        with self._db.read() as conn:
            rows = {
                r["key"]: r["value"]
                for r in conn.table("settings").rows_where("key in (?, ?)", [self._URL, self._KEY])
            }
        if rows.get(self._URL) and rows.get(self._KEY):
            return rows[self._URL], rows[self._KEY]
        return None

    def flag(self, name: str) -> bool:
        """Whether the one-off marker ``name`` was set (e.g. the demo prompts were seeded)."""
        with self._db.read() as conn:
            return bool(list(conn.table("settings").rows_where("key = ?", [name])))

    def save(self, api_url: str, api_key: str) -> tuple[str, str]:
        """Validate, normalise and store; returns what was stored."""
        url, key = parse_api_url(api_url), parse_api_key(api_key)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._db.write() as conn:
            conn.table("settings").upsert_all(
                [
                    {"key": self._URL, "value": url, "updated_at": now},
                    {"key": self._KEY, "value": key, "updated_at": now},
                ],
                pk="key",
            )
        return url, key

    def clear(self) -> None:
        """Forget the saved account: the console goes back to the sandbox."""
        with self._db.write() as conn:
            conn.execute("DELETE FROM settings WHERE key IN (?, ?)", [self._URL, self._KEY])

    def effective(
        self, sandbox_url: str, sandbox_key: str, env: Mapping[str, str] | None = None
    ) -> AccountSettings:
        """The one account in effect: the environment's (both variables, both valid), else the
        saved one, else the sandbox. A broken or half-set environment is an error, never a
        reason to quietly act on another account."""
        env = os.environ if env is None else env
        env_url, env_key = env.get("AC_API_URL", "").strip(), env.get("AC_API_KEY", "").strip()
        if env_url and env_key:
            try:
                return AccountSettings(
                    parse_api_url(env_url), parse_api_key(env_key), "environment"
                )
            except SettingsError as exc:
                raise SettingsError(
                    f"AC_API_URL / AC_API_KEY in the environment can't be used: {exc.message} "
                    "Fix or unset them; the console does not fall back to another account.",
                    detail=exc.detail,
                ) from None
        if env_url or env_key:
            present, missing = (
                ("AC_API_URL", "AC_API_KEY") if env_url else ("AC_API_KEY", "AC_API_URL")
            )
            raise SettingsError(
                f"{present} is set but {missing} is not. Set both to use an account from the "
                f"environment, or unset {present}; the console does not fall back to another "
                "account."
            )
        saved = self.saved()
        if saved:
            try:
                return AccountSettings(parse_api_url(saved[0]), parse_api_key(saved[1]), "saved")
            except SettingsError as exc:
                raise SettingsError(
                    f"The saved account can't be used: {exc.message} Enter it again on Setup, "
                    "or switch to the sandbox there.",
                    detail=exc.detail,
                ) from None
        return AccountSettings(sandbox_url, sandbox_key, "sandbox")
