"""Simulator: show a prompt as a user sees it, click it, and see exactly what was sent.

Form values and the simulated user live in session state (keyed per prompt), so a failed run
loses nothing. The last run stays on screen, for its prompt only, until the next run. Only the
accepting buttons submit the form; Decline, Dismiss and Timeout run on the user's traits alone.
"""

from __future__ import annotations

import time

import streamlit as st

from connector import (
    ConnectorError,
    InputError,
    Interaction,
    Prompt,
    Run,
    RunStatus,
    SimulatedUser,
    Status,
)
from connector.engage.display import as_markdown_text
from pages._common import (
    attempt_title,
    console,
    gated,
    hand_over_to_app,
    operator,
    show_attempt,
    show_error,
    show_run_outcome,
)
from pages._preview import draw

_TRAITS = {  # session key -> trait name, as the host app sends them
    "sim_email_trait": "email_address",
    "sim_first": "first_name",
    "sim_last": "last_name",
}


def _user_form() -> None:
    st.subheader("Simulated user")
    st.caption(
        "What the host app would pass: a user id and traits. Decline, Dismiss and Timeout "
        "use these alone."
    )
    a, b = st.columns(2)
    a.text_input("User id", key="sim_user_id", placeholder="user-1024")
    b.text_input(
        "email_address trait",
        key="sim_email_trait",
        placeholder="ada@example.com",
        help="Used when no form input mapped to Email is filled.",
    )
    a.text_input("first_name trait", key="sim_first")
    b.text_input("last_name trait", key="sim_last")


@gated
def _run(prompt: Prompt, interaction: Interaction) -> None:
    """Button callback: runs before the script, so the page draws the fresh result."""
    state = st.session_state
    values = {n: state.get(f"sim_{prompt.id}_in{n}", "") for n in range(len(prompt.inputs))}
    traits = {name: state.get(key, "").strip() for key, name in _TRAITS.items()}
    user = SimulatedUser(
        user_id=state.get("sim_user_id", "").strip(),
        traits={name: value for name, value in traits.items() if value},
    )
    state.pop("sim_error", None)
    drawn, account = state.get("sim_drawn", (None, None))
    try:
        # Act on exactly what the user saw: the prompt as drawn, on the account named on the
        # page. Another tab or session may have changed either since.
        current = console().prompts.get(prompt.id) if prompt.id is not None else None
        if current is None or current.to_dict() != drawn:
            raise InputError(
                f"“{prompt.name}” was changed or deleted since this page was drawn (in another "
                "tab or session). Nothing was sent: look at it again, then click."
            )
        runner = console().runner(operator=operator(), source="simulator", expect=account)
        state["sim_result"] = runner.run(
            current, interaction, user, values, dry_run=bool(state.get("sim_dry_run"))
        )
    except ConnectorError as exc:
        state["sim_error"] = exc


def _preview(prompt: Prompt) -> None:
    last: Run | None = st.session_state.get("sim_result")
    errors = last.input_errors if last and last.prompt_id == prompt.id else {}
    draw(prompt, _run, errors)
    _countdown(prompt)


def _countdown(prompt: Prompt) -> None:
    """The Timeout interaction: a countdown that fires by itself, or at once on request."""
    seconds = prompt.timeout_seconds
    if not seconds or not prompt.prompt_type.has_buttons:
        st.button(
            "Let it time out (no countdown set)",
            icon=":material/timer:",
            key="sim_timeout",
            on_click=_run,
            args=(prompt, Interaction.TIMEOUT),
        )
        return
    started: dict[int | None, float] = st.session_state.setdefault("sim_countdown", {})
    if prompt.id in started:
        _ticking(prompt)
        return
    left, right = st.columns(2)
    left.button(
        f"Start the {seconds} s countdown",
        icon=":material/timer:",
        key="sim_countdown_start",
        on_click=_start_countdown,
        args=(prompt,),
        help="Times out by itself when it runs out, as on a site.",
    )
    right.button(
        "Time out now",
        icon=":material/timer_off:",
        key="sim_timeout",
        on_click=_run,
        args=(prompt, Interaction.TIMEOUT),
    )


@gated
def _start_countdown(prompt: Prompt) -> None:
    st.session_state.setdefault("sim_countdown", {})[prompt.id] = time.monotonic()


@st.fragment(run_every="1s")
@gated
def _ticking(prompt: Prompt) -> None:
    started: dict[int | None, float] = st.session_state.get("sim_countdown", {})
    if prompt.id not in started:
        return
    left = prompt.timeout_seconds - (time.monotonic() - started[prompt.id])
    if left <= 0:
        started.pop(prompt.id, None)
        _run(prompt, Interaction.TIMEOUT)
        st.rerun(scope="app")
    bar, now = st.columns([3, 1], vertical_alignment="center")
    bar.progress(
        max(0.0, left / prompt.timeout_seconds),
        text=f"Times out in {max(0, int(left) + 1)} s",
    )
    now.button(
        "Time out now",
        icon=":material/timer_off:",
        key="sim_timeout",
        on_click=_stop_and_run,
        args=(prompt,),
    )


@gated
def _stop_and_run(prompt: Prompt) -> None:
    st.session_state.get("sim_countdown", {}).pop(prompt.id, None)
    _run(prompt, Interaction.TIMEOUT)


def _outcomes(run: Run, prompt: Prompt) -> None:
    what = f"{run.interaction.label} on “{as_markdown_text(run.prompt_name)}”"
    headings = {
        RunStatus.NO_ACTIONS: f"{what}: no actions, nothing sent",
        RunStatus.REFUSED: f"{what}: refused, nothing sent",
        RunStatus.DRY_RUN: f"Dry run of {what}",
        RunStatus.PENDING: f"{what}: started, not finished yet",
    }
    st.subheader(headings.get(run.status, f"Ran {what}"))
    show_run_outcome(run)
    if not run.interaction.submits_form and prompt.inputs:
        st.caption(
            f"{run.interaction.label} does not submit the form: only the user's traits were "
            "used, and nothing typed in the form was sent."
        )
    reasons = {a.reason for a in run.attempts}
    shared = ""
    if len(run.attempts) > 1 and len(reasons) == 1:
        shared = reasons.pop() if run.attempts[0].status is Status.SKIPPED else ""
    if shared:  # e.g. no email: say it once, not once per action
        st.warning(as_markdown_text(shared), icon=":material/info:")
    for attempt in run.attempts:
        title = attempt_title(attempt)
        if attempt.status is Status.SKIPPED and not shared:
            title += f" · {as_markdown_text(attempt.reason)}"
        # Failures, doubts and dry runs are what the operator came to read; successes stay folded.
        expanded = attempt.status in (Status.FAILED, Status.UNKNOWN, Status.DRY_RUN) or not (
            attempt.done
        )
        with st.expander(title, expanded=expanded or bool(attempt.unrecorded)):
            show_attempt(attempt)


def render() -> None:
    st.title("Simulator")
    prompts = {p.id: p for p in console().prompts.all() if p.id is not None}
    for broken in console().prompts.broken():  # the others stay usable; these say why not
        st.warning(as_markdown_text(broken.problem))
    if not prompts:
        st.info("No prompts yet. Create one on the Prompts page first.")
        return
    left, right = st.columns([3, 2], gap="large")
    with right:
        prompt_id = st.selectbox(
            "Prompt",
            list(prompts),
            key="sim_prompt",
            format_func=lambda i: prompts[i].name,
            persist_state="session",  # still this prompt after a visit to another page
        )
        prompt = prompts[prompt_id]
        st.session_state["sim_drawn"] = (prompt.to_dict(), console().account().label)
        summary = ", ".join(
            f"{i.label}: {len(prompt.actions_for(i))}" for i in Interaction if prompt.actions_for(i)
        )
        st.caption(f"Actions — {summary or 'none'}")
        st.toggle(
            "Dry run", key="sim_dry_run", help="Show the requests that would be sent, send nothing."
        )
        _user_form()
    with left:
        _preview(prompt)
    if error := st.session_state.get("sim_error"):
        show_error(error)
    result: Run | None = st.session_state.get("sim_result")
    if result is not None and result.prompt_id == prompt.id:
        st.divider()
        _outcomes(result, prompt)


if __name__ == "__main__":  # served alone by Streamlit's legacy page discovery
    hand_over_to_app()
