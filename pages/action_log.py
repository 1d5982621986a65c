"""Action log: what the console did to each account, and why, for every run ever made.

Views: **Runs** (one interaction of one user, its actions folded inside), **Actions** (one row
per attempt: select to see its checks, tries, requests and responses, or several to replay
them), **Contact** (everything for one email), **Charts** (the filtered set over time, success,
latency, errors) and **Changes** (configuration history). The filters apply to runs, actions and
charts alike; pages are keyset walks, so the hundredth costs what the first does. Replays run
as background jobs whose progress any page shows. Reading the log marks the pending rows of
processes that are gone as interrupted.
"""

from __future__ import annotations

import streamlit as st

from connector import ConnectorError
from connector.store.retention import count_older, cutoff_for, vacuum
from pages import _jobs, _log_filters, _log_insights, _log_views
from pages._common import console, hand_over_to_app, operator, show_error

VIEWS = ["Runs", "Actions", "Contact", "Charts", "Changes"]


def _maintenance() -> None:
    with st.expander("Retention: delete old rows"):
        days = st.number_input(
            "Delete rows older than (days)", min_value=1, value=90, step=1, key="log_keep_days"
        )
        cutoff = cutoff_for(int(days))
        if st.button("Count them", key="log_retention_count"):
            st.session_state["log_retention"] = count_older(console().db, cutoff)
        found = st.session_state.get("log_retention")
        if found is None:
            return
        if not found.actions and not found.runs:
            st.info(f"Nothing is older than {found.cutoff[:10]} (UTC).")
            return
        st.warning(
            f"Delete {found.sentence()}? This cannot be undone; export them first if you "
            "may need them.",
            icon=":material/delete_forever:",
        )
        left, right = st.columns(2)
        if left.button("Delete them", type="primary", key="log_retention_yes"):
            try:
                done = console().delete_log_older(found.cutoff, operator=operator())
            except ConnectorError as exc:
                show_error(exc)
                return
            st.session_state.pop("log_retention")
            st.success(f"Deleted {done.sentence()}.")
        if right.button("Give the space back (VACUUM)", key="log_vacuum"):
            try:
                before, after = vacuum(console().db)
            except ConnectorError as exc:
                show_error(exc)
                return
            st.success(f"Data file: {before / 1e6:,.1f} MB before, {after / 1e6:,.1f} MB after.")


def render() -> None:
    st.title("Action log")
    _jobs.active_jobs()
    view = st.segmented_control(
        "View",
        VIEWS,
        default="Runs",
        key="log_view",
        label_visibility="collapsed",
        help="Runs: one row per interaction of one user. Actions: one row per action. "
        "Contact: everything for one email. Charts and Changes: the set at a glance, and "
        "who changed the configuration.",
    )
    if view == "Contact":
        _log_views.contact()
        return
    if view == "Changes":
        _log_insights.changes()
        return
    with st.container(border=True):
        try:
            selected = _log_filters.filters()
        except ConnectorError as exc:
            show_error(exc)
            return
        st.button("Clear filters", key="log_clear", on_click=_log_filters.clear)
    try:
        if view == "Actions":
            _log_views.actions(selected)
            _jobs.recent()
        elif view == "Charts":
            _log_insights.charts(selected)
        else:
            _log_views.runs(selected)
    except ConnectorError as exc:  # a search the index can't take says so, with the filters kept
        show_error(exc)
    _maintenance()


if __name__ == "__main__":  # served alone by Streamlit's legacy page discovery
    hand_over_to_app()
