from __future__ import annotations

import pytest

from connector import Database, SettingsError, SettingsStore, mask_key, parse_api_key, parse_api_url


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("myaccount", "https://myaccount.api-us1.com"),
        ("myaccount.api-us1.com", "https://myaccount.api-us1.com"),
        ("https://myaccount.api-us2.com/", "https://myaccount.api-us2.com"),
        ("https://myaccount.api-us1.com/api/3", "https://myaccount.api-us1.com"),
        ("https://myaccount.api-us1.com/api/3/", "https://myaccount.api-us1.com"),
        ("  HTTPS://MyAccount.API-US1.com  ", "https://myaccount.api-us1.com"),
        ("http://127.0.0.1:8600", "http://127.0.0.1:8600"),
        ("http://localhost:9000/", "http://localhost:9000"),
        ("127.0.0.1:8600", "http://127.0.0.1:8600"),
    ],
)
def test_accepted_account_forms(typed: str, expected: str) -> None:
    assert parse_api_url(typed) == expected


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "Enter your API URL"),
        ("http://myaccount.api-us1.com", "only accepts https"),
        ("myaccount.activehosted.com", "web app, not the API"),
        ("https://example.com", "is not an ActiveCampaign API URL"),
        ("http://10.0.0.1:8600", "is not an ActiveCampaign API URL"),
        ("localhost", "Add the port"),
        ("https://myaccount.api-us1.com/admin", "has extra parts"),
        ("https://myaccount.api-us1.com/?key=1", "has extra parts"),
        ("ftp://myaccount.api-us1.com", "https://"),
        ("https://myaccount.api-us1.com:8443", "Remove the port"),
        ("my account", "is not an ActiveCampaign API URL"),
    ],
)
def test_refused_account_forms_say_what_to_paste(typed: str, says: str) -> None:
    with pytest.raises(SettingsError) as caught:
        parse_api_url(typed)
    assert says in caught.value.message
    # Every refusal points at the place the right value can be copied from, or the fix.
    assert any(
        hint in caught.value.message
        for hint in ("Settings > Developer", "https://", "port", "http://")
    )


def test_keys_are_trimmed_and_empty_or_broken_keys_refused() -> None:
    assert parse_api_key("  abc123  \n") == "abc123"
    with pytest.raises(SettingsError, match="Enter your API key"):
        parse_api_key("   ")
    with pytest.raises(SettingsError, match="spaces or line breaks"):
        parse_api_key("abc 123")


@pytest.mark.parametrize(
    ("key", "says"),
    [
        ("clé-secrète-1234", "character 3"),
        ("ключ", "character 1"),
        ("abc\x00def", "character 4"),
        ("abc\x7fdef", "character 4"),
        ("k" * 201, "201 characters long"),
        ("k" * 100_000, "100,000 characters long"),
    ],
)
def test_keys_that_cannot_be_keys_are_refused_without_repeating_them(key: str, says: str) -> None:
    with pytest.raises(SettingsError) as caught:
        parse_api_key(key)
    assert says in caught.value.message and key not in caught.value.message
    assert "Settings > Developer" in caught.value.message


def test_a_key_of_printable_ascii_up_to_200_characters_is_accepted() -> None:
    key = "".join(chr(c) for c in range(33, 127))
    assert parse_api_key(key) == key
    assert parse_api_key("k" * 200) == "k" * 200


def test_masking_keeps_only_the_last_four() -> None:
    assert mask_key("0123456789abcdef") == "••••••••cdef"
    assert "0123" not in mask_key("0123456789abcdef")
    assert mask_key("abc") == "•••"


def test_precedence_environment_then_saved_then_sandbox(tmp_path) -> None:
    store = SettingsStore(Database(tmp_path / "c.db"))
    sandbox = store.effective("https://sandbox.invalid", "sandbox-key", env={})
    assert (sandbox.source, sandbox.api_url) == ("sandbox", "https://sandbox.invalid")

    store.save("savedacct", "  saved-key ")
    saved = store.effective("https://sandbox.invalid", "sandbox-key", env={})
    assert (saved.source, saved.api_url, saved.api_key) == (
        "saved",
        "https://savedacct.api-us1.com",
        "saved-key",
    )

    env = {"AC_API_URL": "https://envacct.api-us2.com", "AC_API_KEY": "env-key"}
    from_env = store.effective("https://sandbox.invalid", "sandbox-key", env=env)
    assert (from_env.source, from_env.host, from_env.api_key) == (
        "environment",
        "envacct.api-us2.com",
        "env-key",
    )

    store.clear()
    assert store.effective("https://sandbox.invalid", "k", env={}).is_sandbox


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"AC_API_URL": "x"}, "AC_API_URL is set but AC_API_KEY is not"),
        ({"AC_API_KEY": "k"}, "AC_API_KEY is set but AC_API_URL is not"),
        ({"AC_API_URL": "http://acct.api-us1.com", "AC_API_KEY": "k"}, "only accepts https"),
        ({"AC_API_URL": "https://example.com", "AC_API_KEY": "k"}, "not an ActiveCampaign"),
        ({"AC_API_URL": "acct", "AC_API_KEY": "clé"}, "character 3"),
    ],
)
def test_a_broken_or_half_set_environment_is_an_error_never_a_fallback(
    tmp_path, env: dict[str, str], says: str
) -> None:
    store = SettingsStore(Database(tmp_path / "c.db"))
    store.save("savedacct", "saved-key")  # a fallback that must not be used
    with pytest.raises(SettingsError) as caught:
        store.effective("https://sandbox.invalid", "k", env=env)
    assert says in caught.value.message
    assert "does not fall back" in caught.value.message


def test_a_saved_key_that_cannot_be_used_is_an_error(tmp_path) -> None:
    db = Database(tmp_path / "c.db")
    store = SettingsStore(db)
    store.save("acct", "good-key")
    with db.write() as conn:  # saved by an older version that did not check keys
        conn.execute("UPDATE settings SET value = 'clé' WHERE key = 'ac_api_key'")
    with pytest.raises(SettingsError, match="saved account can't be used"):
        store.effective("https://sandbox.invalid", "k", env={})


def test_saving_refuses_bad_input_and_keeps_the_old_account(tmp_path) -> None:
    store = SettingsStore(Database(tmp_path / "c.db"))
    store.save("good", "key-1")
    with pytest.raises(SettingsError):
        store.save("https://example.com", "key-2")
    assert store.saved() == ("https://good.api-us1.com", "key-1")


def test_repr_never_shows_the_key(tmp_path) -> None:
    store = SettingsStore(Database(tmp_path / "c.db"))
    store.save("acct", "super-secret-key-1234")
    account = store.effective("https://sandbox.invalid", "k", env={})
    assert "super-secret" not in repr(account)
    assert account.masked_key.endswith("1234")
