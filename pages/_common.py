"""What every page shares: the process-wide ``Console``, error display, the operator's name."""

from __future__ import annotations

import getpass
import json
import os
import runpy
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import streamlit as st

from connector import CatalogKind, ConnectorError, Console, Status

# Material icons, not emoji: they render the same on every machine, fonts or not.
STATUS_ICONS: dict[str, str] = {
    Status.SUCCEEDED: ":green[:material/check_circle:]",
    Status.FAILED: ":red[:material/cancel:]",
    Status.SKIPPED: ":gray[:material/skip_next:]",
    Status.DRY_RUN: ":blue[:material/science:]",
    Status.PENDING: ":orange[:material/hourglass_top:]",
    Status.INTERRUPTED: ":orange[:material/warning:]",
}


@st.cache_resource(max_entries=4, show_spinner=False, on_release=lambda c: c.close())
def _console(db_path: str) -> Console:
    return Console(db_path or None)


def console() -> Console:
    """One Console per data file per process, shared by every session (it is thread-safe)."""
    return _console(os.environ.get("CONNECTOR_DB", ""))


def hand_over_to_app() -> None:
    """Run ``app.py`` instead of a page file that Streamlit ran on its own.

    Until some session has called ``st.navigation``, Streamlit's legacy discovery serves a deep
    link like ``/setup`` by running ``pages/setup.py`` alone, skipping the frame. Each page file
    calls this when run as a script, so the frame (and its navigation) still takes over."""
    runpy.run_path(str(Path(__file__).resolve().parents[1] / "app.py"), run_name="__main__")


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


@st.cache_resource(max_entries=16, show_spinner=False)
def _cached_catalog(db_path: str, account: str, kind: CatalogKind, stamp: str | None) -> list[Any]:
    # Keyed on the refresh stamp, so a refresh (in any session) is seen at once; shared, not
    # copied, because nobody mutates the items. Loading 10,000 lists costs ~140 ms otherwise,
    # on every rerun, once per picker.
    return console().catalog.items(account, kind)


def catalog_items(kind: CatalogKind) -> list[Any]:
    """The account's cached catalog of ``kind``, ordered by name."""
    account = console().account().label
    stamp = console().catalog.refreshed_at(account, kind)
    return _cached_catalog(str(console().db.path), account, kind, stamp)


def needs_first_fetch() -> bool:
    """True when this account's catalog was never fetched and this session hasn't tried yet.

    Tried once per session and account: an unreachable account must not cost a round of
    retries on every rerun (every keystroke in a search box)."""
    account = console().account()
    if console().catalog.refreshed_at(account.label, CatalogKind.LISTS) is not None:
        return False
    tried: set[str] = st.session_state.setdefault("catalog_first_fetch", set())
    if account.label in tried:
        return False
    tried.add(account.label)
    return True


def ensure_catalog() -> None:
    """Fetch the catalog when this account's cache is empty (first visit)."""
    if needs_first_fetch():
        with reporting_errors(), st.spinner("Fetching lists, automations, fields and tags…"):
            console().refresh_catalog()


def show_json(value: Any) -> None:
    st.code(json.dumps(value, indent=2, ensure_ascii=False), language="json")


def show_exchange(request: Any, response: Any, *, no_response: str = "No response.") -> None:
    """A request and its response side by side, as JSON."""
    left, right = st.columns(2)
    for column, title, value, empty in (
        (left, "Request", request, "Nothing was sent."),
        (right, "Response", response, no_response),
    ):
        with column:
            st.markdown(f"**{title}**")
            if value:
                show_json(value)
            else:
                st.caption(empty)


def status_text(status: str) -> str:
    """Plain words for places markdown doesn't reach (table cells, select options)."""
    return status.replace("_", " ")


def status_label(status: str) -> str:
    """Icon and words, for markdown labels."""
    return f"{STATUS_ICONS.get(status, '')} {status_text(status)}".strip()
