"""The console's frame: page config, the sidebar (account, data file, operator), navigation.

It runs on every rerun, so it stays cheap: the Console is cached per process, the account
lookup is one small SQLite read, and the replay jobs one indexed lookup (a job that is running
shows its progress here, on every page). When the account in effect can't be used (a broken or
half-set ``AC_API_URL`` / ``AC_API_KEY``), every page says why at the top, and the pages that
act on an account stop there: the console never falls back to another account.
"""

from __future__ import annotations

import streamlit as st

from connector import AccountSettings, ConnectorError
from pages import PAGES
from pages._common import (
    console,
    operator,
    reporting_errors,
    resume_jobs,
    seed_demo_prompts,
    show_error,
)
from pages._jobs import active_jobs

st.set_page_config(
    page_title="ActiveCampaign Connector Console",
    page_icon=":material/cable:",
    layout="wide",
)

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
navigation = st.navigation(pages)
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
    st.text_input(
        "Operator",
        key="operator",
        placeholder=operator(),
        help="Your name, recorded on every action you take in the log.",
    )
    if data_file:
        with reporting_errors():
            resume_jobs()
            active_jobs(compact=True)

if problem is not None:
    show_error(problem)
    if not data_file or navigation.url_path in needs_account:  # no data file: no page works
        st.stop()

# One place turns any ConnectorError left unhandled by a page into a sentence, never a traceback.
with reporting_errors():
    navigation.run()
