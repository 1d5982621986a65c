"""connector.entry.auth: whether sign-in is configured, the allow-list's syntax, who gets in."""

from __future__ import annotations

from typing import Any

import pytest

from connector import SettingsError
from connector.entry.auth import (
    ALLOWED_OPERATORS_VAR,
    DEFAULT_PROVIDER,
    AllowList,
    Gate,
    allowed_operators_setting,
    auth_config,
    decide,
    parse_allowed_operators,
    signed_in_email,
)

SECRET = "s" * 32
AUTH: dict[str, Any] = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": SECRET,
    "client_id": "console",
    "client_secret": "shh",
    "server_metadata_url": "https://idp.example.com/.well-known/openid-configuration",
}
ADA = {"is_logged_in": True, "email": "Ada@Example.com", "email_verified": True}


# -- is sign-in configured ----------------------------------------------------------------------


def test_no_auth_table_means_no_sign_in() -> None:
    assert auth_config({}) is None
    assert auth_config({"other": {"x": 1}}) is None


def test_the_default_provider_lives_in_the_auth_table() -> None:
    assert auth_config({"auth": AUTH}).providers == (DEFAULT_PROVIDER,)  # type: ignore[union-attr]


def test_named_providers_are_tables_inside_auth_and_client_kwargs_is_not_one() -> None:
    shared = {"redirect_uri": AUTH["redirect_uri"], "cookie_secret": SECRET}
    okta = {k: AUTH[k] for k in ("client_id", "client_secret", "server_metadata_url")}
    config = auth_config(
        {"auth": {**shared, "client_kwargs": {"prompt": "login"}, "okta": okta, "entra": okta}}
    )
    assert config is not None and config.providers == ("okta", "entra")


def test_redirect_uri_may_carry_a_base_path_and_the_port_placeholder() -> None:
    uris = (
        "https://tools.example.com/console/oauth2callback",
        "http://localhost:{port}/oauth2callback",
    )
    for uri in uris:
        assert auth_config({"auth": {**AUTH, "redirect_uri": uri}}) is not None


@pytest.mark.parametrize(
    ("auth", "words"),
    [
        ("yes", "must be a table"),
        ({**AUTH, "cookie_secret": ""}, "`cookie_secret`"),
        ({k: v for k, v in AUTH.items() if k != "redirect_uri"}, "`redirect_uri`"),
        ({**AUTH, "redirect_uri": "http://localhost:8501/"}, "/oauth2callback"),
        ({**AUTH, "cookie_secret": "short"}, "at least 32 characters"),
        ({k: v for k, v in AUTH.items() if k != "client_secret"}, "lacks `client_secret`"),
        ({**AUTH, "server_metadata_url": "idp.example.com"}, "absolute discovery URL"),
        ({"redirect_uri": AUTH["redirect_uri"], "cookie_secret": SECRET}, "names no identity"),
        ({**AUTH, "my_idp": {"client_id": "x"}}, "underscore"),
        ({**AUTH, "okta": {"client_id": "x"}}, "`[auth.okta]` in secrets.toml lacks"),
    ],
)
def test_an_auth_table_that_cannot_work_is_refused_with_the_reason(auth: Any, words: str) -> None:
    with pytest.raises(SettingsError) as caught:
        auth_config({"auth": auth})
    assert words in caught.value.message


# -- the allow-list -----------------------------------------------------------------------------


def test_blank_or_unset_allow_list_restricts_nothing() -> None:
    assert parse_allowed_operators(None) is None
    assert parse_allowed_operators("") is None
    assert parse_allowed_operators("  \n ") is None


def test_allow_list_syntax_addresses_and_domains_case_insensitive() -> None:
    listed = parse_allowed_operators(" Ada@Example.com, @Example.ORG,\n example.net ,")
    assert listed == AllowList(
        frozenset({"ada@example.com"}), frozenset({"example.org", "example.net"})
    )
    assert listed.allows("ada@example.com")
    assert listed.allows("ADA@EXAMPLE.COM")
    assert listed.allows("grace@example.org")
    assert listed.allows("linus@example.net")
    assert not listed.allows("bob@example.com")  # the address, not its domain
    assert not listed.allows("grace@eu.example.org")  # the domain exactly, not subdomains
    assert not listed.allows("grace@example.org.evil.test")
    assert not listed.allows("example.org@evil.test")


def test_allow_list_accepts_plus_addressing_and_punycode() -> None:
    listed = parse_allowed_operators("ops+console@example.com, @xn--bcher-kva.example")
    assert listed is not None and listed.allows("ops+console@example.com")
    assert listed.allows("a@xn--bcher-kva.example")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("ada@example.com; bob@example.com", "semicolon"),
        ("ada @example.com", "space"),
        ("*@example.com", "wildcard"),
        ("*.example.com", "wildcard"),
        ("ada@", "no valid domain"),
        ("@", "no valid domain"),
        ("example", "no valid domain"),
        ("ada@localhost", "no valid domain"),
        ("ada@-example.com", "no valid domain"),
        ("ada@example..com", "no valid domain"),
        ("10.0.0.1", "no valid domain"),
        ("a@b@example.com", "more than one @"),
        ('"ada"@example.com', "not a plain email address"),
        (".ada@example.com", "not a plain email address"),
        ("ada..b@example.com", "not a plain email address"),
        ("ad`a@example.com", "not a plain email address"),
        ("ada@bücher.example", "not ASCII"),
    ],
)
def test_malformed_allow_list_entries_are_refused_naming_the_entry(text: str, words: str) -> None:
    with pytest.raises(SettingsError) as caught:
        parse_allowed_operators(f"grace@example.org, {text}")
    message = caught.value.message
    assert words in message
    assert ALLOWED_OPERATORS_VAR in message
    assert f"`{text.replace('`', chr(39))}`" in message  # the entry, in a span it can't break


def test_an_allow_list_of_only_commas_is_refused() -> None:
    with pytest.raises(SettingsError, match="lists no entry"):
        parse_allowed_operators(" , ,")


def test_allow_list_from_secrets_wins_over_the_environment() -> None:
    env = {ALLOWED_OPERATORS_VAR: "@env.example"}
    assert allowed_operators_setting({}, env) == "@env.example"
    assert allowed_operators_setting({ALLOWED_OPERATORS_VAR: "@s.example"}, env) == "@s.example"
    with pytest.raises(SettingsError, match="one string"):
        allowed_operators_setting({ALLOWED_OPERATORS_VAR: ["@s.example"]}, env)


# -- the signed-in email ------------------------------------------------------------------------


def test_signed_in_email_is_normalised() -> None:
    assert signed_in_email(ADA) == ("ada@example.com", "")
    assert signed_in_email({**ADA, "email": " a@b.example "})[0] == "a@b.example"
    cognito = {"is_logged_in": True, "email": "a@b.example", "email_verified": "true"}
    assert signed_in_email(cognito)[0] == "a@b.example"


@pytest.mark.parametrize(
    ("user", "words"),
    [
        ({}, "Not signed in"),
        ({"email": "ada@example.com"}, "Not signed in"),  # AppTest's default user: no flag
        ({"is_logged_in": "true", "email": "ada@example.com"}, "Not signed in"),
        ({"is_logged_in": True}, "did not share an email"),
        ({"is_logged_in": True, "email": ""}, "did not share an email"),
        ({**ADA, "email_verified": False}, "not verified"),
        ({k: v for k, v in ADA.items() if k != "email_verified"}, "`email_verified` claim"),
        ({**ADA, "email": "ada"}, "not a plain email"),
        ({**ADA, "email": '"a@b"@evil.test'}, "not a plain email"),
    ],
)
def test_no_email_without_a_plain_verified_address(user: dict[str, Any], words: str) -> None:
    email, why = signed_in_email(user)
    assert email == "" and words in why


# -- who gets in --------------------------------------------------------------------------------


def test_without_auth_the_console_is_open() -> None:
    assert decide({}, {"email": "test@example.com"}, {}).gate is Gate.OPEN
    assert decide({"unrelated": "x"}, {}, {}).lets_in


def test_without_auth_an_allow_list_cannot_be_enforced_so_the_console_stays_closed() -> None:
    access = decide({}, {}, {ALLOWED_OPERATORS_VAR: "@example.com"})
    assert access.gate is Gate.CLOSED and "[auth]" in access.reason and not access.lets_in


def test_an_unreadable_secrets_file_closes_the_console() -> None:
    access = decide({}, ADA, {}, secrets_problem="Error parsing secrets file at x: line 1")
    assert access.gate is Gate.CLOSED and "line 1" in access.reason


def test_broken_auth_closes_the_console_for_everyone() -> None:
    access = decide({"auth": {**AUTH, "cookie_secret": "x"}}, ADA, {})
    assert access.gate is Gate.CLOSED and "cookie_secret" in access.reason


def test_signed_out_visitors_get_the_sign_in_screen_with_the_providers() -> None:
    for user in ({}, {"is_logged_in": False}, {"email": "ada@example.com"}):
        access = decide({"auth": AUTH}, user, {})
        assert access.gate is Gate.SIGN_IN and access.providers == (DEFAULT_PROVIDER,)
        assert not access.signed_in and not access.lets_in and not access.operator


def test_signed_out_visitors_see_sign_in_even_when_the_allow_list_is_malformed() -> None:
    access = decide({"auth": AUTH}, {}, {ALLOWED_OPERATORS_VAR: "*@example.com"})
    assert access.gate is Gate.SIGN_IN  # the list's content is for signed-in eyes only


def test_signed_in_and_listed_gets_in_as_their_email() -> None:
    for listed in ("", "ada@example.com", "@example.com", "example.com, bob@example.org"):
        access = decide({"auth": AUTH}, ADA, {ALLOWED_OPERATORS_VAR: listed})
        assert access.gate is Gate.ALLOWED and access.operator == "ada@example.com"
        assert access.signed_in and access.lets_in


def test_signed_in_but_not_listed_is_denied_with_a_sign_out() -> None:
    access = decide({"auth": AUTH}, ADA, {ALLOWED_OPERATORS_VAR: "@example.org"})
    assert access.gate is Gate.DENIED and access.signed_in and not access.operator
    assert "`ada@example.com` is not allowed" in access.reason


def test_signed_in_without_a_usable_email_is_denied() -> None:
    access = decide({"auth": AUTH}, {"is_logged_in": True, "name": "Ada"}, {})
    assert access.gate is Gate.DENIED and "email" in access.reason


def test_signed_in_with_a_malformed_allow_list_is_closed_with_the_reason() -> None:
    env = {ALLOWED_OPERATORS_VAR: "ada@example.com; bob@example.com"}
    access = decide({"auth": AUTH}, ADA, env)
    assert access.gate is Gate.CLOSED and access.signed_in and "semicolon" in access.reason


def test_allow_list_in_secrets_applies() -> None:
    secrets = {"auth": AUTH, ALLOWED_OPERATORS_VAR: "@example.org"}
    assert decide(secrets, ADA, {ALLOWED_OPERATORS_VAR: "@example.com"}).gate is Gate.DENIED
