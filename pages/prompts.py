"""Prompts: create, edit, duplicate and delete prompts, where their contact fields take their
values, and the actions on their interactions.

Every widget is keyed on its row's stable id (``connector.drafts``) and keeps its value for the
whole session (``persist_state="session"``), so an edit survives a visit to another page, and
moving or removing a row never hands its value to another. The prompt being edited is held by
id in the picker's own state. ``drafts.build`` turns the widget values into the ``Prompt`` at
Save; an invalid value is an error there, never a silent revert.
"""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd
import streamlit as st

from connector import (
    REGISTRY,
    STANDARD_CONTACT_FIELDS,
    ActionType,
    CatalogKind,
    ConnectorError,
    ErrorBehaviour,
    InputError,
    InputKind,
    Interaction,
    Prompt,
    PromptType,
    Source,
    custom_field_target,
)
from connector.core.models import Field
from connector.engage.contact import mapping_rows
from connector.engage.display import as_markdown_text
from connector.engage.drafts import Draft, action_values, build, catalog_warnings, values_of
from connector.engage.prompts import MAX_INPUTS, MAX_TIMEOUT, custom_field_id
from connector.store.settings import default_test_contact
from pages._common import (
    attempt_title,
    catalog_items,
    catalog_labels,
    console,
    ensure_catalog,
    gated,
    hand_over_to_app,
    operator,
    show_attempt,
    show_error,
    show_run_outcome,
)

NEW = -1
KEEP: Literal["session"] = "session"  # every editor widget keeps its value across pages


# -- drafts in session state --------------------------------------------------------------------


def _draft_key(prompt_id: int) -> str:
    return "new" if prompt_id == NEW else f"p{prompt_id}"


def _draft(prompt_id: int) -> Draft:
    """The draft of ``prompt_id``: this session's, else made from the stored prompt."""
    drafts: dict[str, Draft] = st.session_state.setdefault("prompt_drafts", {})
    key = _draft_key(prompt_id)
    if key not in drafts:
        stored = console().prompts.get(prompt_id) if prompt_id != NEW else None
        draft, values = values_of(stored or Prompt(name=""), key)
        for name, value in values.items():
            st.session_state[name] = value
        drafts[key] = draft
    return drafts[key]


def _forget(key: str) -> None:
    """Drop a draft and every widget value it owns."""
    st.session_state.get("prompt_drafts", {}).pop(key, None)
    for name in [k for k in st.session_state.to_dict() if str(k).startswith(f"{key}.")]:
        del st.session_state[name]


def _values(draft: Draft) -> dict[str, Any]:
    return {
        k: v for k, v in st.session_state.to_dict().items() if str(k).startswith(f"{draft.key}.")
    }


def _fields() -> dict[str, Field]:
    return {f.id: f for f in catalog_items(CatalogKind.FIELDS)}


def _names() -> dict[str, dict[str, str]]:
    return {
        kind.value: {item.id: item.name for item in catalog_items(kind)}
        for kind in (CatalogKind.LISTS, CatalogKind.AUTOMATIONS, CatalogKind.TAGS)
    }


def _built(draft: Draft) -> Prompt:
    return build(draft, _values(draft), _names(), _fields())


# -- callbacks (they run before the script; each reports through the page) ---------------------


def _say(ok: str = "", error: ConnectorError | None = None) -> None:
    st.session_state["prompt_message"] = (ok, error)


@gated
def _new() -> None:
    _forget("new")
    st.session_state["prompt_pick"] = NEW


@gated
def _save(prompt_id: int) -> None:
    draft = _draft(prompt_id)
    try:
        saved = console().save_prompt(_built(draft), operator=operator())
    except ConnectorError as exc:
        _say(error=exc)
        return
    _forget(draft.key)  # start again from what was stored (trimmed name, ids)
    if saved.id is not None:
        _forget(_draft_key(saved.id))
        st.session_state["prompt_pick"] = saved.id
    _say(f"Saved “{saved.name}”.")


@gated
def _discard(prompt_id: int) -> None:
    _forget(_draft_key(prompt_id))


@gated
def _duplicate(prompt_id: int) -> None:
    try:
        copy = console().duplicate_prompt(prompt_id, operator=operator())
    except ConnectorError as exc:
        _say(error=exc)
        return
    st.session_state["prompt_pick"] = copy.id
    _say(f"Created “{copy.name}”, a copy of the saved prompt.")


@gated
def _delete(prompt_id: int, name: str) -> None:
    try:
        console().delete_prompt(prompt_id, operator=operator())
    except ConnectorError as exc:
        _say(error=exc)
        return
    _forget(_draft_key(prompt_id))
    st.session_state.pop("prompt_pick", None)
    _say(f"Deleted “{name}”. Its rows in the action log are kept.")


@gated
def _add_input(prompt_id: int) -> None:
    draft = _draft(prompt_id)
    try:
        row = draft.add_input()
    except InputError as exc:
        _say(error=exc)
        return
    st.session_state[draft.k("in", row, "label")] = f"Input {len(draft.inputs)}"
    st.session_state[draft.k("in", row, "kind")] = InputKind.TEXT.value


@gated
def _remove_input(prompt_id: int, row: str) -> None:
    _draft(prompt_id).inputs.remove(row)


@gated
def _add_mapping(prompt_id: int) -> None:
    draft = _draft(prompt_id)
    row = draft.add_mapping()
    st.session_state[draft.k("map", row, "source")] = Source.INPUT.value


@gated
def _remove_mapping(prompt_id: int, row: str) -> None:
    _draft(prompt_id).mappings.remove(row)


@gated
def _add_action(prompt_id: int, interaction: Interaction) -> None:
    draft = _draft(prompt_id)
    picked = st.session_state.get(draft.k("new_action", interaction.value))
    if picked:
        row = draft.add_action(interaction, ActionType(picked))
        config_defaults = action_values(draft, _blank(ActionType(picked), row))
        for name, value in config_defaults.items():
            st.session_state[name] = value


def _blank(kind: ActionType, row: str) -> Any:
    from connector import ActionConfig

    return ActionConfig(kind, id=row)


@gated
def _move_action(prompt_id: int, interaction: Interaction, row: str, delta: int) -> None:
    _draft(prompt_id).move_action(interaction, row, delta)


@gated
def _remove_action(prompt_id: int, interaction: Interaction, row: str) -> None:
    _draft(prompt_id).remove_action(interaction, row)


# -- sections -----------------------------------------------------------------------------------


def _picker() -> int:
    prompts = {p.id: p.name for p in console().prompts.all() if p.id is not None}
    options = [*prompts, NEW]
    if st.session_state.get("prompt_pick") not in options:  # first visit, or it was deleted
        st.session_state["prompt_pick"] = options[0]
    pick_col, new_col, dup_col, del_col = st.columns([4, 1, 1, 1], vertical_alignment="bottom")
    picked: int = pick_col.selectbox(
        "Prompt",
        options,
        key="prompt_pick",
        persist_state=KEEP,
        format_func=lambda i: "(new prompt)" if i == NEW else prompts[i],
    )
    new_col.button("New", icon=":material/add:", on_click=_new, width="stretch")
    existing = picked != NEW
    dup_col.button(
        "Duplicate",
        icon=":material/content_copy:",
        disabled=not existing,
        on_click=_duplicate,
        args=(picked,),
        width="stretch",
        help="A copy of the saved prompt (unsaved edits are not copied).",
    )
    name = prompts.get(picked, "")
    with del_col.popover(
        "Delete", icon=":material/delete:", disabled=not existing, width="stretch"
    ):
        shown = as_markdown_text(name)
        st.write(f"Delete “{shown}”? Its rows in the action log are kept.")
        st.button(
            f"Delete “{shown}”",
            type="primary",
            on_click=_delete,
            args=(picked, name),
            key="confirm_delete",
        )
    return picked


def _content(draft: Draft) -> None:
    st.subheader("Content")
    left, right = st.columns(2)
    left.text_input(
        "Name", key=draft.k("name"), persist_state=KEEP, placeholder="Newsletter signup"
    )
    types = [t.value for t in PromptType]
    right.selectbox(
        "Type",
        types,
        key=draft.k("type"),
        persist_state=KEEP,
        format_func=lambda t: PromptType(t).label,
    )
    st.text_input("Headline", key=draft.k("headline"), persist_state=KEEP)
    st.text_area("Body", key=draft.k("body"), persist_state=KEEP, height=80)
    if not PromptType(st.session_state.get(draft.k("type")) or "modal").has_buttons:
        st.caption("An invisible prompt shows nothing: its Accept actions run when it triggers.")
        return
    a, b, c, d = st.columns(4)
    a.text_input("Accept button", key=draft.k("accept"), persist_state=KEEP)
    b.text_input(
        "Secondary button",
        key=draft.k("secondary"),
        persist_state=KEEP,
        help="Leave empty for no secondary button.",
    )
    c.text_input("Decline button", key=draft.k("decline"), persist_state=KEEP)
    d.number_input(
        "Timeout (seconds)",
        key=draft.k("timeout"),
        persist_state=KEEP,
        step=1,
        help=f"0: the prompt never times out; at most {MAX_TIMEOUT}.",
    )


def _inputs(draft: Draft, prompt_id: int) -> None:
    st.subheader("Form inputs")
    st.caption(
        f"Up to {MAX_INPUTS}. Accept and Secondary Accept submit the form; Decline, Dismiss "
        "and Timeout don't. Choose below which contact field each one fills."
    )
    kinds = [k.value for k in InputKind]
    for row in draft.inputs:
        cols = st.columns([3, 3, 2, 1, 1], vertical_alignment="bottom")
        cols[0].text_input("Label", key=draft.k("in", row, "label"), persist_state=KEEP)
        cols[1].text_input("Placeholder", key=draft.k("in", row, "placeholder"), persist_state=KEEP)
        cols[2].selectbox(
            "Validation",
            kinds,
            key=draft.k("in", row, "kind"),
            persist_state=KEEP,
            format_func=lambda k: InputKind(k).label,
            help="A choice offers options; an input filling a field with options takes the "
            "field's options.",
        )
        cols[3].checkbox("Required", key=draft.k("in", row, "required"), persist_state=KEEP)
        cols[4].button(
            ":material/close:",
            key=draft.k("in", row, "remove"),
            help="Remove this input",
            on_click=_remove_input,
            args=(prompt_id, row),
        )
        if st.session_state.get(draft.k("in", row, "kind")) == InputKind.CHOICE.value:
            st.text_area(
                "Options, one per line",
                key=draft.k("in", row, "options"),
                persist_state=KEEP,
                height=80,
                help="Filled from the custom field when the input fills one that has options.",
            )
    st.button(
        "Add form input",
        icon=":material/add:",
        disabled=len(draft.inputs) >= MAX_INPUTS,
        on_click=_add_input,
        args=(prompt_id,),
        key=draft.k("add_input"),
    )


def _mappings(draft: Draft, prompt_id: int) -> None:
    st.subheader("Contact fields")
    st.caption(
        "Where each ActiveCampaign field takes its value: a form input, a user trait the host "
        "app passes, or a fixed value. Without one, the email comes from the email_address "
        "trait and the names from first_name and last_name."
    )
    fields = _fields()
    targets = {**STANDARD_CONTACT_FIELDS}
    for known in fields.values():
        targets[custom_field_target(known.id)] = f"{known.name} (custom field #{known.id})"
    inputs = {
        row: st.session_state.get(draft.k("in", row, "label")) or "(no label)"
        for row in draft.inputs
    }
    for row in draft.mappings:
        current = st.session_state.get(draft.k("map", row, "field"))
        if current and current not in targets:
            targets[current] = f"{current} (not in the catalog)"
        cols = st.columns([3, 2, 3, 1], vertical_alignment="bottom")
        cols[0].selectbox(
            "Contact field",
            list(targets),
            key=draft.k("map", row, "field"),
            persist_state=KEEP,
            format_func=targets.__getitem__,
            index=None,
            placeholder="Choose a field",
        )
        source = cols[1].selectbox(
            "Takes its value from",
            [s.value for s in Source],
            key=draft.k("map", row, "source"),
            persist_state=KEEP,
            format_func=lambda s: Source(s).label,
        )
        value_key = draft.k("map", row, "value")
        custom = fields.get(custom_field_id(current or "") or "")
        if source == Source.INPUT.value:
            if st.session_state.get(value_key) not in inputs:
                st.session_state[value_key] = None
            cols[2].selectbox(
                "Form input",
                list(inputs),
                key=value_key,
                persist_state=KEEP,
                format_func=inputs.__getitem__,
                index=None,
                placeholder="Add a form input first" if not inputs else "Choose an input",
            )
        elif source == Source.FIXED.value and custom is not None and custom.options:
            if st.session_state.get(value_key) not in custom.options:
                st.session_state[value_key] = None
            cols[2].selectbox(
                "Value", list(custom.options), key=value_key, persist_state=KEEP, index=None
            )
        else:
            trait = source == Source.TRAIT.value
            cols[2].text_input(
                "Trait name" if trait else "Value",
                key=value_key,
                persist_state=KEEP,
                placeholder="plan, company…" if trait else "",
            )
        cols[3].button(
            ":material/close:",
            key=draft.k("map", row, "remove"),
            help="Remove this field",
            on_click=_remove_mapping,
            args=(prompt_id, row),
        )
    st.button(
        "Add a contact field",
        icon=":material/add:",
        on_click=_add_mapping,
        args=(prompt_id,),
        key=draft.k("add_mapping"),
    )
    try:
        prompt = _built(draft)
    except InputError:
        return  # the table shows a prompt that holds together; Save says what doesn't
    names = {target: label.split(" (custom")[0] for target, label in targets.items()}
    table = pd.DataFrame(
        [(r.field, r.source, r.example) for r in mapping_rows(prompt, names)],
        columns=["Contact field", "Takes its value from", "Example value"],
    )
    st.dataframe(table, hide_index=True, width="stretch")


def _action_row(
    draft: Draft, prompt_id: int, interaction: Interaction, row: str, kind: ActionType
) -> None:
    spec = REGISTRY[kind]
    with st.container(border=True):
        cols = st.columns([2, 5, 2, 1, 1, 1], vertical_alignment="center")
        cols[0].markdown(f"**{spec.label}**")
        with cols[1]:
            for param in spec.params:
                labels = catalog_labels(param.catalog)
                key = draft.k("act", row, param.key)
                current = st.session_state.get(key)
                if current and current not in labels:
                    stored = draft.stored_params.get(row, {}).get(param.name_key) or "?"
                    labels = {**labels, current: f"{stored} (#{current}) — not in the catalog"}
                st.selectbox(
                    param.label,
                    list(labels),
                    key=key,
                    persist_state=KEEP,
                    format_func=labels.__getitem__,
                    index=None,
                    placeholder=f"Choose one of {len(labels)} {param.catalog.value} "
                    "(type to search)",
                    label_visibility="collapsed",
                )
            for option in spec.options:
                st.checkbox(
                    option.label,
                    key=draft.k("act", row, option.key),
                    persist_state=KEEP,
                    help=option.help,
                )
            if not spec.params:
                st.caption("Creates or updates the contact with the contact fields; runs first.")
        cols[2].selectbox(
            "If it fails",
            [b.value for b in ErrorBehaviour],
            key=draft.k("act", row, "on_error"),
            persist_state=KEEP,
            format_func=lambda b: "Stop the rest" if b == ErrorBehaviour.STOP else "Continue",
            label_visibility="collapsed",
            help="Stop: later actions don't run if this one fails. Continue: they run anyway.",
        )
        for col, delta, icon, word in (
            (cols[3], -1, "arrow_upward", "up"),
            (cols[4], 1, "arrow_downward", "down"),
        ):
            col.button(
                f":material/{icon}:",
                key=draft.k("act", row, word),
                disabled=not draft.can_move(interaction, row, delta),
                help=f"Move {word}"
                if kind is not ActionType.ADD_CONTACT
                else "Add Contact always runs first",
                on_click=_move_action,
                args=(prompt_id, interaction, row, delta),
            )
        cols[5].button(
            ":material/delete:",
            key=draft.k("act", row, "remove"),
            help="Remove",
            on_click=_remove_action,
            args=(prompt_id, interaction, row),
        )
        _test_panel(draft, prompt_id, interaction, row, kind)


def _test_panel(
    draft: Draft, prompt_id: int, interaction: Interaction, row: str, kind: ActionType
) -> None:
    """Test this action alone on a contact of the account in effect: a dry run first (it only
    reads), then for real. Same runner, claims and log as any run (source: test). It sends the
    email and, for Add Contact and Update Contact Fields, only the values typed here: never a
    sample name or value (``Console.test_action``). The email defaults to the named test contact
    (``CONNECTOR_TEST_CONTACT``)."""
    with st.expander("Test this action", icon=":material/science:"):
        default = default_test_contact(console().env)
        st.text_input(
            "Test contact's email",
            key=draft.k("act", row, "test_email"),
            value=default,
            persist_state=KEEP,
            placeholder="qa+connector@yourdomain.com",
            help="The contact the test acts on. CONNECTOR_TEST_CONTACT names a dedicated test "
            "contact, offered here by default"
            + (f" (now {default})." if default else " (not set)."),
        )
        sets_fields = kind in (ActionType.ADD_CONTACT, ActionType.UPDATE_CONTACT)
        if sets_fields and interaction.submits_form:
            for input_row, label in _test_inputs(draft):
                st.text_input(
                    f"{as_markdown_text(label)} (blank: not sent)",
                    key=draft.k("act", row, "test_in", input_row),
                    persist_state=KEEP,
                )
        try:
            account = console().account()
        except ConnectorError as exc:
            show_error(exc)
            return
        where = "the built-in sandbox" if account.is_sandbox else as_markdown_text(account.host)
        st.caption(_test_effect(kind, interaction, where))
        dry, real, _ = st.columns([1, 1, 3])
        for col, label, dry_run in ((dry, "Dry run", True), (real, "Run it", False)):
            col.button(
                label,
                key=draft.k("act", row, "test_dry" if dry_run else "test_real"),
                type="secondary" if dry_run else "primary",
                on_click=_test_action,
                args=(prompt_id, interaction, row, dry_run, account.label),
                width="stretch",
            )
        outcome = st.session_state.get("action_tests", {}).get(row)
        if isinstance(outcome, ConnectorError):
            show_error(outcome)
        elif outcome is not None:
            show_run_outcome(outcome)
            for attempt in outcome.attempts:
                st.markdown(f"**{attempt_title(attempt)}**")
                show_attempt(attempt)


def _test_inputs(draft: Draft) -> list[tuple[str, str]]:
    """The draft's form inputs a test may fill (row, label): all but the one that fills the
    email (the test's email goes there)."""
    state = st.session_state
    email_row = next(
        (
            str(state.get(draft.k("map", m, "value")) or "")
            for m in draft.mappings
            if state.get(draft.k("map", m, "field")) == "email"
            and (state.get(draft.k("map", m, "source")) or Source.INPUT) == Source.INPUT
        ),
        "",
    )
    return [
        (r, str(state.get(draft.k("in", r, "label")) or "").strip() or f"Input {n}")
        for n, r in enumerate(draft.inputs, start=1)
        if r != email_row
    ]


def _test_effect(kind: ActionType, interaction: Interaction, where: str) -> str:
    """What Run it does, in plain words: on which contact, in which account, and what it
    leaves alone."""
    label = REGISTRY[kind].label
    real = (
        f"**Run it** changes a real contact: the one with this email in {where} (the account "
        "in effect)."
    )
    if kind is ActionType.ADD_CONTACT or kind is ActionType.UPDATE_CONTACT:
        how = (
            "creates it, or updates it if it exists,"
            if kind is ActionType.ADD_CONTACT
            else "updates it (an existing contact only; none is created)"
        )
        typed = (
            "the values typed above and the prompt's fixed values only (a blank input, or a "
            "field mapped from a trait, is not sent)"
            if interaction.submits_form
            else f"the prompt's fixed values only ({interaction.label} does not submit the form)"
        )
        return f"{real} {label} {how} with {typed}. **Dry run** only reads."
    kept = "the contact's name, phone and custom fields stay as they are"
    if REGISTRY[kind].contact == "sync":
        return (
            f"{real} It sends {label}, after a contact sync that carries the email alone: {kept}. "
            "If no contact has this email, that sync creates one with the email alone. "
            "**Dry run** only reads."
        )
    return (
        f"{real} It sends only {label}: {kept}. If no contact has this email, nothing is done. "
        "**Dry run** only reads."
    )


@gated
def _test_action(
    prompt_id: int, interaction: Interaction, row: str, dry_run: bool, account: str
) -> None:
    draft = _draft(prompt_id)
    tests: dict[str, Any] = st.session_state.setdefault("action_tests", {})
    email = str(st.session_state.get(draft.k("act", row, "test_email")) or "").strip()
    try:
        prompt = _built(draft)
        typed = {
            position: str(st.session_state.get(draft.k("act", row, "test_in", form_input.id)) or "")
            for position, form_input in enumerate(prompt.inputs)
        }
        tests[row] = console().test_action(
            prompt,
            interaction,
            row,
            email,
            dry_run=dry_run,
            operator=operator(),
            form_values=typed,
            expect=account,
        )
    except ConnectorError as exc:
        tests[row] = exc


def _interaction_actions(draft: Draft, prompt_id: int, interaction: Interaction) -> None:
    rows = draft.actions.get(interaction, [])
    if not rows:
        st.caption("No actions: this interaction only closes the prompt.")
    for row, kind in rows:
        _action_row(draft, prompt_id, interaction, row, kind)
    present = {kind for _, kind in rows}
    # A second Add Contact would sync the same contact twice: offer it only once.
    offered = [t.value for t in REGISTRY if not (t is ActionType.ADD_CONTACT and t in present)]
    pick_col, add_col = st.columns([3, 1], vertical_alignment="bottom")
    pick_col.selectbox(
        "Add an action",
        offered,
        key=draft.k("new_action", interaction.value),
        format_func=lambda t: REGISTRY[ActionType(t)].label,
    )
    add_col.button(
        "Add action",
        key=draft.k("add", interaction.value),
        icon=":material/add:",
        on_click=_add_action,
        args=(prompt_id, interaction),
        width="stretch",
    )


def _actions(draft: Draft, prompt_id: int) -> None:
    st.subheader("Actions")
    st.caption(
        "Per interaction, the actions run in order; Add Contact always runs first, as the "
        "others need the contact it creates or updates."
    )
    buttons = PromptType(st.session_state.get(draft.k("type")) or "modal").has_buttons
    interactions = list(Interaction) if buttons else [Interaction.ACCEPT]
    # Fixed titles: a title that changed with its count would be a new tab, and the page
    # would jump back to the first one after every added action.
    titles = {i: i.label if buttons else "On trigger" for i in interactions}
    tabs = st.tabs(list(titles.values()), key=draft.k("tabs"), on_change="rerun")
    for tab, interaction in zip(tabs, interactions, strict=True):
        with tab:
            _interaction_actions(draft, prompt_id, interaction)


def _warnings_and_state(draft: Draft, prompt_id: int) -> None:
    try:
        prompt = _built(draft)
    except InputError:
        prompt = None
    if prompt is not None:
        automations = {a.id: a for a in catalog_items(CatalogKind.AUTOMATIONS)}
        for warning in prompt.warnings() + catalog_warnings(prompt, automations):
            st.warning(as_markdown_text(warning), icon=":material/warning:")
    save_col, discard_col, state_col = st.columns([1, 1, 4], vertical_alignment="center")
    save_col.button(
        "Save prompt",
        type="primary",
        icon=":material/save:",
        on_click=_save,
        args=(prompt_id,),
        width="stretch",
        key=draft.k("save"),
    )
    discard_col.button(
        "Discard changes",
        on_click=_discard,
        args=(prompt_id,),
        width="stretch",
        key=draft.k("discard"),
    )
    stored = console().prompts.get(prompt_id) if prompt_id != NEW else None
    if stored is None or prompt is None or _comparable(prompt) != _comparable(stored):
        state_col.caption(":orange[Unsaved changes]")


def _comparable(prompt: Prompt) -> dict[str, Any]:
    data = prompt.to_dict()
    data.pop("id", None)
    return data


def _unreadable() -> None:
    """Stored prompts the editor can't open (their definition can't be read): named, with why,
    and a way out, so they never hide in silence."""
    for broken in console().prompts.broken():
        if broken.readable:
            continue  # the editor opens it: its warnings say what to fix
        with st.container(border=True):
            st.warning(
                f"{as_markdown_text(broken.problem)} It can't be opened here: delete it, or "
                "replace it from a file with `python -m connector prompts import FILE "
                "--replace`.",
                icon=":material/broken_image:",
            )
            st.button(
                f"Delete “{as_markdown_text(broken.name)}”",
                key=f"prompt_delete_unreadable_{broken.id}",
                icon=":material/delete:",
                on_click=_delete,
                args=(broken.id, broken.name),
            )


def render() -> None:
    st.title("Prompts")
    ensure_catalog()
    prompt_id = _picker()
    ok, error = st.session_state.pop("prompt_message", ("", None))
    if ok:  # a plain sentence naming the prompt
        st.success(as_markdown_text(ok), icon=":material/check:")
    if error is not None:
        show_error(error)
    _unreadable()
    draft = _draft(prompt_id)
    with st.container(border=True):
        _content(draft)
    with st.container(border=True):
        _inputs(draft, prompt_id)
    with st.container(border=True):
        _mappings(draft, prompt_id)
    with st.container(border=True):
        _actions(draft, prompt_id)
    _warnings_and_state(draft, prompt_id)


if __name__ == "__main__":  # served alone by Streamlit's legacy page discovery
    hand_over_to_app()
