from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from connector import (
    AccountSettings,
    Console,
    Database,
    SettingsError,
    SettingsStore,
    mask_key,
    parse_api_key,
    parse_api_url,
)
from connector.store.cipher import new_secret
from connector.store.files import narrowed
from connector.store.settings import allowed_hosts


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("myaccount", "https://myaccount.api-us1.com"),
        ("myaccount.api-us1.com", "https://myaccount.api-us1.com"),
        ("https://myaccount.api-us2.com/", "https://myaccount.api-us2.com"),
        ("https://myaccount.api-us1.com/api/3", "https://myaccount.api-us1.com"),
        ("https://myaccount.api-us1.com/api/3/", "https://myaccount.api-us1.com"),
        ("  HTTPS://MyAccount.API-US1.com  ", "https://myaccount.api-us1.com"),
        # The version path in any case, like the host (issue 13).
        ("https://ACME.api-US1.com/API/3", "https://acme.api-us1.com"),
        ("https://ACME.api-US1.com/Api/3/", "https://acme.api-us1.com"),
        ("acme.api-us1.com/API/3", "https://acme.api-us1.com"),
        ("http://127.0.0.1:8600", "http://127.0.0.1:8600"),
        ("http://localhost:9000/", "http://localhost:9000"),
        ("127.0.0.1:8600", "http://127.0.0.1:8600"),
        ("http://127.0.0.2:8600", "http://127.0.0.2:8600"),
        ("http://[::1]:8600", "http://[::1]:8600"),
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
        ("http://10.0.0.1:8600", "is a private network address"),
        ("https://192.168.1.20", "is a private network address"),
        ("https://169.254.169.254/", "link-local address"),
        ("http://[fe80::1]:80", "link-local address"),
        ("https://52.1.2.3", "is an IP address"),
        ("https://user:pass@myaccount.api-us1.com", "user name or password"),
        ("https://myaccount.api-us1.com@evil.example", "user name or password"),
        ("https://myaccount.api-us1.com.evil.example", "is not an ActiveCampaign API URL"),
        ("https://evil.example/myaccount.api-us1.com", "has extra parts"),
        ("http://[::1%25evil.com]:8000", "IPv6 zone"),
        ("http://127.0.0.1:0", "Port 0"),
        ("http://[::1]", "http://[::1]:8600"),
        ("localhost", "Add the port"),
        ("https://myaccount.api-us1.com/admin", "has extra parts"),
        ("https://myaccount.api-us1.com/API/3/contacts", "has extra parts"),
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
    assert mask_key("abc") == mask_key("k3Y9x7") == "••••••••"  # short: four would say too much


def test_a_short_key_leaves_no_hint_in_clear(tmp_path) -> None:
    db = Database(tmp_path / "c.db")
    store = SettingsStore(db)
    store.save("acct", "k3Y9", {"CONNECTOR_SECRET_KEY": SECRET})
    account = store.account()
    assert account is not None and account.masked_key == "••••••••"
    assert not [p.name for p in tmp_path.iterdir() if b"k3Y9" in p.read_bytes()]


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

    store.use("sandbox")  # set aside, not removed: switching back needs no key
    assert store.effective("https://sandbox.invalid", "k", env={}).is_sandbox
    store.use("saved")
    assert store.effective("https://sandbox.invalid", "k", env={}).api_key == "saved-key"

    store.clear()
    assert store.effective("https://sandbox.invalid", "k", env={}).is_sandbox
    assert store.account() is None
    with pytest.raises(SettingsError, match="No account is saved"):
        store.use("saved")


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
    assert store.saved(env={}) == ("https://good.api-us1.com", "key-1")


def test_repr_never_shows_the_key(tmp_path) -> None:
    store = SettingsStore(Database(tmp_path / "c.db"))
    store.save("acct", "super-secret-key-1234")
    account = store.effective("https://sandbox.invalid", "k", env={})
    assert "super-secret" not in repr(account)
    assert account.masked_key.endswith("1234")


# -- where the key may go -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "allowed", "expected"),
    [
        ("https://ac-proxy.corp.example", "ac-proxy.corp.example", "https://ac-proxy.corp.example"),
        (
            "https://AC-Proxy.corp.example:8443",
            " ac-proxy.corp.example:8443 ,x",
            "https://ac-proxy.corp.example:8443",
        ),
        ("https://10.1.2.3", "10.1.2.3", "https://10.1.2.3"),
    ],
)
def test_allowed_hosts_extend_the_list_over_https_only(
    typed: str, allowed: str, expected: str
) -> None:
    assert parse_api_url(typed, allowed_hosts({"AC_ALLOWED_HOSTS": allowed})) == expected


@pytest.mark.parametrize(
    ("typed", "allowed", "says"),
    [
        ("http://ac-proxy.corp.example", "ac-proxy.corp.example", "only over https"),
        ("https://ac-proxy.corp.example:8443", "ac-proxy.corp.example", "not an ActiveCampaign"),
        ("https://other.corp.example", "ac-proxy.corp.example", "not an ActiveCampaign"),
    ],
)
def test_allowed_hosts_allow_exactly_what_they_name(typed: str, allowed: str, says: str) -> None:
    with pytest.raises(SettingsError, match=says):
        parse_api_url(typed, allowed_hosts({"AC_ALLOWED_HOSTS": allowed}))


def test_an_environment_account_on_a_refused_host_is_an_error(tmp_path) -> None:
    store = SettingsStore(Database(tmp_path / "c.db"))
    env = {"AC_API_URL": "https://169.254.169.254", "AC_API_KEY": "k"}
    with pytest.raises(SettingsError, match="link-local"):
        store.effective("https://sandbox.invalid", "k", env=env)
    allowed = {**env, "AC_API_URL": "https://proxy.corp", "AC_ALLOWED_HOSTS": "proxy.corp"}
    assert store.effective("https://sandbox.invalid", "k", env=allowed).host == "proxy.corp"


# -- the key at rest ------------------------------------------------------------------------------

SECRET = new_secret()


def _stored_key(db: Database) -> str:
    with db.read() as conn:
        return conn.execute("SELECT value FROM settings WHERE key = 'ac_api_key'").fetchone()[0]


def test_with_a_secret_the_stored_key_is_encrypted(tmp_path) -> None:
    db = Database(tmp_path / "c.db")
    store = SettingsStore(db)
    env = {"CONNECTOR_SECRET_KEY": SECRET}
    store.save("acct", "plain-key-9876", env)
    assert _stored_key(db).startswith("fernet:") and "plain-key" not in _stored_key(db)
    assert store.saved(env) == ("https://acct.api-us1.com", "plain-key-9876")
    account = store.account()
    assert account is not None and account.encrypted and account.masked_key.endswith("9876")
    assert store.effective("https://sandbox.invalid", "k", env).api_key == "plain-key-9876"
    for path in tmp_path.iterdir():
        assert b"plain-key-9876" not in path.read_bytes(), path.name


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({}, "CONNECTOR_SECRET_KEY is not set"),
        ({"CONNECTOR_SECRET_KEY": new_secret()}, "encrypted with another CONNECTOR_SECRET_KEY"),
    ],
)
def test_a_missing_or_wrong_secret_is_a_sentence_never_a_garbled_key(
    tmp_path, env: dict[str, str], says: str
) -> None:
    store = SettingsStore(Database(tmp_path / "c.db"))
    store.save("acct", "plain-key-9876", {"CONNECTOR_SECRET_KEY": SECRET})
    with pytest.raises(SettingsError) as caught:
        store.effective("https://sandbox.invalid", "k", env)
    assert (
        says in caught.value.message and "enter the API key again on Setup" in caught.value.message
    )
    # The documented path: enter the key again with the new secret.
    store.save("acct", "plain-key-9876", env)
    assert store.effective("https://sandbox.invalid", "k", env).api_key == "plain-key-9876"


@pytest.mark.parametrize("secret", ["not-a-fernet-key", "é" * 44, SECRET[:-2]])
def test_a_malformed_secret_is_refused_before_anything_is_stored(tmp_path, secret: str) -> None:
    store = SettingsStore(Database(tmp_path / "c.db"))
    with pytest.raises(SettingsError, match="python -m connector secret-key"):
        store.save("acct", "plain-key-9876", {"CONNECTOR_SECRET_KEY": secret})
    assert store.account() is None


def test_without_a_secret_the_key_is_stored_plainly_and_says_so(tmp_path) -> None:
    db = Database(tmp_path / "c.db")
    store = SettingsStore(db)
    store.save("acct", "plain-key-9876", {})
    account = store.account()
    assert _stored_key(db) == "plain-key-9876" and account is not None and not account.encrypted


def test_a_rotated_key_is_in_no_file(tmp_path) -> None:
    db = Database(tmp_path / "c.db")
    store = SettingsStore(db)
    old, new = "old-key-" + "a1b2c3d4" * 6, "new-key-" + "e5f6a7b8" * 6
    store.save("acct", old, {})
    with db.read() as reader:  # another session reading meanwhile does not keep it alive
        reader.execute("SELECT count(*) FROM settings").fetchone()
    store.save("acct", new, {})
    files = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert any(new.encode() in data for data in files.values())
    assert not [name for name, data in files.items() if old.encode() in data]
    store.clear()
    assert not [p.name for p in tmp_path.iterdir() if new.encode() in p.read_bytes()]


# -- owner-only files ------------------------------------------------------------------------------


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_folder_and_its_files_are_owner_only(tmp_path) -> None:
    folder = tmp_path / "data"
    console = Console(folder / "connector.db", env={})
    console.account()
    console.check()  # the sandbox opens its file
    console.start_replay([], description="nothing")
    assert _mode(folder) == 0o700
    names = sorted(p.name for p in folder.iterdir())
    assert {"connector.db", "connector.db-wal", "sandbox.db"} <= set(names)
    assert {p.name: _mode(p) for p in folder.iterdir()} == {name: 0o600 for name in names}
    console.close()


def test_wider_modes_are_narrowed_and_reported(tmp_path) -> None:
    folder = tmp_path / "data"
    Console(folder / "connector.db", env={}).close()
    os.chmod(folder, 0o755)
    os.chmod(folder / "connector.db", 0o644)
    Console(folder / "connector.db", env={}).close()
    assert (_mode(folder), _mode(folder / "connector.db")) == (0o700, 0o600)
    reported = narrowed()
    assert f"{folder} was readable by others, made owner-only (0755 → 0700)" in reported
    assert f"{folder / 'connector.db'} was readable by others, made owner-only (0644 → 0600)" in (
        reported
    )


def test_a_host_that_got_past_the_form_is_refused_at_the_last_door(tmp_path) -> None:
    console = Console(tmp_path / "c.db", env={})
    with console.db.write() as conn:  # a saved URL edited by hand, or by an older version
        conn.table("settings").upsert_all(
            [
                {"key": "ac_api_url", "value": "https://evil.example", "updated_at": ""},
                {"key": "ac_api_key", "value": "key-1234", "updated_at": ""},
            ],
            pk="key",
        )
    with pytest.raises(SettingsError, match="saved account can't be used"):
        console.account()
    for url in ("https://evil.example", "https://10.0.0.8", "https://acct.api-us1.com:8443"):
        with pytest.raises(SettingsError):  # refused before a connection is even opened
            console.client(AccountSettings(url, "key-1234", "saved"))
    console.close()


def test_a_shared_folder_is_left_alone_and_said(tmp_path, monkeypatch) -> None:
    shared = tmp_path / "everyone"
    shared.mkdir()
    os.chmod(shared, 0o1777)  # like /tmp
    Console(shared / "connector.db", env={}).close()
    assert _mode(shared) == 0o1777 and _mode(shared / "connector.db") == 0o600
    assert any(f"{shared} is left as it is: a shared folder" in n for n in narrowed())

    project = tmp_path / "project"  # CONNECTOR_DB=connector.db, started in a project folder
    project.mkdir(mode=0o755)
    os.chmod(project, 0o755)
    monkeypatch.chdir(project)
    Console(Path("connector.db"), env={}).close()
    assert _mode(project) == 0o755 and _mode(project / "connector.db") == 0o600


def test_a_reader_that_outlasts_the_checkpoint_delays_the_scrub_until_a_later_write(
    tmp_path,
) -> None:
    db = Database(tmp_path / "c.db")
    store = SettingsStore(db)
    old, new = "old-key-" + "a1b2c3d4" * 6, "new-key-" + "e5f6a7b8" * 6
    store.save("acct", old, {})
    reader = sqlite3.connect(tmp_path / "c.db")  # another process's long export, say
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM settings").fetchone()  # holds its snapshot
    store.save("acct", new, {})
    assert db.scrub_pending
    assert any(old.encode() in p.read_bytes() for p in tmp_path.iterdir())  # said, not hidden
    reader.rollback()
    reader.close()
    store.use("saved")  # any later write of this process finishes the job
    assert not db.scrub_pending
    assert not [p.name for p in tmp_path.iterdir() if old.encode() in p.read_bytes()]


def test_a_key_saved_before_the_secret_is_sealed_once_the_secret_is_set(tmp_path) -> None:
    path = tmp_path / "c.db"
    Console(path, env={}).settings.save("acct", "plain-key-9876", {})
    assert _stored_key(Database(path)) == "plain-key-9876"
    env = {"CONNECTOR_SECRET_KEY": SECRET}
    console = Console(path, env=env)  # the deployment now provides a secret
    assert _stored_key(console.db).startswith("fernet:")
    assert console.account().api_key == "plain-key-9876"
    assert not console.settings.seal_if_plain(env)  # once only
    console.close()
    assert not [p.name for p in tmp_path.iterdir() if b"plain-key-9876" in p.read_bytes()]
