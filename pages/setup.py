"""Setup: which ActiveCampaign account the console talks to.

The typed URL and key stay in their fields whatever happens, so a typo costs one edit. Saving
checks the account live first and saves nothing when the check fails.
"""

from __future__ import annotations

import streamlit as st

from connector import ConnectorError, User
from pages._common import (
    console,
    current_account,
    hand_over_to_app,
    operator,
    reporting_errors,
    show_error,
)


def _connected(user: User) -> None:
    st.success(f"Connected as **{user.display_name}** ({user.email}).", icon=":material/check:")


def _current_account() -> None:
    account = current_account()
    if account is None:
        return  # the frame shows why at the top of the page
    with st.container(border=True):
        if account.is_sandbox:
            st.markdown("#### :orange-badge[Sandbox] Built-in demo account")
            st.write(
                "No live account is configured, so the console works against its built-in "
                "ActiveCampaign emulator. Everything behaves like the real API; nothing leaves "
                "this machine."
            )
        else:
            st.markdown(f"#### :green-badge[Live] `{account.host}`")
            source = (
                "the environment variables `AC_API_URL` and `AC_API_KEY`"
                if account.source == "environment"
                else "the settings saved on this page"
            )
            st.write(f"API URL `{account.api_url}`, key `{account.masked_key}`, from {source}.")
        if st.button("Test connection", key="test_current", icon=":material/network_check:"):
            with reporting_errors(), st.spinner("Asking ActiveCampaign who this key belongs to…"):
                _connected(console().check())


def _connect_form() -> None:
    account = current_account()
    st.subheader("Connect a live account")
    if account is not None and account.source == "environment":
        st.info(
            "`AC_API_URL` and `AC_API_KEY` are set in the environment and take precedence: "
            "what you save here is used once they are unset.",
            icon=":material/info:",
        )
    st.caption(
        "Find both values in ActiveCampaign under **Settings > Developer**. The key is stored "
        "only in this console's database and is never shown again in full."
    )
    # A form: its fields are sent together with the button that submits them, so a key typed
    # and left (Tab to the eye icon, a click on Test) is always the key that is checked.
    with st.form("connect", border=False, enter_to_submit=False):
        st.text_input(
            "API URL",
            key="setup_url",
            placeholder="https://youraccount.api-us1.com",
            help="Paste the URL shown under Settings > Developer, or just your account name.",
        )
        st.text_input("API key", key="setup_key", type="password", placeholder="Paste your API key")
        test_col, save_col, _ = st.columns([1, 1, 3])
        test_col.form_submit_button(
            "Test", icon=":material/network_check:", width="stretch", on_click=_check, args=(False,)
        )
        save_col.form_submit_button(
            "Save",
            type="primary",
            icon=":material/save:",
            width="stretch",
            on_click=_check,
            args=(True,),
        )
    outcome = st.session_state.pop("setup_outcome", None)
    if isinstance(outcome, ConnectorError):
        show_error(outcome)
        if st.session_state.pop("setup_saving", False):
            st.caption("Nothing was saved.")
    elif isinstance(outcome, User):
        _connected(outcome)
        if st.session_state.pop("setup_saving", False):
            st.toast("Account saved: the console now uses it.", icon=":material/check:")


def _check(save: bool) -> None:
    """Form callback: test (or save) what was typed; the page draws the outcome."""
    state = st.session_state
    url, key = state.get("setup_url", ""), state.get("setup_key", "")
    state["setup_saving"] = save
    try:
        state["setup_outcome"] = (
            console().save_account(url, key, operator=operator())
            if save
            else console().check(url, key)
        )
    except ConnectorError as exc:
        state["setup_outcome"] = exc  # what was typed stays, so a typo costs one edit
    else:
        if save:
            state["setup_key"] = ""  # saved: the key leaves the page


def _reset_sandbox() -> None:
    console().reset_sandbox(operator=operator())
    st.session_state["reset_ok"] = False  # a callback may still change the checkbox
    st.session_state["reset_done"] = True


def _sandbox_controls() -> None:
    account = current_account()
    st.subheader("Sandbox")
    if account is not None and account.source == "saved":
        st.write("Stop using the saved account and go back to the built-in sandbox.")
        if st.button("Switch to the sandbox", icon=":material/science:"):
            with reporting_errors():
                console().use_sandbox(operator=operator())
                console().seed_demo_prompts()
                st.rerun()
    st.write(
        "The sandbox keeps its contacts and memberships in "
        f"`{console().sandbox_path}`, so a demo survives a restart. Reset it to the seeded demo "
        "account at any time; the action log is kept."
    )
    confirmed = st.checkbox("I want to erase the sandbox's contacts and changes", key="reset_ok")
    st.button(
        "Reset the sandbox",
        disabled=not confirmed,
        icon=":material/restart_alt:",
        on_click=_reset_sandbox,
    )
    if st.session_state.pop("reset_done", False):
        st.success("The sandbox is back to its seeded demo account.")
    with st.expander("Run the sandbox as a local server"):
        st.write("To try the connection form, or point another tool at the emulator:")
        st.code("python -m connector.sandbox --port 8600", language="bash")
        st.write("then connect to `http://127.0.0.1:8600` with the key it prints.")


def render() -> None:
    st.title("Setup")
    _current_account()
    _connect_form()
    st.divider()
    _sandbox_controls()


if __name__ == "__main__":  # served alone by Streamlit's legacy page discovery
    hand_over_to_app()
