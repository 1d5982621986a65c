"""Replay jobs on the page: start one, watch it anywhere, cancel it.

A replay always runs as a job in this process's worker thread, never in the session's script
thread: a rerun or a closed tab interrupts a script, and a job must not stop half-way because
someone clicked elsewhere. Progress is read from the job's rows, so every page and every
session (and the CLI) sees the same numbers; the panel refreshes itself while a job is active.
"""

from __future__ import annotations

import streamlit as st

from connector import ConnectorError
from connector.engage.display import as_markdown_text
from connector.engine.jobs import JobState, ReplayJob
from pages._common import console, ensure_worker, gated, operator, show_error

REFRESH_SECONDS = 1.0


@gated
def start(row_ids: list[int], description: str) -> None:
    """Queue a replay of ``row_ids`` (a button callback)."""
    try:
        ensure_worker()
        job = console().start_replay(row_ids, description=description, operator=operator())
    except ConnectorError as exc:
        st.session_state["log_replay_error"] = exc
        return
    st.session_state["log_replay_started"] = job.job_id


@gated
def _cancel(job_id: str) -> None:
    try:
        console().jobs.cancel(job_id)
    except ConnectorError as exc:
        st.session_state["log_replay_error"] = exc


def _left(job: ReplayJob) -> str:
    if job.state is JobState.RUNNING and not console().leases.alive(job.lease_until):
        # Its worker stopped renewing it (killed, or its machine gone): not "running" any more.
        return f"its worker ({job.owner or 'unknown'}) stopped; the next free worker resumes it"
    seconds = job.seconds_left()
    if seconds is None:
        return "estimating time left…" if job.state is JobState.RUNNING else "waiting for a worker"
    if seconds < 60:
        return f"about {max(1, round(seconds))} s left"
    return f"about {round(seconds / 60)} min left"


def _show(job: ReplayJob, *, compact: bool) -> None:
    title = f"Replay {job.job_id}: {job.finished} of {job.total}"
    if job.state is JobState.CANCELLING:
        title += " · stopping after the run under way"
    else:
        title += f" · {_left(job)}"
    st.progress(job.fraction, text=title)
    if not compact:
        # The search typed, who, the account: all plain text, shown as typed.
        st.caption(
            as_markdown_text(f"{job.description} · by {job.operator or '—'} on {job.account}")
        )
    st.button(
        "Cancel",
        key=f"job_cancel_{job.job_id}_{'side' if compact else 'main'}",
        icon=":material/stop_circle:",
        on_click=_cancel,
        args=(job.job_id,),
        disabled=job.state is JobState.CANCELLING,
    )


@st.fragment(run_every=REFRESH_SECONDS)
@gated
def _active_panel(compact: bool) -> None:
    jobs = console().jobs.active()
    if not jobs:
        st.rerun()  # the last job ended: redraw the page without this panel
    for job in jobs:
        _show(job, compact=compact)


def active_jobs(*, compact: bool = False) -> None:
    """Progress of every active job, refreshed while any is active; nothing when none is."""
    if console().jobs.active():
        _active_panel(compact)


def notices() -> None:
    """What the last replay click did: queued, or why not."""
    error = st.session_state.pop("log_replay_error", None)
    if error is not None:
        show_error(error)
    started = st.session_state.pop("log_replay_started", None)
    if started:
        st.toast(f"Replay {started} queued: progress shows here and in the sidebar.")


def recent() -> None:
    """The last replay jobs and how they ended."""
    jobs = [j for j in console().jobs.recent(10) if not j.state.active]
    if not jobs:
        return
    with st.expander(f"Recent replays ({len(jobs)})"):
        for job in jobs:
            error = f" · {as_markdown_text(job.error)}" if job.error else ""
            st.markdown(
                f"**{job.job_id}** {job.state.value} · {job.summary()} · "
                f"{as_markdown_text(job.description)} · "
                f"by {as_markdown_text(job.operator or '—')}{error}"
            )
