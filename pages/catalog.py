"""Lists & automations: the account's catalog, read from the SQLite cache.

Fetching everything costs one request per 100 items at 5 requests per second, so the page reads
the cache and goes to the API only on first visit (empty cache) or when asked to refresh.

At 10,000 lists, building the four tables costs about 85 ms, so each table's frame is built once
per catalog refresh (cached on the refresh stamp, shared by every session), and each tab is a
fragment: typing in one tab's search box reruns that tab alone, not the page.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import pandas as pd
import streamlit as st

from connector import CatalogKind, ConnectorError
from connector.engage.display import as_markdown_text, utc_text
from pages._common import (
    catalog_items,
    console,
    gated,
    hand_over_to_app,
    needs_first_fetch,
    show_error,
)

LIVE_SEARCH = "50ms"  # the pause after a keystroke before the table follows
_TABS: dict[CatalogKind, tuple[str, dict[str, str]]] = {
    # kind: (tab title, {model attribute: column header})
    CatalogKind.LISTS: (
        "Lists",
        {"id": "ID", "name": "Name", "stringid": "String ID", "created": "Created"},
    ),
    CatalogKind.AUTOMATIONS: (
        "Automations",
        {
            "id": "ID",
            "name": "Name",
            "status": "Status",
            "entered": "Contacts entered",
            "multientry": "Re-entry",
        },
    ),
    CatalogKind.FIELDS: (
        "Custom fields",
        {
            "id": "ID",
            "name": "Title",
            "type": "Type",
            "options": "Options",
            "perstag": "Personalization tag",
        },
    ),
    CatalogKind.TAGS: (
        "Tags",
        {"id": "ID", "name": "Tag", "tag_type": "Type", "description": "Description"},
    ),
}


def _refresh() -> bool:
    bar = st.progress(0.0, text="Fetching the catalog…")
    kinds = list(CatalogKind)

    def progress(kind: CatalogKind, done: int, total: int) -> None:
        step = kinds.index(kind)
        bar.progress(
            min(1.0, (step + done / max(total, 1)) / len(kinds)),
            text=f"Fetching {_TABS[kind][0].lower()}: page {done} of {total}",
        )

    try:
        counts = console().refresh_catalog(on_progress=progress)
    except ConnectorError as exc:
        bar.empty()
        show_error(exc)
        return False
    bar.empty()
    st.toast(
        "Catalog refreshed: " + ", ".join(f"{n} {_TABS[k][0].lower()}" for k, n in counts.items()),
        icon=":material/check:",
    )
    return True


@st.cache_resource(max_entries=16, show_spinner=False)
def _cached_frame(db_path: str, account: str, kind: CatalogKind, stamp: str | None) -> pd.DataFrame:
    # Built once per refresh and shared: the page filters it into new frames, never mutates it.
    return _frame(kind, catalog_items(kind))


def _frame(kind: CatalogKind, items: list[Any]) -> pd.DataFrame:
    columns = _TABS[kind][1]
    rows = []
    for item in items:
        row = asdict(item)
        if kind is CatalogKind.AUTOMATIONS:
            row["status"] = "Active" if row.pop("active") else "Inactive"
            row["multientry"] = "Allowed" if row["multientry"] else "Once"
        if "created" in row:
            row["created"] = utc_text(row["created"])
        if "options" in row:
            row["options"] = ", ".join(row["options"])
        rows.append(row)
    frame = pd.DataFrame(rows, columns=list(columns))
    frame["id"] = pd.to_numeric(frame["id"], errors="coerce").astype("Int64")
    frame = frame.rename(columns=columns)
    frame["_name"] = frame[columns["name"]].str.lower()  # searched on every keystroke
    return frame


def _table(kind: CatalogKind) -> pd.DataFrame:
    account = console().account().label
    stamp = console().catalog.refreshed_at(account, kind)
    return _cached_frame(str(console().db.path), account, kind, stamp)


@st.fragment
@gated
def _tab(kind: CatalogKind) -> None:
    """One tab; a fragment, so its search and filter rerun it alone."""
    title = _TABS[kind][0]
    frame = _table(kind)
    total = len(frame)
    search_col, filter_col = st.columns([3, 1])
    query = search_col.text_input(
        f"Search {title.lower()}",
        key=f"search_{kind.value}",
        placeholder="Name or ID",
        label_visibility="collapsed",
        type="search",
        live=LIVE_SEARCH,  # filter while typing: it reruns this tab only
    )
    if kind is CatalogKind.AUTOMATIONS:
        status = filter_col.segmented_control(
            "Status", ["Active", "Inactive"], key="automation_status", label_visibility="collapsed"
        )
        if status:
            frame = frame[frame["Status"] == status]
    if query.strip():
        needle = query.strip().lower()
        mask = frame["_name"].str.contains(needle, regex=False) | (
            frame["ID"].astype(str) == needle.lstrip("#")
        )
        frame = frame[mask]
    st.caption(f"Showing {len(frame)} of {total} {title.lower()}. Click a column to sort.")
    st.dataframe(
        frame.drop(columns="_name"), hide_index=True, width="stretch", key=f"table_{kind.value}"
    )


def render() -> None:
    st.title("Lists & automations")
    account = console().account()
    caption, button = st.columns([3, 1], vertical_alignment="center")
    clicked = button.button(
        "Refresh from ActiveCampaign", icon=":material/refresh:", width="stretch"
    )
    if clicked or needs_first_fetch():
        _refresh()
    refreshed = console().catalog.refreshed_at(account.label, CatalogKind.LISTS)
    when = f"last refreshed {utc_text(refreshed, seconds=False)}" if refreshed else "not fetched"
    caption.caption(f"Account: **{as_markdown_text(account.label)}** · {when}")
    tabs = st.tabs([f"{_TABS[k][0]} ({len(_table(k))})" for k in CatalogKind])
    for tab, kind in zip(tabs, CatalogKind, strict=True):
        with tab:
            _tab(kind)


if __name__ == "__main__":  # served alone by Streamlit's legacy page discovery
    hand_over_to_app()
