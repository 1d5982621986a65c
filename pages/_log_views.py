"""The action log's views: actions (one row per attempt), runs (one row per interaction of one
user, actions folded inside), one contact's history, and the detail of one entry with its
replay links both ways."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pandas as pd
import streamlit as st

from connector import ConnectorError, Run, Status
from connector.engage.display import action_label, as_markdown_text, interaction_label, utc_text
from connector.engine.replay import chain_head, replayable
from connector.store.log_export import ExportFormat
from connector.store.log_export import text as export_text
from connector.store.log_query import REPLAYABLE_STATUSES, Cursor, LogFilter, is_replayable
from pages import _jobs
from pages._common import (
    RUN_ICONS,
    STATUS_ICONS,
    attempt_title,
    console,
    gated,
    show_attempt,
    show_error,
    show_run_outcome,
    status_label,
    status_text,
    tries,
)
from pages._log_filters import cli_arguments

PAGE_SIZE = 50
EXPORT_LIMIT = 20_000  # rows the page builds a download of; beyond, the CLI streams it
_COLUMNS = {
    "id": "#",
    "created_at": "Time",
    "status": "Status",
    "replay": "Replay",
    "action_type": "Action",
    "target_name": "Target",
    "contact_email": "Email",
    "prompt_name": "Prompt",
    "interaction": "Interaction",
    "account": "Account",
    "source": "Source",
    "operator": "Operator",
    "http_status": "HTTP",
    "attempts": "Tries",
    "duration_ms": "ms",
}


# -- paging ------------------------------------------------------------------------------------


def _cursors(key: str, selected: LogFilter) -> list[Cursor | None]:
    """Where each page seen so far starts, for ``key``'s view; reset when the filter changes
    (a relative range compares equal across reruns, so paging survives them)."""
    if st.session_state.get(f"{key}_filter") != selected:
        st.session_state[f"{key}_filter"] = selected
        st.session_state[f"{key}_pages"] = [None]
    return st.session_state[f"{key}_pages"]


def _pager(key: str, starts: list[Cursor | None], shown: int, more: Cursor | None) -> None:
    nav = st.columns([1, 1, 4], vertical_alignment="center")
    first = (len(starts) - 1) * PAGE_SIZE + 1
    if nav[0].button(
        "Newer", icon=":material/chevron_left:", disabled=len(starts) == 1, key=f"{key}_newer"
    ):
        starts.pop()
        st.rerun()
    if nav[1].button(
        "Older", icon=":material/chevron_right:", disabled=more is None, key=f"{key}_older"
    ):
        starts.append(more)
        st.rerun()
    nav[2].caption(f"{first}–{first + shown - 1}, newest first")


# -- actions -----------------------------------------------------------------------------------


def counts(selected: LogFilter) -> dict[str, int]:
    """The filtered set by status, as metrics."""
    found = console().log.counts(selected)
    metrics = st.columns(len(Status) + 1)
    metrics[0].metric("Matching", f"{sum(found.values()):,}")
    for column, status in zip(metrics[1:], Status, strict=True):
        column.metric(f"{STATUS_ICONS[status]} {status_text(status)}", f"{found.get(status, 0):,}")
    return found


def actions(selected: LogFilter) -> None:
    found = counts(selected)
    total = sum(found.values())
    starts = _cursors("log_actions", selected)
    page = console().log.page(selected, limit=PAGE_SIZE, cursor=starts[-1])
    if not page.rows:
        if selected.is_empty:
            st.info("No actions yet. Click a prompt in the Simulator to record some.")
        else:
            st.info("No actions match these filters. Widen the time range or clear a filter.")
        return
    if selected.text.strip():
        st.caption("Search results are in the order they were recorded, newest first.")
    ids = [int(row["id"]) for row in page.rows]
    replays = console().log.replays_of(ids)
    with st.container(key="log_table_box"):
        event = st.dataframe(
            _frame(page.rows, replays),
            hide_index=True,
            width="stretch",
            on_select="rerun",
            selection_mode="multi-row",
            key=_table_key(ids),
            column_config={
                "#": st.column_config.NumberColumn(format="%d"),
                "Replay": st.column_config.TextColumn(
                    width="medium", help="← the entry this one retries · → its replays"
                ),
            },
        )
    _pager("log_actions", starts, len(page.rows), page.next_cursor)
    picked = [ids[n] for n in (event.selection.rows if event else [])]
    can_replay = [
        row["id"]
        for row in page.rows
        if row["id"] in picked and _replayable_row(row) and row["id"] not in replays
    ]
    undone = sum(found.get(s, 0) for s in (*REPLAYABLE_STATUSES, "skipped"))
    _replay_bar(selected, picked, can_replay, undone)
    _exports(selected, total)
    focus = _focus(picked)
    if focus is not None:
        detail(focus)
    else:
        st.caption(
            "Select a row to see its checks, tries, requests and responses; select several "
            "to replay them."
        )


def _table_key(ids: list[int]) -> str:
    """The actions table's widget key, new whenever other rows fill the page (a replay added
    one on top, another page): a table's selection is by position, so a kept one would point
    at a different entry. The entry that was open stays open."""
    state = st.session_state
    if state.get("log_table_ids") != ids:
        before: list[int] = state.get("log_table_ids") or []
        old_key = state.get("log_table_key")
        old = state.get(old_key, {}) if old_key else {}
        chosen = old.get("selection", {}).get("rows", []) if isinstance(old, dict) else []
        if len(chosen) == 1 and chosen[0] < len(before):
            state["log_focus"] = before[chosen[0]]
            state["log_picked"] = []
        state["log_table_generation"] = state.get("log_table_generation", 0) + 1
        state["log_table_ids"] = ids
        state["log_table_key"] = f"log_table_{state['log_table_generation']}"
    return str(state["log_table_key"])


def _replayable_row(row: dict[str, Any]) -> bool:
    return is_replayable(row["status"], row.get("reason_code"))


def _replay_cell(row: dict[str, Any], replays: dict[int, list[tuple[int, str]]]) -> str:
    """Both directions of the replay link in one cell: ← the row this retries, → its replay."""
    parts = [f"← #{int(row['retry_of'])}"] if row.get("retry_of") else []
    parts += [f"→ #{later} {status_text(status)}" for later, status in replays.get(row["id"], [])]
    return " · ".join(parts)


def _frame(rows: list[dict[str, Any]], replays: dict[int, list[tuple[int, str]]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame["replay"] = [_replay_cell(row, replays) for row in rows]
    frame = frame[list(_COLUMNS)]
    frame["status"] = frame["status"].map(status_text)
    frame["created_at"] = frame["created_at"].map(utc_text)
    frame["action_type"] = frame["action_type"].map(action_label)
    frame["interaction"] = frame["interaction"].map(interaction_label)
    return frame.rename(columns=_COLUMNS)


def _focus(picked: list[int]) -> int | None:
    """The entry to show: one the user jumped to by a link, else the one row selected."""
    if st.session_state.get("log_picked") != picked:  # a new selection ends a jump
        st.session_state["log_picked"] = picked
        st.session_state.pop("log_focus", None)
    jumped = st.session_state.get("log_focus")
    if jumped is not None:
        return int(jumped)
    return picked[0] if len(picked) == 1 else None


def _replay_bar(selected: LogFilter, picked: list[int], can_replay: list[int], undone: int) -> None:
    _jobs.notices()
    left, right = st.columns(2)
    if can_replay:
        shown = (
            f"{len(can_replay)}"
            if len(can_replay) == len(picked)
            else (f"{len(can_replay)} of {len(picked)}")
        )
        left.button(
            f"Replay {shown} selected",
            icon=":material/replay:",
            key="log_replay_selected",
            on_click=_jobs.start,
            args=(can_replay, "selected rows " + ", ".join(f"#{r}" for r in can_replay[:20])),
            help="Failed, interrupted or unknown actions (and those skipped because of them) "
            "are sent again with their original inputs. Rows that succeeded, or were replayed "
            "already, are left alone.",
        )
    elif picked:
        left.caption(
            "Nothing selected can be replayed: only failed, interrupted or unknown actions "
            "(and those skipped because of them) without a replay yet."
        )
    if undone and right.button(
        "Replay all matching…", icon=":material/replay:", key="log_replay_all_ask"
    ):
        st.session_state["log_replay_all"] = console().log.ids(replace(selected, replayable=True))
    matching: list[int] | None = st.session_state.get("log_replay_all")
    if matching is None:
        return
    if not matching:
        st.info("Nothing to replay: no failed, interrupted or unknown action matches.")
        st.session_state.pop("log_replay_all")
        return
    with st.container(border=True):
        account = as_markdown_text(console().account().label)
        st.warning(
            f"Replay {len(matching):,} actions on {account}? They run in the background at "
            "the account's rate limit; each is checked first, so nothing that already "
            "happened is sent again.",
            icon=":material/warning:",
        )
        yes, no = st.columns(2)
        if yes.button("Replay them", type="primary", key="log_replay_all_yes"):
            st.session_state.pop("log_replay_all")
            _jobs.start(matching, f"all replayable matching: {selected.describe()}")
            st.rerun()
        if no.button("Cancel", key="log_replay_all_no"):
            st.session_state.pop("log_replay_all")
            st.rerun()


def _exports(selected: LogFilter, total: int) -> None:
    stamp = f"{datetime.now(UTC):%Y%m%d-%H%M%S}"
    columns = st.columns(2)
    if total > EXPORT_LIMIT:
        st.caption(
            f"{total:,} rows are more than the page exports ({EXPORT_LIMIT:,}). The command "
            "line streams any number:"
        )
        st.code(
            f"python -m connector export --format csv {cli_arguments(selected)} "
            "--output action-log.csv",
            language="bash",
        )
        return
    for column, fmt in zip(columns, ExportFormat, strict=True):
        column.download_button(
            f"Download {fmt.value.upper()}",
            data=partial(_export_text, selected, fmt),
            file_name=f"action-log-{stamp}.{fmt.value}",
            mime=fmt.mime,
            icon=":material/download:",
            width="stretch",
            key=f"log_download_{fmt.value}",
        )


def _export_text(selected: LogFilter, fmt: ExportFormat) -> str:
    return "".join(export_text(console().log, selected, fmt))


# -- one entry ---------------------------------------------------------------------------------


@gated
def _jump(row_id: int) -> None:
    st.session_state["log_focus"] = row_id


@gated
def _open_contact(email: str) -> None:
    st.session_state["log_contact"] = email
    st.session_state["log_view"] = "Contact"


def detail(row_id: int) -> None:
    attempt = console().log.attempt(row_id)
    row = console().log.get(row_id)
    if attempt is None or row is None:
        st.caption(f"Entry #{row_id} is no longer in the log.")
        return
    st.subheader(f"Entry #{row_id}")
    target = f" → {as_markdown_text(attempt.target)}" if attempt.target_id else ""
    contact = f" (contact #{attempt.contact_id})" if attempt.contact_id else ""
    st.markdown(
        f"**{status_label(attempt.status)}** · {attempt.label}{target} · "
        f"{as_markdown_text(attempt.contact_email) or 'no email'}{contact}"
    )
    st.caption(
        f"Run {row['run_id']} · {as_markdown_text(row['prompt_name'] or '—')} / "
        f"{interaction_label(row['interaction']) or '—'} · started {utc_text(row['created_at'])} · "
        f"finished {utc_text(row['finished_at']) or '—'} · {tries(attempt.attempts)} · "
        f"by {as_markdown_text(row['operator'] or '—')} via {as_markdown_text(row['source'])} "
        f"on {as_markdown_text(row['account'])}"
    )
    links = st.container(horizontal=True)
    if attempt.retry_of is not None:
        links.button(
            f"Retry of #{attempt.retry_of}",
            icon=":material/undo:",
            key=f"log_to_{attempt.retry_of}",
            on_click=_jump,
            args=(attempt.retry_of,),
        )
    for later in console().log.retries(row_id):
        links.button(
            f"Replayed as #{later['id']} ({status_text(later['status'])})",
            icon=":material/redo:",
            key=f"log_to_{later['id']}",
            on_click=_jump,
            args=(int(later["id"]),),
        )
    if attempt.contact_email:
        links.button(
            "All activity for this contact",
            icon=":material/person_search:",
            key="log_contact_open",
            on_click=_open_contact,
            args=(attempt.contact_email,),
        )
    if replayable(attempt) and chain_head(console().log, row_id) == row_id:
        st.button(
            "Replay this action",
            icon=":material/replay:",
            key="log_replay_one",
            on_click=_jobs.start,
            args=([row_id], f"row #{row_id}"),
        )
    show_attempt(attempt)


# -- runs --------------------------------------------------------------------------------------


def _folded(run: Run) -> str:
    """A run's actions in one cell: ✓ Add Contact · ✗ Add to List “Newsletter” …"""
    marks = {
        Status.SUCCEEDED: "✓",
        Status.FAILED: "✗",
        Status.SKIPPED: "–",
        Status.DRY_RUN: "◇",
        Status.UNKNOWN: "?",
        Status.PLANNED: "○",
        Status.PENDING: "…",
        Status.INTERRUPTED: "!",
    }
    return " · ".join(
        f"{marks[a.status]} {a.label}" + (f" “{a.target_name}”" if a.target_name else "")
        for a in run.attempts
    )


def runs(selected: LogFilter) -> None:
    starts = _cursors("log_runs", selected)
    page = console().log.runs_page(selected, limit=PAGE_SIZE, cursor=starts[-1])
    if not page.runs:
        if selected.is_empty:
            st.info("No runs yet. Click a prompt in the Simulator to record one.")
        else:
            st.info("No runs match these filters. Widen the time range or clear a filter.")
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
                "Actions": _folded(run),
                "Account": run.account,
                "Source": run.source,
                "Operator": run.operator,
            }
            for run in page.runs
        ]
    )
    event = st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="log_runs_table",
        column_config={"Actions": st.column_config.TextColumn(width="large")},
    )
    _pager("log_runs", starts, len(page.runs), page.next_cursor)
    picked = event.selection.rows if event is not None else []
    if not picked:
        st.caption("Select a run to see who it was, what they submitted and every action.")
        return
    run = console().log.run(page.runs[picked[0]].run_id)
    if run is not None:
        run_detail(run)


def run_detail(run: Run, *, key: str = "run") -> None:
    prompt = as_markdown_text(run.prompt_name)
    st.subheader(f"{RUN_ICONS.get(run.status, '')} {run.interaction.label} on “{prompt}”")
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
    if run.contact_email and key == "run":
        st.button(
            f"All activity for {as_markdown_text(run.contact_email)}",
            icon=":material/person_search:",
            key="log_run_contact",
            on_click=_open_contact,
            args=(run.contact_email,),
        )
    for attempt in run.attempts:
        retry = f" · retry of #{attempt.retry_of}" if attempt.retry_of else ""
        with st.expander(f"#{attempt.log_id} {attempt_title(attempt)}{retry}"):
            show_attempt(attempt)


# -- one contact -------------------------------------------------------------------------------


def contact() -> None:
    email = st.text_input(
        "Contact email",
        key="log_contact",
        placeholder="ada@example.com",
        help="Every run and action for this email, across prompts and accounts.",
    )
    if not email.strip():
        st.caption("Type an email, or open a contact from any entry of the log.")
        return
    try:
        history = console().log.contact_history(email.strip(), limit=PAGE_SIZE)
    except ConnectorError as exc:
        show_error(exc)
        return
    if not history.runs:
        st.info(
            f"Nothing in the log for {as_markdown_text(email.strip())}. Check the spelling: it "
            "must match."
        )
        return
    attempts = sum(len(r.attempts) for r in history.runs)
    more = " (the most recent)" if history.next_cursor else ""
    st.caption(f"{len(history.runs)} runs{more}, {attempts} actions, newest first.")
    for run in history.runs:
        with st.container(border=True):
            st.markdown(
                f"{RUN_ICONS.get(run.status, '')} **{run.interaction.label}** on "
                f"“{as_markdown_text(run.prompt_name)}” · {utc_text(run.started_at)} · "
                f"{as_markdown_text(run.account)} · {as_markdown_text(run.source)}"
            )
            for attempt in run.attempts:
                retry = f" (retry of #{attempt.retry_of})" if attempt.retry_of else ""
                reason = f": {as_markdown_text(attempt.reason)}" if attempt.reason else ""
                st.markdown(f"- #{attempt.log_id} {attempt_title(attempt)}{retry}{reason}")
