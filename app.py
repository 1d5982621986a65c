"""The console's frame: page config, the sidebar (account, data file, operator), navigation.

It runs on every rerun, so it stays cheap: the Console is cached per process, the account
lookup is one small SQLite read, and the replay jobs one indexed lookup (a job that is running
shows its progress here, on every page). When the account in effect can't be used (a broken or
half-set ``AC_API_URL`` / ``AC_API_KEY``), every page says why at the top, and the pages that
act on an account stop there: the console never falls back to another account.

Sign-in (``connector.auth``): with ``[auth]`` in the secrets, the gate runs right after
``st.navigation`` is registered and before anything else draws, so every page, deep links
included, shows only the sign-in screen (or the refusal) until the visitor is let in; the
signed-in email is then the operator. Without ``[auth]`` the sidebar says the console is open.
"""

from __future__ import annotations

import streamlit as st

from connector import AccountSettings, ConnectorError
from connector.entry.auth import DEFAULT_PROVIDER, Access, Gate
from pages import PAGES
from pages._common import (
    access,
    console,
    ensure_worker,
    operator,
    reporting_errors,
    seed_demo_prompts,
    show_error,
)
from pages._jobs import active_jobs

# A plug, drawn here: a ":material/…:" page icon makes the browser fetch the favicon from
# fonts.gstatic.com, and the console fetches nothing from outside its own address.
ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path fill="#1c6dd0" '
    'd="M8 2h2v4h4V2h2v4h2v5a6 6 0 0 1-5 5.9V22h-2v-6.1A6 6 0 0 1 6 11V6h2z"/></svg>'
)
st.set_page_config(page_title="ActiveCampaign Connector Console", page_icon=ICON, layout="wide")


def gate(standing: Access) -> None:
    """Everything a visitor who isn't let in sees: the sign-in screen, or why not; then stop."""
    st.title("ActiveCampaign Connector Console")
    if standing.gate is Gate.SIGN_IN:
        st.write("Sign in with your company account to use the console.")
        for provider in standing.providers:
            label = "Sign in" if provider == DEFAULT_PROVIDER else f"Sign in with {provider}"
            if st.button(label, key=f"sign_in_{provider}", type="primary", icon=":material/login:"):
                st.login(None if provider == DEFAULT_PROVIDER else provider)
    else:
        st.error(standing.reason, icon=":material/block:")  # markdown-safe by construction
        if standing.signed_in and st.button("Sign out", icon=":material/logout:"):
            st.logout()
    st.stop()


standing = access()

# st.navigation runs first: it switches off Streamlit's legacy ``pages/`` discovery.
# The first page is the default, served at "/"; its own path is kept working by a hidden alias
# (a page's identity is its url_path, so the default one gets another, never shown).
home, *others = PAGES
pages = [
    st.Page(home.render, title=home.title, icon=home.icon, url_path="home", help=home.help),
    *(
        st.Page(p.render, title=p.title, icon=p.icon, url_path=p.url_path, help=p.help)
        for p in others
    ),
    st.Page(home.render, title=home.title, url_path=home.url_path, visibility="hidden"),
]
# Registered for every visitor (so a deep link resolves to its page, which then never runs),
# listed only for those let in.
navigation = st.navigation(pages, position="sidebar" if standing.lets_in else "hidden")
if not standing.lets_in:
    gate(standing)
needs_account = {p.url_path for p in PAGES if p.needs_account}

problem: ConnectorError | None = None
account: AccountSettings | None = None
data_file = ""
try:
    data_file = str(console().db.path)
    account = console().account()
    seed_demo_prompts()
except ConnectorError as exc:
    account, problem = None, exc

with st.sidebar:
    if account is None:
        st.markdown(":red-badge[:material/block: No account] actions are blocked")
    elif account.is_sandbox:
        st.markdown(":orange-badge[:material/science: Sandbox] built-in demo account")
    else:
        st.markdown(f":green-badge[:material/cloud_done: Live] `{account.host}`")
        st.caption(f"Key {account.masked_key} · from {account.source}")
    if data_file:
        st.caption(f"Data file: `{data_file}`")
    if standing.gate is Gate.ALLOWED:
        # A code span is safe: connector.auth lets in plain addresses only (no backtick).
        st.caption(f"Signed in as `{standing.operator}`, recorded on every action you take.")
        if st.button("Sign out", icon=":material/logout:", key="sign_out"):
            st.logout()
    else:
        st.text_input(
            "Operator",
            key="operator",
            placeholder=operator(),
            help="Your name, recorded on every action you take in the log.",
        )
        st.caption(
            ":material/lock_open: Open to anyone who can reach it: run it behind your "
            "company's SSO proxy, or turn on sign-in (README, *Sign-in*)."
        )
    if data_file:
        with reporting_errors():
            ensure_worker()
            active_jobs(compact=True)

if problem is not None:
    show_error(problem)
    if not data_file or navigation.url_path in needs_account:  # no data file: no page works
        st.stop()

# One place turns any ConnectorError left unhandled by a page into a sentence, never a traceback.
with reporting_errors():
    navigation.run()
