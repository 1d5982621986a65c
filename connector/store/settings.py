"""Which ActiveCampaign account the console talks to, and every setting it reads.

An account is an API URL plus an API key (both shown in ActiveCampaign under Settings >
Developer). Operators paste all sorts of things; ``parse_api_url`` accepts the forms people
actually copy and refuses the rest with a sentence saying what to paste instead.

Precedence: ``AC_API_URL`` + ``AC_API_KEY`` in the environment (both set and valid, or it is an
error), else the account saved from the Setup page, else the built-in sandbox. The key is kept
only in the ``settings`` table and is masked everywhere else.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import urlsplit

from connector.core.errors import SettingsError, clip
from connector.store.cipher import KeyCipher
from connector.store.db import Database

__all__ = [
    "SETTINGS",
    "env_number",
    "AccountSettings",
    "SavedAccount",
    "allowed_hosts",
    "Setting",
    "SettingsStore",
    "mask_key",
    "parse_api_key",
    "parse_api_url",
    "default_test_contact",
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
    Setting(
        "CONNECTOR_SECRET_KEY",
        "",
        "Fernet key that encrypts the saved API key (python -m connector secret-key).",
    ),
    Setting(
        "AC_ALLOWED_HOSTS",
        "",
        "Extra API hosts (host or host:port, comma-separated) the key may go to over https.",
    ),
    Setting(
        "CONNECTOR_ALLOWED_OPERATORS",
        "",
        "With sign-in configured: emails or @domains allowed in (comma-separated).",
    ),
    Setting("AC_RATE_LIMIT", "5", "Requests per second the console allows itself per account."),
    Setting("AC_MAX_ATTEMPTS", "4", "Attempts per request before giving up (1: no retries)."),
    Setting("AC_RETRY_SECONDS", "30", "No retry starts later than this after the first attempt."),
    Setting(
        "CONNECTOR_SETTLE_SECONDS",
        "60",
        "Seconds after a write's answer was lost before a check decides whether it landed (then "
        "it is concluded, or sent again): longer than the client's 10 s timeout plus what the "
        "account takes to apply a write.",
    ),
    Setting(
        "CONNECTOR_NODE",
        "",
        "This machine's name in leases (default: the host name), for the log and the jobs list.",
    ),
    Setting(
        "CONNECTOR_LEASE_SECONDS",
        "30",
        "How long a run, claim or replay job stays with a process that stopped renewing it "
        "before any worker takes it over.",
    ),
    Setting(
        "CONNECTOR_TEST_CONTACT",
        "",
        "Email the editor's 'Test this action' (and python -m connector test-action) acts on "
        "by default, e.g. qa+connector@yourdomain.",
    ),
)


def default_test_contact(env: Mapping[str, str]) -> str:
    """The default target of a test (``CONNECTOR_TEST_CONTACT``), trimmed; "" when unset. Not
    validated here: the test refuses a bad address with a sentence naming the setting."""
    return env.get("CONNECTOR_TEST_CONTACT", "").strip()


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


def _shown(typed: str) -> str:
    """What the operator typed, as an error may repeat it: only when it looks like an address
    (a key pasted into the URL field must never be echoed back), and never at length."""
    if not any(mark in typed for mark in "./:"):
        return "What you typed"
    return f"“{clip(typed, 61)}”"


def allowed_hosts(env: Mapping[str, str]) -> frozenset[str]:
    """``AC_ALLOWED_HOSTS``: extra API hosts (``host`` or ``host:port``, comma-separated) the key
    may be sent to over https, e.g. a company proxy in front of ActiveCampaign."""
    entries = (e.strip().lower() for e in env.get("AC_ALLOWED_HOSTS", "").split(","))
    return frozenset(e for e in entries if e)


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _is_loopback(host: str) -> bool:
    address = _ip(host)
    return host == "localhost" or (address is not None and address.is_loopback)


def _address_kind(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if address.is_link_local:
        return "a link-local address (where cloud metadata services answer)"
    if address.is_private or address.is_reserved or address.is_multicast:
        return "a private network address"
    return "an IP address"


def parse_api_url(raw: str, extra_hosts: Collection[str] = ()) -> str:
    """Normalise what an operator pasted to ``https://<account>.api-<region>.com`` (no
    ``/api/3``), the only form the key may be sent to, besides loopback over http (a local
    sandbox) and the ``extra_hosts`` of ``AC_ALLOWED_HOSTS`` over https.

    Accepted: ``myaccount``, ``myaccount.api-us1.com``, ``https://myaccount.api-us2.com/``,
    ``https://myaccount.api-us1.com/api/3``, and ``http://127.0.0.1:PORT`` / ``localhost`` for a
    local sandbox. Refused with what to paste instead: other hosts, IP addresses (private,
    link-local or public), user names or passwords in the URL, other ports.
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
    # Host names and the API's version path are compared without case: ACME.api-US1.com/API/3
    # is the same account as acme.api-us1.com/api/3 (normalised to the lowercase host below).
    path = parts.path.rstrip("/").lower()
    if parts.username is not None or parts.password is not None:
        raise SettingsError(
            "The API URL has a user name or password in it (the part before “@”). The key "
            f"travels in a header, never in the URL: paste only the API URL from {_WHERE}, like "
            f"{_EXAMPLE}."
        )
    if parts.query or parts.fragment or path not in ("", "/api/3"):
        raise SettingsError(
            f"{_shown(text)} has extra parts. Paste only the API URL from {_WHERE}, like "
            f"{_EXAMPLE}."
        )
    if parts.scheme not in ("http", "https"):
        raise SettingsError(f"Use an https:// address: the API URL from {_WHERE}, like {_EXAMPLE}.")

    address = _ip(host)
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        raise SettingsError(
            "The API URL names an IPv6 zone (the part after “%”). Use http://[::1]:PORT for a "
            "local sandbox, or the API URL from Settings > Developer."
        )
    if port == 0:
        raise SettingsError("Port 0 can't be connected to: use the port the server listens on.")
    if _is_loopback(host):
        bracketed = f"[{host.strip('[]')}]" if ":" in host else host
        if port is None:
            raise SettingsError(
                f"Add the port of the local server, e.g. http://{bracketed}:8600 "
                "(python -m connector.sandbox prints it)."
            )
        netloc = f"{bracketed}:{port}"
        # A local sandbox serves plain http; without a scheme typed, assume that.
        scheme = parts.scheme if "://" in text else "http"
        return f"{scheme}://{netloc}"

    extra = {h.lower() if ":" in h else f"{h.lower()}:443" for h in extra_hosts}
    if f"{host}:{port or 443}" in extra:
        if parts.scheme != "https":
            raise SettingsError(
                f"{host} is in AC_ALLOWED_HOSTS, but only over https: use https://{host}."
            )
        return f"https://{host}" if port in (None, 443) else f"https://{host}:{port}"

    if address is not None:
        raise SettingsError(
            f"{_shown(text)} is {_address_kind(address)}; the key is only sent to an "
            f"ActiveCampaign API host like {_EXAMPLE} (or loopback for a local sandbox). For a "
            "company proxy, add its host to AC_ALLOWED_HOSTS."
        )
    if "://" not in text and _ACCOUNT_NAME.match(host):
        host = f"{host}.api-us1.com"
    if host.endswith(".activehosted.com"):
        account = host.removesuffix(".activehosted.com")
        likely = f"https://{account}.api-us1.com" if len(account) <= 40 else _EXAMPLE
        raise SettingsError(
            f"{_shown(host)} is the address of the ActiveCampaign web app, not the API. "
            f"Paste the API URL from {_WHERE}; it usually looks like {likely}."
        )
    if not _API_HOST.match(host):
        raise SettingsError(
            f"{_shown(text)} is not an ActiveCampaign API URL. Paste the API URL from {_WHERE}, "
            f"like {_EXAMPLE}, or just your account name. (For a company proxy, add its host to "
            "AC_ALLOWED_HOSTS.)"
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


def key_hint(key: str) -> str:
    """The last four characters, the only part of a key ever shown or kept in clear; nothing
    for a key so short that four characters would give most of it away."""
    return key[-4:] if len(key) >= 12 else ""


def mask_key(key: str) -> str:
    """Show only the last four characters, so an operator can tell two keys apart."""
    return "•" * 8 + key_hint(key)


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


@dataclass(frozen=True)
class SavedAccount:
    """What the settings store holds of the saved account, without opening the key: enough to
    show it (the key's last four characters) even when the key can't be opened."""

    api_url: str
    key_hint: str
    encrypted: bool
    in_use: bool
    saved_at: str

    @property
    def host(self) -> str:
        return urlsplit(self.api_url).netloc

    @property
    def masked_key(self) -> str:
        return "•" * 8 + self.key_hint


class SettingsStore:
    """The saved account in the console database: its URL, its key (sealed by ``KeyCipher``
    when ``CONNECTOR_SECRET_KEY`` is set), the key's last four characters, and whether it is in
    use or set aside for the sandbox. Thread-safe."""

    _URL, _KEY, _HINT, _IN_USE = "ac_api_url", "ac_api_key", "ac_api_key_hint", "ac_account_in_use"
    _ACCOUNT = (_URL, _KEY, _HINT)

    def __init__(self, db: Database) -> None:
        self._db = db

    def _values(self, names: tuple[str, ...]) -> dict[str, dict[str, str]]:
        marks = ", ".join("?" for _ in names)
        with self._db.read() as conn:
            return {
                r["key"]: r for r in conn.table("settings").rows_where(f"key in ({marks})", names)
            }

    def _stored(self) -> tuple[SavedAccount | None, str]:
        """The saved account and its key as stored (sealed or not), in one read."""
        rows = self._values((*self._ACCOUNT, self._IN_USE))
        url, key = rows.get(self._URL), rows.get(self._KEY)
        if not url or not key or not url["value"] or not key["value"]:
            return None, ""
        hint = rows.get(self._HINT)
        account = SavedAccount(
            api_url=url["value"],
            key_hint=hint["value"] if hint else "",
            encrypted=KeyCipher.is_sealed(key["value"]),
            in_use=(rows.get(self._IN_USE) or {}).get("value", "saved") != "sandbox",
            saved_at=key["updated_at"],
        )
        return account, key["value"]

    def account(self) -> SavedAccount | None:
        return self._stored()[0]

    def saved(self, env: Mapping[str, str] | None = None) -> tuple[str, str] | None:
        """The saved URL and key, opened with the secret in ``env``; ``SettingsError`` when the
        key is sealed and can't be opened."""
        account, stored = self._stored()
        if account is None:
            return None
        return account.api_url, KeyCipher.from_env(os.environ if env is None else env).open(stored)

    def flag(self, name: str) -> bool:
        """Whether the one-off marker ``name`` was set (e.g. the demo prompts were seeded)."""
        with self._db.read() as conn:
            return bool(list(conn.table("settings").rows_where("key = ?", [name])))

    def save(
        self, api_url: str, api_key: str, env: Mapping[str, str] | None = None
    ) -> tuple[str, str]:
        """Validate, normalise, seal and store, and put the account in use; returns the URL and
        the key. The key it replaces is then in no file: overwritten content is zeroed
        (``secure_delete``) and the WAL that held it is checkpointed away."""
        env = os.environ if env is None else env
        url, key = parse_api_url(api_url, allowed_hosts(env)), parse_api_key(api_key)
        sealed = KeyCipher.from_env(env).seal(key)
        self._put(
            {self._URL: url, self._KEY: sealed, self._HINT: key_hint(key), self._IN_USE: "saved"}
        )
        self._db.checkpoint()
        return url, key

    def seal_if_plain(self, env: Mapping[str, str]) -> bool:
        """Encrypt a key stored plainly (saved before ``CONNECTOR_SECRET_KEY`` was set) once the
        secret is there; True when it did. The plain copy is then in no file."""
        cipher = KeyCipher.from_env(env)
        stored = (self._values((self._KEY,)).get(self._KEY) or {}).get("value")
        if not cipher.encrypts or not stored or KeyCipher.is_sealed(stored):
            return False
        with self._db.write() as conn:  # sealed in the transaction that read it: once only
            row = conn.execute("SELECT value FROM settings WHERE key = ?", [self._KEY]).fetchone()
            if row is None or KeyCipher.is_sealed(row[0]):
                return False
            conn.execute(
                "UPDATE settings SET value = ? WHERE key = ?", [cipher.seal(row[0]), self._KEY]
            )
        self._db.checkpoint()
        return True

    def use(self, which: Literal["saved", "sandbox"]) -> None:
        """Put the saved account in use, or set it aside for the sandbox (it stays saved)."""
        if which == "saved" and self.account() is None:
            raise SettingsError(
                "No account is saved: connect one on Setup (or `python -m connector account "
                "save`) first."
            )
        self._put({self._IN_USE: which})

    def clear(self) -> None:
        """Remove the saved account (the console goes back to the sandbox); the key is then in
        no file."""
        with self._db.write() as conn:
            marks = ", ".join("?" for _ in self._ACCOUNT)
            conn.execute(f"DELETE FROM settings WHERE key IN ({marks})", self._ACCOUNT)
        self._db.checkpoint()

    def _put(self, values: dict[str, str]) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._db.write() as conn:
            conn.table("settings").upsert_all(
                [{"key": k, "value": v, "updated_at": now} for k, v in values.items()], pk="key"
            )

    def effective(
        self, sandbox_url: str, sandbox_key: str, env: Mapping[str, str] | None = None
    ) -> AccountSettings:
        """The one account in effect: the environment's (both variables, both valid), else the
        saved one when in use, else the sandbox. A broken or half-set environment, or a saved
        key that can't be opened, is an error, never a reason to quietly act on another
        account."""
        env = os.environ if env is None else env
        hosts = allowed_hosts(env)
        env_url, env_key = env.get("AC_API_URL", "").strip(), env.get("AC_API_KEY", "").strip()
        if env_url and env_key:
            try:
                return AccountSettings(
                    parse_api_url(env_url, hosts), parse_api_key(env_key), "environment"
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
        account, stored = self._stored()
        if account is not None and account.in_use:
            try:
                key = KeyCipher.from_env(env).open(stored)
                return AccountSettings(
                    parse_api_url(account.api_url, hosts), parse_api_key(key), "saved"
                )
            except SettingsError as exc:
                raise SettingsError(
                    f"The saved account can't be used: {exc.message} Enter it again on Setup, "
                    "or switch to the sandbox there.",
                    detail=exc.detail,
                ) from None
        return AccountSettings(sandbox_url, sandbox_key, "sandbox")
