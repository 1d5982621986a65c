"""Simulator: show a prompt as a user sees it, click it, and see exactly what was sent.

Form values and the simulated user live in session state (keyed per prompt), so a failed run
loses nothing. The last result stays on screen until the next run.
"""

from __future__ import annotations

import streamlit as st

from connector import (
    Interaction,
    Prompt,
    PromptType,
    RunResult,
    SimulatedUser,
    Status,
)

from ._common import STATUS_ICONS, console, operator, reporting_errors, show_json, status_label

_BANNERS = {PromptType.HORIZONTAL_BANNER, PromptType.BOTTOM_BANNER, PromptType.TEXT_BAR}


def _user() -> SimulatedUser:
    st.subheader("Simulated user")
    st.caption("What the host app would pass: a user id and traits.")
    a, b = st.columns(2)
    user_id = a.text_input("User id", key="sim_user_id", placeholder="user-1024")
    email = b.text_input(
        "email_address trait",
        key="sim_email_trait",
        placeholder="ada@example.com",
        help="Used when no form input mapped to Email is filled.",
    )
    first = a.text_input("first_name trait", key="sim_first")
    last = b.text_input("last_name trait", key="sim_last")
    return SimulatedUser(user_id=user_id, email_address=email, first_name=first, last_name=last)


def _run(prompt: Prompt, interaction: Interaction, user: SimulatedUser, dry_run: bool) -> None:
    values = {
        n: st.session_state.get(f"sim_{prompt.id}_in{n}", "") for n in range(len(prompt.inputs))
    }
    with reporting_errors(), st.spinner(f"Running {interaction.label}…"):
        runner = console().runner(operator=operator(), source="simulator")
        st.session_state["sim_result"] = runner.run(
            prompt, interaction, user, values, dry_run=dry_run
        )


def _preview(prompt: Prompt, user: SimulatedUser, dry_run: bool) -> None:
    errors: dict[int, str] = {}
    last: RunResult | None = st.session_state.get("sim_result")
    if last and last.prompt.id == prompt.id:
        errors = last.input_errors
    st.caption(f"{prompt.prompt_type.label} preview")
    with st.container(border=True):
        clicked: Interaction | None = None
        if prompt.prompt_type.has_buttons:
            head, close = st.columns([12, 1])
            head.markdown(f"### {prompt.headline or '(no headline)'}")
            if close.button(":material/close:", key="sim_dismiss", help="Close (Dismiss)"):
                clicked = Interaction.DISMISS
        else:
            st.markdown("*Invisible prompt: nothing is shown; its actions run on trigger.*")
        if prompt.body:
            st.write(prompt.body)
        for n, form_input in enumerate(prompt.inputs):
            label = form_input.label + (" *" if form_input.required else "")
            st.text_input(label, key=f"sim_{prompt.id}_in{n}", placeholder=form_input.placeholder)
            if n in errors:
                st.error(errors[n], icon=":material/error:")
        if prompt.prompt_type.has_buttons:
            buttons = [(Interaction.ACCEPT, prompt.accept_label or "Accept", "primary")]
            if prompt.secondary_label:
                buttons.append((Interaction.SECONDARY_ACCEPT, prompt.secondary_label, "secondary"))
            buttons.append((Interaction.DECLINE, prompt.decline_label or "Decline", "secondary"))
            for col, (interaction, label, kind) in zip(
                st.columns(len(buttons) if prompt.prompt_type in _BANNERS else [1] * 3),
                buttons,
                strict=False,
            ):
                if col.button(
                    label, key=f"sim_{interaction.value}", type=kind, use_container_width=True
                ):
                    clicked = interaction
        elif st.button("Trigger", type="primary", key="sim_trigger"):
            clicked = Interaction.ACCEPT
    if prompt.prompt_type.has_buttons:
        countdown = (
            f"after {prompt.timeout_seconds} s" if prompt.timeout_seconds else "(no countdown set)"
        )
        if st.button(f"Let it time out {countdown}", icon=":material/timer:", key="sim_timeout"):
            clicked = Interaction.TIMEOUT
    if clicked:
        _run(prompt, clicked, user, dry_run)


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
    for outcome in result.outcomes:
        target = f" → {outcome.target_name} (#{outcome.target_id})" if outcome.target_id else ""
        timing = f" · HTTP {outcome.http_status}" if outcome.http_status else ""
        timing += f" · {outcome.duration_ms:.0f} ms" if outcome.attempts else ""
        title = f"{status_label(outcome.status)} — {outcome.label}{target}{timing}"
        with st.expander(title, expanded=outcome.status is not Status.SKIPPED):
            if outcome.error:
                st.warning(outcome.error)
            if outcome.request:
                st.markdown("**Request**")
                show_json(outcome.request)
            if outcome.response:
                st.markdown("**Response**")
                show_json(outcome.response)
            if outcome.status is Status.DRY_RUN:
                st.caption("Dry run: this request was not sent.")


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
        dry_run = st.toggle(
            "Dry run", key="sim_dry_run", help="Show the requests that would be sent, send nothing."
        )
        user = _user()
    with left:
        _preview(prompt, user, dry_run)
    result: RunResult | None = st.session_state.get("sim_result")
    if result is not None:
        st.divider()
        _outcomes(result)
