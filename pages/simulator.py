"""Simulator: show a prompt as a user sees it, click it, and see exactly what was sent.

Form values and the simulated user live in session state (keyed per prompt), so a failed run
loses nothing. The last result stays on screen until the next run.
"""

from __future__ import annotations

from typing import Literal

import streamlit as st

from connector import (
    ActionOutcome,
    ConnectorError,
    Interaction,
    Prompt,
    PromptType,
    RunResult,
    SimulatedUser,
    Status,
)
from pages._common import (
    STATUS_ICONS,
    console,
    hand_over_to_app,
    operator,
    show_error,
    show_exchange,
    show_json,
    status_label,
)


def _user_form() -> None:
    st.subheader("Simulated user")
    st.caption("What the host app would pass: a user id and traits.")
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
    user = SimulatedUser(
        user_id=state.get("sim_user_id", ""),
        email_address=state.get("sim_email_trait", ""),
        first_name=state.get("sim_first", ""),
        last_name=state.get("sim_last", ""),
    )
    state.pop("sim_error", None)
    try:
        runner = console().runner(operator=operator(), source="simulator")
        state["sim_result"] = runner.run(
            prompt, interaction, user, values, dry_run=bool(state.get("sim_dry_run"))
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
    last: RunResult | None = st.session_state.get("sim_result")
    errors = last.input_errors if last and last.prompt.id == prompt.id else {}
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


def _outcomes(result: RunResult) -> None:
    mode = "Dry run of" if result.dry_run else "Ran"
    st.subheader(f"{mode} {result.interaction.label} on “{result.prompt.name}”")
    if result.input_errors:
        st.error("Fix the highlighted form inputs: nothing was sent.", icon=":material/error:")
        return
    if not result.outcomes:
        st.info(f"{result.interaction.label} has no actions on this prompt: nothing to send.")
        return
    counts: dict[str, int] = {}
    for outcome in result.outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    summary = " · ".join(f"{STATUS_ICONS[s]} {n} {s.replace('_', ' ')}" for s, n in counts.items())
    contact = f" · contact #{result.contact_id}" if result.contact_id else ""
    st.caption(f"{summary} · {result.contact_email or 'no email'}{contact} · run {result.run_id}")
    reasons = {o.error for o in result.outcomes}
    shared = (
        reasons.pop() if len(reasons) == 1 and result.outcomes[0].status is Status.SKIPPED else ""
    )
    if shared:  # e.g. no email: say it once, not once per action
        st.warning(shared, icon=":material/info:")
    for outcome in result.outcomes:
        target = f" → {outcome.target_name} (#{outcome.target_id})" if outcome.target_id else ""
        timing = f" · HTTP {outcome.http_status}" if outcome.http_status else ""
        timing += f" · {outcome.duration_ms:.0f} ms" if outcome.attempts else ""
        title = f"{status_label(outcome.status)} — {outcome.label}{target}{timing}"
        if outcome.status is Status.SKIPPED and not shared:
            title += f" · {outcome.error}"
        # Failures and dry runs are what the operator came to read; successes stay folded.
        expanded = outcome.status in (Status.FAILED, Status.DRY_RUN)
        with st.expander(title, expanded=expanded):
            _outcome_detail(outcome)


def _outcome_detail(outcome: ActionOutcome) -> None:
    if outcome.status is Status.FAILED:
        st.error(outcome.error, icon=":material/error:")
    elif outcome.error:
        st.info(outcome.error)
    if outcome.note:
        st.info(outcome.note)
    if outcome.attempts > 1:
        st.caption(f"{outcome.attempts} attempts.")
    for check in outcome.checks:
        st.markdown("**Checked first** (to avoid a duplicate)")
        show_json(check)
    dry = outcome.status is Status.DRY_RUN
    no_response = "Dry run: this request was not sent." if dry else "No response."
    show_exchange(outcome.request, outcome.response, no_response=no_response)


def render() -> None:
    st.title("Simulator")
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
    result: RunResult | None = st.session_state.get("sim_result")
    if result is not None:
        st.divider()
        _outcomes(result)


if __name__ == "__main__":  # served alone by Streamlit's legacy page discovery
    hand_over_to_app()
