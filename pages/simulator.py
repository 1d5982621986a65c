"""Simulator: show a prompt as a user sees it, click it, and see exactly what was sent.

Form values and the simulated user live in session state (keyed per prompt), so a failed run
loses nothing. The last run stays on screen, for its prompt only, until the next run. Only the
accepting buttons submit the form; Decline, Dismiss and Timeout run on the user's traits alone.
"""

from __future__ import annotations

from typing import Literal

import streamlit as st

from connector import (
    ConnectorError,
    InputError,
    Interaction,
    Prompt,
    PromptType,
    Run,
    SimulatedUser,
    Status,
)
from pages._common import (
    attempt_title,
    console,
    hand_over_to_app,
    operator,
    show_attempt,
    show_error,
    show_run_outcome,
)

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


_BANNERS = {PromptType.HORIZONTAL_BANNER, PromptType.BOTTOM_BANNER, PromptType.TEXT_BAR}


def _preview(prompt: Prompt) -> None:
    """The prompt roughly as its type looks in a page: a dialog, a strip, a video."""
    st.caption(f"{prompt.prompt_type.label} preview")
    with st.container(border=True):
        if not prompt.prompt_type.has_buttons:
            st.markdown("*Invisible prompt: nothing is shown; its actions run on trigger.*")
            _inputs(prompt)
            st.button(
                "Trigger",
                type="primary",
                key="sim_trigger",
                on_click=_run,
                args=(prompt, Interaction.ACCEPT),
            )
            return
        banner = prompt.prompt_type in _BANNERS
        head, close = st.columns([10, 1], vertical_alignment="center")
        headline = prompt.headline or "(no headline)"
        # Banners are a strip: a bold line and small print instead of a dialog's heading.
        head.markdown(f"**{headline}**" if banner else f"### {headline}")
        with close:
            _close(prompt)
        if prompt.prompt_type is PromptType.VIDEO:
            st.info("The video plays here.", icon=":material/smart_display:")
        if prompt.body and banner:
            st.caption(prompt.body)
        elif prompt.body:
            st.write(prompt.body)
        _inputs(prompt)
        _buttons(prompt)
    seconds = prompt.timeout_seconds
    countdown = f"after {seconds} s" if seconds else "(no countdown set)"
    st.button(
        f"Let it time out {countdown}",
        icon=":material/timer:",
        key="sim_timeout",
        on_click=_run,
        args=(prompt, Interaction.TIMEOUT),
    )


def _close(prompt: Prompt) -> None:
    st.button(
        "",
        icon=":material/close:",
        type="tertiary",
        key="sim_dismiss",
        help="Close (Dismiss)",
        on_click=_run,
        args=(prompt, Interaction.DISMISS),
    )


def _inputs(prompt: Prompt) -> None:
    last: Run | None = st.session_state.get("sim_result")
    errors = last.input_errors if last and last.prompt_id == prompt.id else {}
    for n, form_input in enumerate(prompt.inputs):
        label = form_input.label + (" *" if form_input.required else "")
        st.text_input(label, key=f"sim_{prompt.id}_in{n}", placeholder=form_input.placeholder)
        if n in errors:
            st.error(errors[n], icon=":material/error:")


def _buttons(prompt: Prompt) -> None:
    buttons: list[tuple[Interaction, str, Literal["primary", "secondary"]]] = [
        (Interaction.ACCEPT, prompt.accept_label or "Accept", "primary")
    ]
    if prompt.secondary_label:
        buttons.append((Interaction.SECONDARY_ACCEPT, prompt.secondary_label, "secondary"))
    buttons.append((Interaction.DECLINE, prompt.decline_label or "Decline", "secondary"))
    for col, (interaction, label, kind) in zip(st.columns(3), buttons, strict=False):
        col.button(
            label,
            key=f"sim_{interaction.value}",
            type=kind,
            width="stretch",
            on_click=_run,
            args=(prompt, interaction),
        )


def _outcomes(run: Run, prompt: Prompt) -> None:
    mode = "Dry run of" if run.dry_run else "Ran"
    st.subheader(f"{mode} {run.interaction.label} on “{run.prompt_name}”")
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
        st.warning(shared, icon=":material/info:")
    for attempt in run.attempts:
        title = attempt_title(attempt)
        if attempt.status is Status.SKIPPED and not shared:
            title += f" · {attempt.reason}"
        # Failures, doubts and dry runs are what the operator came to read; successes stay folded.
        expanded = attempt.status in (Status.FAILED, Status.UNKNOWN, Status.DRY_RUN)
        with st.expander(title, expanded=expanded or bool(attempt.unrecorded)):
            show_attempt(attempt)


def render() -> None:
    st.title("Simulator")
    console().log.recover_interrupted()  # runs of processes that died show as interrupted
    prompts = {p.id: p for p in console().prompts.all() if p.id is not None}
    if not prompts:
        st.info("No prompts yet. Create one on the Prompts page first.")
        return
    left, right = st.columns([3, 2], gap="large")
    with right:
        prompt_id = st.selectbox(
            "Prompt", list(prompts), key="sim_prompt", format_func=lambda i: prompts[i].name
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
