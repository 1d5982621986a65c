"""What every page shares: the process-wide ``Console``, error display, the operator's name."""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import streamlit as st

from connector import CatalogKind, ConnectorError, Console, Status

STATUS_ICONS: dict[str, str] = {
    Status.SUCCEEDED: "✅",
    Status.FAILED: "❌",
    Status.SKIPPED: "⏭️",
    Status.DRY_RUN: "🧪",
    Status.PENDING: "⏳",
    Status.INTERRUPTED: "⚠️",
}


@st.cache_resource(max_entries=4, show_spinner=False)
def _console(db_path: str) -> Console:
    return Console(db_path or None)


def console() -> Console:
    """One Console per data file per process, shared by every session (it is thread-safe)."""
    return _console(os.environ.get("CONNECTOR_DB", ""))


def operator() -> str:
    """Who is acting, for the log: the sidebar's name field, else the environment, else OS user."""
    name = st.session_state.get("operator", "").strip()
    if name:
        return name
    return os.environ.get("CONNECTOR_OPERATOR") or _os_user()


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def show_error(exc: ConnectorError) -> None:
    """The one place a ``ConnectorError`` becomes page text: the sentence, then the detail."""
    st.error(exc.message, icon=":material/error:")
    if exc.detail:
        with st.expander("Technical detail"):
            st.code(exc.detail, language=None)


@contextmanager
def reporting_errors() -> Iterator[None]:
    """Run a block; a ``ConnectorError`` inside it is shown instead of a traceback."""
    try:
        yield
    except ConnectorError as exc:
        show_error(exc)


def ensure_catalog() -> None:
    """Fetch the catalog once when this account's cache is empty (first visit)."""
    account = console().account()
    if console().catalog.refreshed_at(account.label, CatalogKind.LISTS) is None:
        with reporting_errors(), st.spinner("Fetching lists, automations, fields and tags…"):
            console().refresh_catalog()


def show_json(value: Any) -> None:
    st.code(json.dumps(value, indent=2, ensure_ascii=False), language="json")


def status_label(status: str) -> str:
    return f"{STATUS_ICONS.get(status, '')} {status.replace('_', ' ')}".strip()
