"""Setup: which ActiveCampaign account the console talks to.

The typed URL and key stay in their fields while something is wrong, so a typo costs one edit;
once saved, the key leaves the form. Saving checks the account live first and saves nothing
when the check fails. A saved account can be set aside for the sandbox and taken back without
the key; removing it is its own, confirmed action.
"""

from __future__ import annotations

import streamlit as st

from connector import ConnectorError, User
from connector.engage.display import as_markdown_text
from connector.store.files import narrowed
from pages._common import (
    console,
    current_account,
    gated,
    hand_over_to_app,
    operator,
    reporting_errors,
    show_error,
)


def _connected(user: User) -> None:
    name, email = as_markdown_text(user.display_name), as_markdown_text(user.email)
    st.success(f"Connected as **{name}** ({email}).", icon=":material/check:")


def _storage_note() -> str:
    """Where and how the saved key is kept, said plainly."""
    path = console().db.path
    if console().key_encrypted():
        return (
            f"The key is encrypted in `{path}` with `CONNECTOR_SECRET_KEY` (owner-only file). "
            "To change the secret, set the new one and enter the key again here."
        )
    return (
        f"The key is stored **unencrypted** in `{path}`, readable only by the user running the "
        "console. Set `CONNECTOR_SECRET_KEY` (`python -m connector secret-key` makes one) and "
        "save the key again to encrypt it."
    )


def _current_account() -> None:
    account = current_account()
    if account is None:
        return  # the frame shows why at the top of the page
    with st.container(border=True):
        if account.is_sandbox:
            st.markdown("#### :orange-badge[Sandbox] Built-in demo account")
            st.write(
                "The console works against its built-in ActiveCampaign emulator. Everything "
                "behaves like the real API; nothing leaves this machine."
            )
        else:
            st.markdown(f"#### :green-badge[Live] `{account.host}`")
            source = (
                "the environment variables `AC_API_URL` and `AC_API_KEY`"
                if account.source == "environment"
                else "the settings saved on this page"
            )
            st.write(f"API URL `{account.api_url}`, key `{account.masked_key}`, from {source}.")
            if account.source == "saved":
                st.caption(_storage_note())
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
    try:
        how = (
            "encrypted with `CONNECTOR_SECRET_KEY`"
            if console().will_encrypt()
            else "unencrypted (owner-only file; set `CONNECTOR_SECRET_KEY` to encrypt it)"
        )
    except ConnectorError as exc:  # set, but not a usable secret: saving would be refused
        how = f"(not now: {as_markdown_text(exc.message)})"
    st.caption(
        "Find both values in ActiveCampaign under **Settings > Developer**. The key is checked "
        f"live before it is saved, stored only in this console's data file, {how}, and never "
        "shown again beyond its last four characters."
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
        st.text_input(
            "API key", key=_key_field(), type="password", placeholder="Paste your API key"
        )
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
            if console().db.scrub_pending:
                st.warning(
                    "A long read of the data file (an export, another process) still holds the "
                    "previous key in its write-ahead log; the console's next write clears it.",
                    icon=":material/hourglass_top:",
                )


def _key_field() -> str:
    return f"setup_key_{st.session_state.get('setup_key_version', 0)}"


@gated
def _check(save: bool) -> None:
    """Form callback: test (or save) what was typed; the page draws the outcome."""
    state = st.session_state
    url, key = state.get("setup_url", ""), state.get(_key_field(), "")
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
            # Saved: the key leaves the page. A fresh field, not an emptied one: a form's browser
            # side keeps what was typed in a field whose value is set from here.
            state.pop(_key_field(), None)
            state["setup_key_version"] = state.get("setup_key_version", 0) + 1


@gated
def _reset_sandbox() -> None:
    console().reset_sandbox(operator=operator())
    st.session_state["reset_ok"] = False  # a callback may still change the checkbox
    st.session_state["reset_done"] = True


@gated
def _switch(to_saved: bool) -> None:
    with reporting_errors():
        if to_saved:
            console().use_saved_account(operator=operator())
        else:
            console().use_sandbox(operator=operator())
            console().seed_demo_prompts()


@gated
def _forget_account() -> None:
    console().forget_account(operator=operator())
    st.session_state["forget_ok"] = False
    st.session_state["forget_done"] = True


def _saved_account_controls() -> None:
    """The saved account, in use or set aside: switch between it and the sandbox without the
    key, or remove it (its own action, confirmed)."""
    saved = console().settings.account()
    if st.session_state.pop("forget_done", False):
        st.success("The saved account was removed, with its key. The sandbox is in use.")
    if saved is None:
        return
    st.subheader("Saved account")
    source = console().account_source()
    state = {
        (True, "saved"): "in use",
        (True, "unusable"): "chosen, but it can't be used (the reason is at the top)",
        (True, "environment"): "chosen, but `AC_API_URL` and `AC_API_KEY` in the environment "
        "take precedence",
    }.get((saved.in_use, source), "set aside: the console uses the sandbox")
    encrypted = "encrypted" if saved.encrypted else "unencrypted"
    st.write(
        f"`{saved.host}` with key `{saved.masked_key}` ({encrypted}), saved "
        f"{saved.saved_at[:10]}: {state}."
    )
    switch, forget = st.columns(2)
    with switch:
        if saved.in_use:
            st.button(
                "Switch to the sandbox",
                icon=":material/science:",
                on_click=_switch,
                args=(False,),
                help="The saved account is kept: switching back needs no key.",
            )
        else:
            st.button(
                f"Switch back to {saved.host}",
                icon=":material/cloud_done:",
                type="primary",
                on_click=_switch,
                args=(True,),
            )
    with forget:
        confirmed = st.checkbox(
            f"Remove {saved.host} and its key from this console", key="forget_ok"
        )
        st.button(
            "Remove the saved account",
            disabled=not confirmed,
            icon=":material/delete:",
            on_click=_forget_account,
        )


def _sandbox_controls() -> None:
    st.subheader("Sandbox")
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


def _narrowed_files() -> None:
    notes = narrowed()
    if notes:
        st.info(
            "The console's files must be readable by you alone. Since it started: "
            + "; ".join(as_markdown_text(n) for n in notes)
            + ".",
            icon=":material/lock:",
        )


def render() -> None:
    st.title("Setup")
    _narrowed_files()
    _current_account()
    _connect_form()
    st.divider()
    _saved_account_controls()
    _sandbox_controls()


if __name__ == "__main__":  # served alone by Streamlit's legacy page discovery
    hand_over_to_app()
