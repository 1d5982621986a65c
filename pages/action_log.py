"""Action log: every action ever taken and every run, newest first, with filters and detail.

Two views: actions (one row per attempt, filtered, keyset-paginated with ``before_id`` so the
hundredth page costs what the first does, CSV on demand) and runs (one row per interaction of
one user, also those that carried no action or were refused). A selected row shows its whole
record: checks, tries, requests and responses. Reading the log marks the pending rows of
processes that are gone as interrupted.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
import streamlit as st

from connector import REGISTRY, Interaction, LogFilter, Status
from connector.display import action_label, interaction_label, utc_text
from pages._common import (
    RUN_ICONS,
    STATUS_ICONS,
    attempt_title,
    console,
    hand_over_to_app,
    show_attempt,
    show_run_outcome,
    status_label,
    status_text,
    tries,
)

PAGE_SIZE = 50
_RANGES: dict[str, timedelta | None] = {
    "Last hour": timedelta(hours=1),
    "Last 24 hours": timedelta(days=1),
    "Last 7 days": timedelta(days=7),
    "Last 30 days": timedelta(days=30),
    "All time": None,
    "Custom dates": None,
}
_COLUMNS = {
    "id": "#",
    "created_at": "Time",
    "status": "Status",
    "action_type": "Action",
    "target_name": "Target",
    "contact_email": "Email",
    "prompt_name": "Prompt",
    "interaction": "Interaction",
    "http_status": "HTTP",
    "attempts": "Tries",
    "duration_ms": "ms",
    "source": "Source",
}


def _filters() -> LogFilter:
    prompts = {p.id: p.name for p in console().prompts.all() if p.id is not None}
    row1 = st.columns([2, 2, 2, 2])
    range_name = row1[0].selectbox("Time range", list(_RANGES), index=4, key="log_range")
    since = until = None
    if range_name == "Custom dates":
        today = date.today()
        picked = row1[0].date_input("Dates", (today - timedelta(days=7), today), key="log_dates")
        if isinstance(picked, tuple) and len(picked) == 2:
            since = datetime.combine(picked[0], time.min, UTC)
            until = datetime.combine(picked[1] + timedelta(days=1), time.min, UTC)
    elif delta := _RANGES[range_name]:
        since = datetime.now(UTC) - delta
    statuses = row1[1].multiselect(
        "Status", [s.value for s in Status], key="log_status", format_func=status_text
    )
    types = row1[2].multiselect(
        "Action",
        [t.value for t in REGISTRY],
        key="log_types",
        format_func=action_label,
    )
    interactions = row1[3].multiselect(
        "Interaction",
        [i.value for i in Interaction],
        key="log_inter",
        format_func=lambda i: Interaction(i).label,
    )
    row2 = st.columns([4, 4])
    prompt_ids = row2[0].multiselect(
        "Prompt", list(prompts), key="log_prompts", format_func=lambda i: prompts.get(i, f"#{i}")
    )
    email = row2[1].text_input("Email contains", key="log_email", placeholder="ada@")
    return LogFilter(
        since=since,
        until=until,
        statuses=tuple(statuses),
        action_types=tuple(types),
        prompt_ids=tuple(prompt_ids),
        interactions=tuple(interactions),
        email=email,
    )


def _detail(row_id: int) -> None:
    attempt = console().log.attempt(row_id)
    row = console().log.get(row_id)
    if attempt is None or row is None:
        return
    st.subheader(f"Entry #{row_id}")
    target = f" → {attempt.target}" if attempt.target_id else ""
    contact = f" (contact #{attempt.contact_id})" if attempt.contact_id else ""
    st.markdown(
        f"**{status_label(attempt.status)}** · {attempt.label}{target} · "
        f"{attempt.contact_email or 'no email'}{contact}"
    )
    st.caption(
        f"Run {row['run_id']} · {row['prompt_name'] or '—'} / "
        f"{interaction_label(row['interaction']) or '—'} · started {utc_text(row['created_at'])} · "
        f"finished {utc_text(row['finished_at']) or '—'} · {tries(attempt.attempts)} · "
        f"by {row['operator'] or '—'} via {row['source']} on {row['account']}"
    )
    show_attempt(attempt)


def _runs_view() -> None:
    runs = console().log.runs(limit=PAGE_SIZE)
    if not runs:
        st.info("No runs yet. Click a prompt in the Simulator to record one.")
        return
    frame = pd.DataFrame(
        [
            {
                "Started": utc_text(run.started_at),
                "Outcome": status_text(run.status),
                "Prompt": run.prompt_name,
                "Interaction": run.interaction.label,
                "User": run.user.user_id,
                "Email": run.contact_email,
                "Source": run.source,
                "Account": run.account,
            }
            for run in runs
        ]
    )
    event = st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="log_runs_table",
    )
    st.caption(f"The {len(runs)} most recent runs, newest first.")
    selected = event.selection.rows if event is not None else []
    if not selected:
        st.caption("Select a run to see who it was, what they submitted and every action.")
        return
    run = console().log.run(runs[selected[0]].run_id)
    if run is None:
        return
    st.subheader(f"{RUN_ICONS.get(run.status, '')} {run.interaction.label} on “{run.prompt_name}”")
    show_run_outcome(run)
    left, right = st.columns(2)
    with left:
        st.markdown("**User**")
        st.json({"user_id": run.user.user_id, "traits": dict(run.user.traits)}, expanded=True)
    with right:
        st.markdown("**Submitted form**")
        if run.inputs:
            st.json({i["label"]: i["value"] for i in run.inputs}, expanded=True)
        else:
            st.caption(f"{run.interaction.label} does not submit the form.")
    for attempt in run.attempts:
        with st.expander(attempt_title(attempt)):
            show_attempt(attempt)


def render() -> None:
    st.title("Action log")
    view = st.segmented_control(
        "View",
        ["Actions", "Runs"],
        default="Actions",
        key="log_view",
        label_visibility="collapsed",
        help="Actions: one row per action attempt. Runs: one row per interaction of one user.",
    )
    if view == "Runs":
        _runs_view()
        return
    filters = _filters()
    if st.session_state.get("log_filters") != filters:
        st.session_state["log_filters"] = filters
        st.session_state["log_pages"] = [None]  # before_id of each page start; None = newest
    starts: list[int | None] = st.session_state["log_pages"]
    page = console().log.page(filters, limit=PAGE_SIZE, before_id=starts[-1])

    metrics = st.columns(len(Status) + 1)
    metrics[0].metric("Matching", page.total)
    for col, status in zip(metrics[1:], Status, strict=True):
        col.metric(
            f"{STATUS_ICONS[status]} {status.value.replace('_', ' ')}", page.counts.get(status, 0)
        )

    if not page.rows:
        if filters == LogFilter():
            st.info("No actions yet. Click a prompt in the Simulator to record some.")
        else:
            st.info("No actions match these filters. Widen the time range or clear a filter.")
        return
    frame = pd.DataFrame(page.rows)[list(_COLUMNS)]
    frame["status"] = frame["status"].map(status_text)
    frame["created_at"] = frame["created_at"].map(utc_text)
    frame["action_type"] = frame["action_type"].map(action_label)
    frame["interaction"] = frame["interaction"].map(interaction_label)
    frame = frame.rename(columns=_COLUMNS)
    event = st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="log_table",
    )
    nav = st.columns([1, 1, 3, 2], vertical_alignment="center")
    first = (len(starts) - 1) * PAGE_SIZE + 1
    nav[2].caption(f"Rows {first}–{first + len(page.rows) - 1} of {page.total}, newest first")
    if nav[0].button("Newer", icon=":material/chevron_left:", disabled=len(starts) == 1):
        starts.pop()
        st.rerun()
    if nav[1].button(
        "Older", icon=":material/chevron_right:", disabled=page.next_before_id is None
    ):
        starts.append(page.next_before_id)
        st.rerun()
    nav[3].download_button(
        "Download CSV",
        data=lambda: console().log.export_csv(filters),
        file_name=f"action-log-{datetime.now(UTC):%Y%m%d-%H%M%S}.csv",
        mime="text/csv",
        icon=":material/download:",
        width="stretch",
    )
    selected = event.selection.rows if event is not None else []
    if selected:
        _detail(int(page.rows[selected[0]]["id"]))
    else:
        st.caption("Select a row to see its request and response.")


if __name__ == "__main__":  # served alone by Streamlit's legacy page discovery
    hand_over_to_app()
