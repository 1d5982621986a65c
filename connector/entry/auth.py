"""Who may use the console: Streamlit's built-in sign-in (``st.login``) and the operators'
allow-list. Pure logic, no Streamlit: the frame hands over the secrets (``st.secrets``), the
visitor's claims (``st.user``) and the environment, and draws what ``decide`` returns.

Sign-in is on when the secrets hold an ``[auth]`` table (Streamlit's OIDC settings). Then every
page needs it, and the signed-in email is the operator on every log row and audit event. Without
``[auth]`` the console is open to anyone who can reach it, and the operator is a name typed in
the sidebar.

``CONNECTOR_ALLOWED_OPERATORS`` (the environment, or a top-level key of that name in
``secrets.toml``, which wins as Streamlit exports it to the environment) narrows who, once signed
in, may use the console. Its syntax, case-insensitive:

* entries separated by commas; spaces and line breaks around an entry are ignored, empty
  entries (a trailing comma) too;
* ``ada@example.com``: that address exactly;
* ``@example.org`` or ``example.org``: any address at that domain exactly (not its subdomains:
  list ``@eu.example.org`` as well if it's meant);
* anything else is refused with the entry and the reason, and then nobody gets in until it's
  fixed: wildcards (``*@x``, ``*.x``), a space or ``;`` inside an entry, a name without a dot,
  non-ASCII domains (write them in their ``xn--`` form), quoted or unusual local parts.

Unset or blank: anyone the identity provider signs in may use the console (restrict it there,
or here). Set without ``[auth]``: the list can't be enforced, so the console stays closed.

Everything fails closed: a secrets file that can't be read, an ``[auth]`` table missing a
setting, a malformed allow-list, a provider that doesn't share a plain email address, or one that
says the address isn't verified, each close the console with a sentence saying why.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from connector.core.errors import SettingsError

__all__ = [
    "ALLOWED_OPERATORS_VAR",
    "DEFAULT_PROVIDER",
    "Access",
    "AllowList",
    "AuthConfig",
    "Gate",
    "allowed_operators_setting",
    "auth_config",
    "decide",
    "parse_allowed_operators",
    "signed_in_email",
]

ALLOWED_OPERATORS_VAR = "CONNECTOR_ALLOWED_OPERATORS"
DEFAULT_PROVIDER = "default"  # the provider whose settings sit in [auth] itself: st.login()
MIN_COOKIE_SECRET = 32  # characters; `python -c "import secrets; print(secrets.token_hex(32))"`

_PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")
_NOT_PROVIDERS = frozenset({"client_kwargs"})  # nested tables of [auth] that aren't providers
# A dot-atom local part (RFC 5322) without the backtick, so an address is safe in a code span.
_LOCAL = re.compile(r"[a-z0-9!#$%&'*+/=?^_{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_{|}~-]+)*")
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_SYNTAX = "an address (ada@example.com) or a domain (@example.org)"


class Gate(StrEnum):
    """What the frame does with a visitor."""

    OPEN = "open"  # no sign-in configured: the console is open, the operator types a name
    SIGN_IN = "sign_in"  # sign-in configured, nobody signed in: the sign-in screen only
    ALLOWED = "allowed"  # signed in and allowed: ``Access.operator`` is the email
    DENIED = "denied"  # signed in but not allowed: the reason and a sign-out button
    CLOSED = "closed"  # the configuration is broken: the reason, and nobody gets in


@dataclass(frozen=True)
class Access:
    """The verdict for one visitor: ``reason`` says why when they can't get in (markdown-safe
    enough for ``st.error``), ``operator`` is who they are when they can."""

    gate: Gate
    reason: str = ""
    operator: str = ""
    providers: tuple[str, ...] = ()  # for the sign-in buttons, ``DEFAULT_PROVIDER`` first
    signed_in: bool = False  # offer "Sign out"

    @property
    def lets_in(self) -> bool:
        return self.gate in (Gate.OPEN, Gate.ALLOWED)


@dataclass(frozen=True)
class AuthConfig:
    """Streamlit's ``[auth]`` settings, checked: ``providers`` names the usable identity
    providers (``DEFAULT_PROVIDER`` for the one configured in ``[auth]`` itself)."""

    providers: tuple[str, ...]


@dataclass(frozen=True)
class AllowList:
    """Who may use the console once signed in: exact addresses, and whole domains."""

    emails: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()

    def allows(self, email: str) -> bool:
        """Whether ``email`` (already normalised by ``signed_in_email``) is on the list."""
        address = email.strip().lower()
        return address in self.emails or address.rpartition("@")[2] in self.domains


def auth_config(secrets: Mapping[str, Any]) -> AuthConfig | None:
    """The ``[auth]`` table of ``secrets`` checked, or None when there is none (sign-in off).

    Raises ``SettingsError`` when the table is there but sign-in can't work with it: the
    console must then stay closed rather than open up."""
    section = secrets.get("auth")
    if section is None:
        return None
    where = "`[auth]` in secrets.toml"
    if not isinstance(section, Mapping):
        raise SettingsError(f"{where} must be a table of settings, not a single value.")
    missing = [key for key in ("redirect_uri", "cookie_secret") if not _text(section.get(key))]
    if missing:
        raise SettingsError(f"{where} lacks {_and(missing)}: sign-in can't work without it.")
    redirect = _text(section.get("redirect_uri"))
    if not re.fullmatch(r"https?://[^/\s]+(/\S*)?/oauth2callback", redirect):
        raise SettingsError(
            f"{where}: `redirect_uri` must be the console's own address followed by "
            "`/oauth2callback`, such as `https://console.example.com/oauth2callback`."
        )
    if len(_text(section.get("cookie_secret"))) < MIN_COOKIE_SECRET:
        raise SettingsError(
            f"{where}: `cookie_secret` signs the sign-in cookie, so it must be a random value "
            f"of at least {MIN_COOKIE_SECRET} characters."
        )
    providers: list[str] = []
    if any(key in section for key in _PROVIDER_KEYS):
        _check_provider(section, where)
        providers.append(DEFAULT_PROVIDER)
    for name, value in section.items():
        if isinstance(value, Mapping) and name not in _NOT_PROVIDERS:
            if "_" in name or not name.strip():
                raise SettingsError(
                    f"{where}: the provider name `{name}` can't contain an underscore "
                    "(Streamlit's rule): rename the table."
                )
            _check_provider(value, f"`[auth.{name}]` in secrets.toml")
            providers.append(str(name))
    if not providers:
        raise SettingsError(
            f"{where} names no identity provider: add {_and(list(_PROVIDER_KEYS))} to it "
            "(or to an `[auth.<name>]` table)."
        )
    return AuthConfig(tuple(providers))


def _check_provider(section: Mapping[str, Any], where: str) -> None:
    missing = [key for key in _PROVIDER_KEYS if not _text(section.get(key))]
    if missing:
        raise SettingsError(f"{where} lacks {_and(missing)}: sign-in can't work without it.")
    if not re.fullmatch(r"https?://\S+", _text(section.get("server_metadata_url"))):
        raise SettingsError(
            f"{where}: `server_metadata_url` must be the provider's absolute discovery URL "
            "(`https://…/.well-known/openid-configuration`)."
        )


def allowed_operators_setting(secrets: Mapping[str, Any], environ: Mapping[str, str]) -> str:
    """The raw allow-list: a top-level ``CONNECTOR_ALLOWED_OPERATORS`` in the secrets (Streamlit
    exports those to the environment, over what was there), else the environment's."""
    value = secrets.get(ALLOWED_OPERATORS_VAR)
    if value is None:
        return environ.get(ALLOWED_OPERATORS_VAR, "")
    if not isinstance(value, str):
        raise SettingsError(
            f"`{ALLOWED_OPERATORS_VAR}` in secrets.toml must be one string of comma-separated "
            f"entries, each {_SYNTAX}."
        )
    return value


def parse_allowed_operators(text: str | None) -> AllowList | None:
    """``CONNECTOR_ALLOWED_OPERATORS`` read strictly (see the module's docstring); None when
    unset or blank (no restriction). Raises ``SettingsError`` naming the first bad entry."""
    if text is None or not text.strip():
        return None
    emails: set[str] = set()
    domains: set[str] = set()
    for raw in text.split(","):
        entry = raw.strip()
        if not entry:
            continue
        local, at, domain = entry.lower().rpartition("@")
        problem = _entry_problem(entry, local, at, domain)
        if problem:
            raise SettingsError(
                f"`{ALLOWED_OPERATORS_VAR}`: the entry {_quoted(entry)} {problem}. Each entry "
                f"is {_SYNTAX}, separated by commas. Nobody can use the console until it's fixed."
            )
        if local:
            emails.add(f"{local}@{domain}")
        else:
            domains.add(domain)
    if not emails and not domains:
        raise SettingsError(
            f"`{ALLOWED_OPERATORS_VAR}` lists no entry: give {_SYNTAX} (or unset it)."
        )
    return AllowList(frozenset(emails), frozenset(domains))


def _entry_problem(entry: str, local: str, at: str, domain: str) -> str:
    if re.search(r"[\s;]", entry):
        return "holds a space or a semicolon (separate entries with commas)"
    if "*" in entry:
        return "is a wildcard: use @example.org for a whole domain, and list subdomains each"
    if not entry.isascii():
        return "is not ASCII (write an international domain in its xn-- form)"
    if "@" in local:
        return "has more than one @"
    if at and local and not _valid_local(local):
        return "is not a plain email address"
    if not _valid_domain(domain):
        return "has no valid domain name (such as example.org)"
    return ""


def signed_in_email(user: Mapping[str, Any]) -> tuple[str, str]:
    """``(email, "")`` for a signed-in visitor whose provider vouches for a plain address, else
    ``("", why not)``; the email lower-cased, as the allow-list matches it and the log keeps it."""
    if user.get("is_logged_in") is not True:
        return "", "Not signed in."
    raw = user.get("email")
    if not isinstance(raw, str) or not raw.strip():
        return "", (
            "Your identity provider did not share an email address, so the console can't tell "
            "who you are. Ask your administrator to add the `email` scope."
        )
    # Required, not assumed: a provider that lets a user type any address and doesn't vouch
    # for it would let anyone sign in as an allowed address ("nOAuth").
    verified = user.get("email_verified")
    if verified is None:
        return "", (
            "Your identity provider did not say whether your email address is verified, so "
            "the console can't trust it. Ask your administrator to have the provider send the "
            "`email_verified` claim."
        )
    if verified is not True and str(verified).lower() != "true":
        return "", "Your identity provider says your email address is not verified."
    email = raw.strip().lower()
    local, _, domain = email.rpartition("@")
    if not (email.isascii() and _valid_local(local) and _valid_domain(domain)):
        return "", "Your identity provider's email claim is not a plain email address."
    return email, ""


def decide(
    secrets: Mapping[str, Any],
    user: Mapping[str, Any],
    environ: Mapping[str, str],
    *,
    secrets_problem: str = "",
) -> Access:
    """Whether this visitor gets in, and as whom.

    ``secrets`` is the parsed secrets (empty when there is no file), ``secrets_problem`` why a
    secrets file that exists couldn't be read, ``user`` the visitor's claims (``st.user``),
    ``environ`` the environment. A visitor is signed in only when ``is_logged_in`` is True."""
    if secrets_problem:
        return Access(
            Gate.CLOSED,
            "The console's secrets file can't be read, so it can't tell whether sign-in is "
            f"required: {secrets_problem}",
        )
    try:
        config = auth_config(secrets)
    except SettingsError as exc:
        return Access(Gate.CLOSED, exc.message)
    if config is None:
        try:
            listed = allowed_operators_setting(secrets, environ)
        except SettingsError as exc:
            return Access(Gate.CLOSED, exc.message)
        if listed.strip():
            return Access(
                Gate.CLOSED,
                f"`{ALLOWED_OPERATORS_VAR}` is set but sign-in is not configured (`[auth]` in "
                "secrets.toml), so the list can't be enforced and the console stays closed.",
            )
        return Access(Gate.OPEN)
    signed_in = user.get("is_logged_in") is True
    if not signed_in:
        return Access(Gate.SIGN_IN, providers=config.providers)
    email, why_not = signed_in_email(user)
    if not email:
        return Access(Gate.DENIED, why_not, signed_in=True)
    try:
        allowed = parse_allowed_operators(allowed_operators_setting(secrets, environ))
    except SettingsError as exc:
        return Access(Gate.CLOSED, exc.message, signed_in=True)
    if allowed is not None and not allowed.allows(email):
        return Access(
            Gate.DENIED,
            f"`{email}` is not allowed to use this console. Ask its administrator to add you, "
            "or sign out and sign in with another account.",
            signed_in=True,
        )
    return Access(Gate.ALLOWED, operator=email, signed_in=True)


def _valid_local(local: str) -> bool:
    return len(local) <= 64 and _LOCAL.fullmatch(local) is not None


def _valid_domain(domain: str) -> bool:
    labels = domain.split(".")
    return (
        len(domain) <= 253
        and len(labels) >= 2
        and all(_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()
    )


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _and(items: Iterable[str]) -> str:
    names = [f"`{item}`" for item in items]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _quoted(entry: str) -> str:
    """An entry from the configuration, in a code span that it can't break out of."""
    return "`" + entry.replace("`", "'")[:80] + "`"
