"""The action log's charts (over the filtered set) and its configuration history.

Charts are Altair (Vega-Lite), which Streamlit draws natively; the numbers come from
``connector.log_charts``, one SQL aggregate each, cached for a few seconds per filter so a
rerun elsewhere on the page does not recount a million rows.
"""

from __future__ import annotations

from datetime import UTC, datetime

import altair as alt
import pandas as pd
import streamlit as st

from connector.engage.display import action_label, utc_text
from connector.store import log_charts
from connector.store.log_query import LogFilter
from pages._common import console, status_text

_STATUS_COLOURS = {
    "succeeded": "#2e7d32",
    "failed": "#c62828",
    "skipped": "#9e9e9e",
    "dry_run": "#1565c0",
    "unknown": "#ef6c00",
    "interrupted": "#f9a825",
    "pending": "#8d6e63",
}


@st.cache_data(ttl=5, max_entries=16, show_spinner=False)
def _charts(db_path: str, selected: LogFilter, minute: str) -> dict[str, pd.DataFrame]:
    db = console().db
    now = datetime.now(UTC)
    return {
        "time": log_charts.actions_over_time(db, selected, now),
        "success": log_charts.success_by_action(db, selected, now),
        "latency": log_charts.latency_by_action(db, selected, now),
        "errors": log_charts.top_errors(db, selected, now),
    }


def charts(selected: LogFilter) -> None:
    minute = f"{datetime.now(UTC):%Y%m%d%H%M}"
    data = _charts(str(console().db.path), selected, minute)
    over_time = data["time"]
    if over_time.empty:
        st.info("No actions match these filters: nothing to chart.")
        return
    st.markdown("**Actions over time, by status**")
    st.altair_chart(
        alt.Chart(over_time.assign(status=over_time["status"].map(status_text)))
        .mark_bar()
        .encode(
            x=alt.X("bucket:T", title="UTC"),
            y=alt.Y("count:Q", title="Actions", stack=True),
            color=alt.Color(
                "status:N",
                scale=alt.Scale(
                    domain=[status_text(s) for s in _STATUS_COLOURS],
                    range=list(_STATUS_COLOURS.values()),
                ),
            ),
            tooltip=["bucket:T", "status:N", "count:Q"],
        ),
        width="stretch",
    )
    left, right = st.columns(2)
    with left:
        st.markdown("**Success rate by action**")
        success = data["success"].assign(action=lambda f: f["action_type"].map(action_label))
        st.altair_chart(
            alt.Chart(success)
            .mark_bar()
            .encode(
                x=alt.X("success_rate:Q", title="Succeeded", axis=alt.Axis(format="%")),
                y=alt.Y("action:N", title=None, sort="-x"),
                tooltip=["action", "total", "succeeded", "failed", "skipped"],
            ),
            width="stretch",
        )
    with right:
        st.markdown("**Latency by action (p50 and p95, ms)**")
        latency = data["latency"].assign(action=lambda f: f["action_type"].map(action_label))
        long = latency.melt(
            id_vars=["action", "n"], value_vars=["p50_ms", "p95_ms"], var_name="percentile"
        )
        st.altair_chart(
            alt.Chart(long)
            .mark_bar()
            .encode(
                x=alt.X("value:Q", title="ms"),
                y=alt.Y("action:N", title=None),
                yOffset="percentile:N",
                color=alt.Color("percentile:N", title=None),
                tooltip=["action", "percentile", "value", "n"],
            ),
            width="stretch",
        )
    st.markdown("**Top errors**")
    errors = data["errors"]
    if errors.empty:
        st.caption("No failed, unknown or interrupted actions in this set.")
    else:
        st.dataframe(
            errors.assign(last_seen=errors["last_seen"].map(utc_text)).rename(
                columns={"error": "Error", "count": "Times", "last_seen": "Last seen"}
            ),
            hide_index=True,
            width="stretch",
        )


def changes() -> None:
    """Configuration changes: accounts, prompts, sandbox resets, retention; who and when."""
    events = console().audit.page(limit=200)
    if not events:
        st.info("No configuration changes recorded yet.")
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "When": utc_text(e.at),
                    "Who": e.operator or "—",
                    "Where": e.source,
                    "What": e.kind.replace("_", " "),
                    "Subject": e.subject,
                    "Change": e.summary,
                }
                for e in events
            ]
        ),
        hide_index=True,
        width="stretch",
        column_config={"Change": st.column_config.TextColumn(width="large")},
    )
    st.caption(f"The {len(events)} most recent changes, newest first. Keys are never recorded.")
