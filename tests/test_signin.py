"""Sign-in through the whole frame (AppTest): every page behind it, the operator is the email.

``at.user`` is what the app reads as ``st.user`` (AppTest's own attribute, documented in
Streamlit 1.67); ``at.secrets`` stands in for secrets.toml. A deep link as the very first request
is a first run on the page's hash: ``st.Page`` hashes its ``url_path`` (AppTest has no public way
to start on a page that is a callable rather than a file).
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from connector import Console
from connector.entry.auth import ALLOWED_OPERATORS_VAR
from pages import PAGES

TIMEOUT = 20
APP = str(Path(__file__).resolve().parents[1] / "app.py")
AUTH: dict[str, Any] = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "test-cookie-secret-of-at-least-32-chars",
    "client_id": "console",
    "client_secret": "not-a-secret",
    "server_metadata_url": "https://idp.example.com/.well-known/openid-configuration",
}
ADA = {"is_logged_in": True, "email": "Ada@Example.com", "name": "Ada", "email_verified": True}
URL_PATHS = ["action_log"] + [p.url_path for p in PAGES]


def open_app(
    url_path: str = "", *, user: dict[str, Any] | None = None, auth: bool = True
) -> AppTest:
    """Run the frame once, as a first request for ``/<url_path>`` ("" for the home page)."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if user is not None:
        at.user = user
    if auth:
        at.secrets["auth"] = AUTH
    if url_path:
        at._page_hash = calc_hash(url_path)
    return at.run()


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [e.value for e in at.error] + [w.value for w in at.warning]
    parts += [t.value for t in at.title] + [s.value for s in at.subheader]
    return "\n".join(str(p) for p in parts)


def assert_nothing_of_the_console(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["ActiveCampaign Connector Console"]
    assert not at.sidebar.children  # no navigation, account, data file, operator or jobs
    assert not at.dataframe and not at.text_input and not at.tabs and not at.expander
    assert "Sandbox" not in texts(at) and "Data file" not in texts(at)


@pytest.mark.parametrize("url_path", URL_PATHS)
def test_signed_out_visitors_see_only_the_sign_in_screen_on_every_page(
    data_dir: Path, url_path: str
) -> None:
    at = open_app(url_path, user={"is_logged_in": False})
    assert_nothing_of_the_console(at)
    assert [b.label for b in at.button] == ["Sign in"]
    assert "Sign in with your company account" in texts(at)


def test_apptests_default_user_without_the_flag_is_signed_out(data_dir: Path) -> None:
    at = open_app("prompts")  # AppTest's default st.user: {"email": "test@example.com"}
    assert_nothing_of_the_console(at)
    assert [b.label for b in at.button] == ["Sign in"]


def test_a_named_provider_gets_its_own_button(data_dir: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    shared = {k: AUTH[k] for k in ("redirect_uri", "cookie_secret")}
    at.secrets["auth"] = {**shared, "okta": {k: v for k, v in AUTH.items() if k not in shared}}
    at.run()
    assert [b.label for b in at.button] == ["Sign in with okta"]


@pytest.mark.parametrize("url_path", URL_PATHS)
def test_a_signed_in_operator_sees_every_page(data_dir: Path, url_path: str) -> None:
    at = open_app(url_path, user=ADA)
    assert not at.exception, at.exception
    title = (
        "Action log"
        if url_path == "action_log"
        else next(p.title for p in PAGES if p.url_path == url_path)
    )
    assert at.title[0].value == title
    sidebar = "\n".join(c.value for c in at.sidebar.caption)
    assert "Signed in as `ada@example.com`" in sidebar
    assert "Open to anyone" not in sidebar
    assert "Operator" not in [t.label for t in at.sidebar.text_input]  # nobody types a name
    assert "Sign out" in [b.label for b in at.sidebar.button]


def test_the_signed_in_email_is_the_operator_recorded(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONNECTOR_OPERATOR", "someone-else")  # ignored once signed in
    monkeypatch.setenv(ALLOWED_OPERATORS_VAR, "@example.com")
    at = open_app(user=ADA)
    at.checkbox(key="reset_ok").check().run()
    next(b for b in at.button if b.label == "Reset the sandbox").click().run()
    assert not at.exception, at.exception
    with closing(Console(data_dir / "connector.db")) as console:
        events = console.audit.page()
    assert [e.operator for e in events if e.kind == "sandbox_reset"] == ["ada@example.com"]


def test_an_email_off_the_allow_list_is_refused_with_a_sign_out(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ALLOWED_OPERATORS_VAR, "grace@example.com, @example.org")
    for url_path in ("", "action_log", "simulator"):
        at = open_app(url_path, user=ADA)
        assert_nothing_of_the_console(at)
        assert "`ada@example.com` is not allowed to use this console" in at.error[0].value
        assert [b.label for b in at.button] == ["Sign out"]


def test_a_malformed_allow_list_closes_the_console_with_the_reason(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ALLOWED_OPERATORS_VAR, "ada@example.com; grace@example.com")
    at = open_app("action_log", user=ADA)
    assert_nothing_of_the_console(at)
    assert "semicolon" in at.error[0].value and "Nobody can use the console" in at.error[0].value


def test_a_session_struck_off_the_list_records_nothing(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(user=ADA)
    at.checkbox(key="reset_ok").check().run()
    monkeypatch.setenv(ALLOWED_OPERATORS_VAR, "@example.org")  # the list changes meanwhile
    # The click's callback runs before the frame's gate: it is gated itself, so nothing is done
    # or recorded, and the same run shows the refusal (not a crash).
    next(b for b in at.button if b.label == "Reset the sandbox").click().run()
    assert not at.exception, at.exception
    with closing(Console(data_dir / "connector.db")) as console:
        assert not [e for e in console.audit.page() if e.kind == "sandbox_reset"]
    assert_nothing_of_the_console(at)
    assert "not allowed" in at.error[0].value


def test_without_auth_the_console_is_open_and_says_so(data_dir: Path) -> None:
    at = open_app("action_log", user=ADA, auth=False)  # st.user is ignored without [auth]
    assert not at.exception, at.exception
    assert at.title[0].value == "Action log"
    assert "Operator" in [t.label for t in at.sidebar.text_input]
    sidebar = "\n".join(c.value for c in at.sidebar.caption)
    assert "Open to anyone who can reach it" in sidebar and "SSO proxy" in sidebar
    assert "Signed in" not in sidebar


def test_without_auth_the_typed_name_is_the_operator(data_dir: Path) -> None:
    at = open_app(auth=False)
    at.sidebar.text_input(key="operator").input("Grace").run()
    at.checkbox(key="reset_ok").check().run()
    next(b for b in at.button if b.label == "Reset the sandbox").click().run()
    with closing(Console(data_dir / "connector.db")) as console:
        events = console.audit.page()
    assert [e.operator for e in events if e.kind == "sandbox_reset"] == ["Grace"]


def test_a_broken_auth_table_closes_the_console_rather_than_opening_it(data_dir: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.secrets["auth"] = {**AUTH, "cookie_secret": "short"}
    at.user = ADA
    at.run()
    assert_nothing_of_the_console(at)
    assert "cookie_secret" in at.error[0].value and not at.button


def test_an_unreadable_secrets_file_closes_the_console(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    broken = tmp_path / "secrets.toml"
    broken.write_text("[auth\nredirect_uri = 'x'\n")
    monkeypatch.chdir(tmp_path)  # Streamlit reads ./.streamlit/secrets.toml and ~/.streamlit/…
    (tmp_path / ".streamlit").mkdir()
    broken.rename(tmp_path / ".streamlit" / "secrets.toml")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert_nothing_of_the_console(at)
    assert "secrets file can't be read" in at.error[0].value


def test_every_callback_and_fragment_is_gated() -> None:
    """Callbacks run before the frame's gate and fragments without it: each one a page module
    defines must be ``@gated`` (a closure passed in, like the preview's ``click``, is gated
    where it is defined)."""
    import ast

    pages = Path(__file__).resolve().parents[1] / "pages"
    trees = {path.name: ast.parse(path.read_text()) for path in sorted(pages.glob("*.py"))}

    def name(node: ast.expr) -> str | None:
        if isinstance(node, ast.Attribute):
            return node.attr
        return node.id if isinstance(node, ast.Name) else None

    callbacks = {  # on_click=/on_change= anywhere, and what the Simulator hands the preview
        name(keyword.value)
        for tree in trees.values()
        for call in ast.walk(tree)
        if isinstance(call, ast.Call)
        for keyword in call.keywords
        if keyword.arg in ("on_click", "on_change")
    } | {
        name(arg)
        for tree in trees.values()
        for call in ast.walk(tree)
        if isinstance(call, ast.Call) and name(call.func) == "draw"
        for arg in call.args
    }
    assert {"_run", "start", "_cancel", "_save", "_check"} <= callbacks
    ungated = [
        f"{file}:{node.name}"
        for file, tree in trees.items()
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and (
            node.name in callbacks
            or any("st.fragment" in ast.unparse(d) for d in node.decorator_list)
        )
        and "gated" not in {ast.unparse(d) for d in node.decorator_list}
    ]
    assert ungated == []
