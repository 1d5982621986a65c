"""The console's frame: page config, the sidebar (account, data file, operator), navigation.

It runs on every rerun, so it stays cheap: the Console is cached per process and the account
lookup is one small SQLite read.
"""

from __future__ import annotations

import streamlit as st

from connector import ConnectorError
from pages import PAGES
from pages._common import console, operator, show_error

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

with st.sidebar:
    try:
        account = console().account()
    except ConnectorError as exc:
        show_error(exc)
        st.stop()
    if account.is_sandbox:
        st.markdown(":orange-badge[:material/science: Sandbox] built-in demo account")
    else:
        st.markdown(f":green-badge[:material/cloud_done: Live] `{account.host}`")
        st.caption(f"Key {account.masked_key} · from {account.source}")
    if account.note:
        st.warning(account.note)
    st.caption(f"Data file: `{console().db.path}`")
    st.text_input(
        "Operator",
        key="operator",
        placeholder=operator(),
        help="Your name, recorded on every action you take in the log.",
    )

navigation.run()
