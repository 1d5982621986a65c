"""Prompts: create, edit, duplicate and delete prompts and the actions on their interactions.

The prompt being edited is a draft in session state, so edits survive reruns and page switches
until saved or discarded. Widget keys carry a version that changes when the draft's structure
changes (an action moved, an input removed), so no widget keeps a value that belongs to a
different row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from connector import (
    REGISTRY,
    STANDARD_CONTACT_FIELDS,
    ActionConfig,
    ActionType,
    CatalogKind,
    ErrorBehaviour,
    FormInput,
    InputError,
    InputKind,
    Interaction,
    Prompt,
    PromptType,
    custom_field_target,
)
from connector.actions import ParamSpec
from connector.prompts import MAX_INPUTS
from pages._common import catalog_items, console, ensure_catalog, hand_over_to_app, reporting_errors

NEW = -1


def _draft() -> Prompt:
    return st.session_state["draft"]


def _key(name: str) -> str:
    return f"draft{st.session_state.get('draft_v', 0)}_{name}"


def _bind(key: str, obj: object, attr: str, convert: Callable[[Any], Any] = lambda v: v) -> str:
    """Remember that widget ``key`` edits ``obj.attr``, so callbacks can absorb pending edits."""
    st.session_state.setdefault("draft_bindings", {})[key] = (obj, attr, convert)
    return key


def _absorb() -> None:
    """Apply widget values not yet copied into the draft.

    A click can arrive in the same rerun as an edit (type a name, click Add action): callbacks
    run before the script, so without this the edit would be lost when the widgets re-key."""
    for key, (obj, attr, convert) in st.session_state.get("draft_bindings", {}).items():
        if key in st.session_state:
            setattr(obj, attr, convert(st.session_state[key]))


def _bump() -> None:
    st.session_state["draft_bindings"] = {}
    st.session_state["draft_v"] = st.session_state.get("draft_v", 0) + 1


def _load(prompt_id: int, *, fresh: bool = False) -> None:
    """Edit ``prompt_id``: its unsaved draft from earlier in this session, else the stored one.

    Drafts are kept per prompt, so looking at another prompt loses no edit."""
    drafts: dict[int, Prompt] = st.session_state.setdefault("drafts", {})
    if fresh or prompt_id not in drafts:
        stored = console().prompts.get(prompt_id) if prompt_id != NEW else None
        drafts[prompt_id] = stored or Prompt(name="", headline="", body="")
    st.session_state["draft"] = drafts[prompt_id]
    st.session_state["draft_of"] = prompt_id
    _bump()


def _discard() -> None:
    _load(st.session_state["draft_of"], fresh=True)


def _select(prompt_id: int, *, fresh: bool = True) -> None:
    st.session_state["prompt_pick"] = prompt_id
    _load(prompt_id, fresh=fresh)


def _unsaved(draft: Prompt) -> bool:
    if draft.id is None:
        return True
    stored = console().prompts.get(draft.id)
    return stored is None or stored.to_dict() != draft.to_dict()


# -- structural edits (callbacks: they run before the script, then widgets re-key) -------------


def _add_input() -> None:
    _absorb()
    _draft().inputs.append(FormInput(label=f"Input {len(_draft().inputs) + 1}"))
    _bump()


def _remove_input(position: int) -> None:
    _absorb()
    del _draft().inputs[position]
    _bump()


def _add_action(interaction: Interaction) -> None:
    _absorb()
    picked = st.session_state.get(_key(f"new_action_{interaction.value}"))
    if picked:
        _draft().actions.setdefault(interaction, []).append(ActionConfig(ActionType(picked)))
        _bump()


def _move_action(interaction: Interaction, position: int, delta: int) -> None:
    _absorb()
    configs = _draft().actions[interaction]
    target = position + delta
    configs[position], configs[target] = configs[target], configs[position]
    _bump()


def _remove_action(interaction: Interaction, position: int) -> None:
    _absorb()
    del _draft().actions[interaction][position]
    _bump()


def _save() -> None:
    _absorb()
    try:
        saved = console().prompts.save(_draft())
    except InputError as exc:
        st.session_state["save_error"] = exc.message
        return
    st.session_state["save_ok"] = f"Saved “{saved.name}”."
    st.session_state.get("drafts", {}).pop(NEW, None)
    _select(saved.id or NEW)


def _duplicate(prompt_id: int) -> None:
    copy = console().prompts.duplicate(prompt_id)
    st.session_state["save_ok"] = f"Created “{copy.name}”."
    _select(copy.id or NEW)


def _delete(prompt_id: int) -> None:
    console().prompts.delete(prompt_id)
    remaining = console().prompts.all()
    st.session_state["save_ok"] = "Prompt deleted."
    _select(remaining[0].id if remaining and remaining[0].id else NEW)


# -- sections -----------------------------------------------------------------------------------


def _picker() -> None:
    prompts = {p.id: p for p in console().prompts.all() if p.id is not None}
    options = [*prompts, NEW]
    if st.session_state.get("prompt_pick") not in options:
        st.session_state["prompt_pick"] = options[0]
    pick_col, new_col, dup_col, del_col = st.columns([4, 1, 1, 1], vertical_alignment="bottom")
    picked = pick_col.selectbox(
        "Prompt",
        options,
        key="prompt_pick",
        format_func=lambda i: "(new prompt)" if i == NEW else prompts[i].name,
    )
    if st.session_state.get("draft_of") != picked:
        _load(picked)
    new_col.button(
        "New",
        icon=":material/add:",
        on_click=_select,
        args=(NEW,),
        kwargs={"fresh": False},
        width="stretch",
    )
    existing = picked != NEW
    dup_col.button(
        "Duplicate",
        icon=":material/content_copy:",
        disabled=not existing,
        on_click=_duplicate,
        args=(picked,),
        width="stretch",
    )
    with del_col.popover(
        "Delete", icon=":material/delete:", disabled=not existing, width="stretch"
    ):
        st.write("Delete this prompt? Its log rows are kept.")
        st.button(
            "Delete prompt", type="primary", on_click=_delete, args=(picked,), key="confirm_delete"
        )


def _content(draft: Prompt) -> None:
    st.subheader("Content")
    left, right = st.columns(2)
    draft.name = left.text_input(
        "Name", draft.name, key=_bind(_key("name"), draft, "name"), placeholder="Newsletter signup"
    )
    types = list(PromptType)
    draft.prompt_type = right.selectbox(
        "Type",
        types,
        index=types.index(draft.prompt_type),
        key=_bind(_key("type"), draft, "prompt_type"),
        format_func=lambda t: t.label,
    )
    draft.headline = st.text_input(
        "Headline", draft.headline, key=_bind(_key("headline"), draft, "headline")
    )
    draft.body = st.text_area("Body", draft.body, key=_bind(_key("body"), draft, "body"), height=80)
    if not draft.prompt_type.has_buttons:
        st.caption("An invisible prompt shows nothing: its Accept actions run when it triggers.")
        return
    a, b, c, d = st.columns(4)
    draft.accept_label = a.text_input(
        "Accept button", draft.accept_label, key=_bind(_key("accept"), draft, "accept_label")
    )
    draft.secondary_label = b.text_input(
        "Secondary button",
        draft.secondary_label,
        key=_bind(_key("secondary"), draft, "secondary_label"),
        help="Leave empty for no secondary button.",
    )
    draft.decline_label = c.text_input(
        "Decline button", draft.decline_label, key=_bind(_key("decline"), draft, "decline_label")
    )
    draft.timeout_seconds = int(
        d.number_input(
            "Timeout (seconds)",
            min_value=0,
            max_value=3600,
            value=draft.timeout_seconds,
            key=_bind(_key("timeout"), draft, "timeout_seconds", int),
            help="0: the prompt never times out.",
        )
    )


def _field_targets() -> dict[str, str]:
    targets = {"": "— not sent —", **STANDARD_CONTACT_FIELDS}
    for field in catalog_items(CatalogKind.FIELDS):
        targets[custom_field_target(field.id)] = f"{field.name} (custom field #{field.id})"
    return targets


def _inputs(draft: Prompt) -> None:
    st.subheader("Form inputs")
    st.caption(
        f"Up to {MAX_INPUTS}. Each can fill a contact field in ActiveCampaign; the one mapped "
        "to Email identifies the contact."
    )
    targets = _field_targets()
    kinds = list(InputKind)
    for n, form_input in enumerate(draft.inputs):
        if form_input.maps_to and form_input.maps_to not in targets:
            targets[form_input.maps_to] = f"{form_input.maps_to} (not in the catalog)"
        cols = st.columns([3, 3, 2, 3, 2, 1], vertical_alignment="bottom")
        form_input.label = cols[0].text_input(
            "Label", form_input.label, key=_bind(_key(f"in{n}_label"), form_input, "label")
        )
        form_input.placeholder = cols[1].text_input(
            "Placeholder",
            form_input.placeholder,
            key=_bind(_key(f"in{n}_ph"), form_input, "placeholder"),
        )
        form_input.kind = cols[2].selectbox(
            "Validation",
            kinds,
            index=kinds.index(form_input.kind),
            key=_bind(_key(f"in{n}_kind"), form_input, "kind"),
            format_func=lambda k: k.value.title(),
        )
        options = list(targets)
        form_input.maps_to = cols[3].selectbox(
            "Fills contact field",
            options,
            index=options.index(form_input.maps_to),
            key=_bind(_key(f"in{n}_maps"), form_input, "maps_to"),
            format_func=targets.__getitem__,
        )
        form_input.required = cols[4].checkbox(
            "Required", form_input.required, key=_bind(_key(f"in{n}_req"), form_input, "required")
        )
        cols[5].button(
            ":material/close:",
            key=_key(f"in{n}_rm"),
            help="Remove this input",
            on_click=_remove_input,
            args=(n,),
        )
    st.button(
        "Add form input",
        icon=":material/add:",
        disabled=len(draft.inputs) >= MAX_INPUTS,
        on_click=_add_input,
    )


class _TargetSetter:
    """Writes a catalog choice into an action's params as ``<key>_id`` and ``<key>_name``."""

    def __init__(self, config: ActionConfig, param: ParamSpec, names: dict[str, str]) -> None:
        self.config, self.param, self.names = config, param, names

    @property
    def value(self) -> str:
        return self.config.params.get(self.param.id_key, "")

    @value.setter
    def value(self, chosen: str | None) -> None:
        if chosen:
            self.config.params[self.param.id_key] = chosen
            self.config.params[self.param.name_key] = self.names[chosen].removesuffix(
                " — not in the catalog"
            )


def _target_picker(config: ActionConfig, key: str) -> None:
    spec = REGISTRY[config.type]
    for param in spec.params:
        items = catalog_items(param.catalog)
        names = {item.id: item.name for item in items}
        current = config.params.get(param.id_key, "")
        if current and current not in names:
            names[current] = f"{config.params.get(param.name_key) or '?'} — not in the catalog"
        options = list(names)

        def label(item_id: str, names: dict[str, str] = names) -> str:
            return f"{names[item_id]} (#{item_id})"

        chosen = st.selectbox(
            param.label,
            options,
            index=options.index(current) if current else None,
            key=_bind(f"{key}_{param.key}", _TargetSetter(config, param, names), "value"),
            format_func=label,
            placeholder=f"Choose one of {len(items)} {param.catalog.value} (type to search)",
            label_visibility="collapsed",
        )
        if chosen:
            _TargetSetter(config, param, names).value = chosen


class _OptionSetter:
    """Stores an on/off action option in its params: "1" when on, absent when off."""

    def __init__(self, config: ActionConfig, option: str) -> None:
        self.config, self.option = config, option

    @property
    def value(self) -> bool:
        return bool(self.config.params.get(self.option))

    @value.setter
    def value(self, on: bool) -> None:
        if on:
            self.config.params[self.option] = "1"
        else:
            self.config.params.pop(self.option, None)


def _options(config: ActionConfig, key: str) -> None:
    for option in REGISTRY[config.type].options:
        setter = _OptionSetter(config, option.key)
        setter.value = st.checkbox(
            option.label,
            value=setter.value,
            key=_bind(f"{key}_{option.key}", setter, "value"),
            help=option.help,
        )


def _interaction_actions(draft: Prompt, interaction: Interaction) -> None:
    configs = draft.actions.setdefault(interaction, [])
    if not configs:
        st.caption("No actions: this interaction only closes the prompt.")
    behaviours = list(ErrorBehaviour)
    for n, config in enumerate(configs):
        key = _key(f"{interaction.value}_{n}")
        with st.container(border=True):
            cols = st.columns([2, 5, 2, 1, 1, 1], vertical_alignment="center")
            cols[0].markdown(f"**{n + 1}. {REGISTRY[config.type].label}**")
            with cols[1]:
                if REGISTRY[config.type].params:
                    _target_picker(config, key)
                    _options(config, key)
                else:
                    st.caption("Creates or updates the contact from the form inputs and traits.")
            config.on_error = cols[2].selectbox(
                "If it fails",
                behaviours,
                index=behaviours.index(config.on_error),
                key=_bind(f"{key}_err", config, "on_error"),
                format_func=lambda b: "Stop the rest" if b is ErrorBehaviour.STOP else "Continue",
                label_visibility="collapsed",
                help="Stop: later actions don't run if this one fails. Continue: they run anyway.",
            )
            cols[3].button(
                ":material/arrow_upward:",
                key=f"{key}_up",
                disabled=n == 0,
                help="Move up",
                on_click=_move_action,
                args=(interaction, n, -1),
            )
            cols[4].button(
                ":material/arrow_downward:",
                key=f"{key}_down",
                disabled=n == len(configs) - 1,
                help="Move down",
                on_click=_move_action,
                args=(interaction, n, 1),
            )
            cols[5].button(
                ":material/delete:",
                key=f"{key}_rm",
                help="Remove",
                on_click=_remove_action,
                args=(interaction, n),
            )
    pick_col, add_col = st.columns([3, 1], vertical_alignment="bottom")
    present = {c.type for c in configs}
    # A second Add Contact would sync the same contact twice: offer it only once.
    offered = [t for t in REGISTRY if not (t is ActionType.ADD_CONTACT and t in present)]
    pick_col.selectbox(
        "Add an action",
        [t.value for t in offered],
        key=_key(f"new_action_{interaction.value}"),
        format_func=lambda t: REGISTRY[ActionType(t)].label,
    )
    add_col.button(
        "Add action",
        key=_key(f"add_{interaction.value}"),
        icon=":material/add:",
        on_click=_add_action,
        args=(interaction,),
        width="stretch",
    )


def _actions(draft: Prompt) -> None:
    st.subheader("Actions")
    st.caption(
        "Per interaction, the actions run in order. Add Contact always runs first: the other "
        "actions need the contact it creates or updates."
    )
    interactions = list(Interaction) if draft.prompt_type.has_buttons else [Interaction.ACCEPT]
    names = {i: i.label if draft.prompt_type.has_buttons else "On trigger" for i in interactions}
    titles = [f"{names[i]} ({len(draft.actions_for(i))})" for i in interactions]
    for tab, interaction in zip(st.tabs(titles), interactions, strict=True):
        with tab:
            _interaction_actions(draft, interaction)


def render() -> None:
    st.title("Prompts")
    ensure_catalog()
    _picker()
    if message := st.session_state.pop("save_ok", None):
        st.success(message, icon=":material/check:")
    draft = _draft()
    with st.container(border=True):
        _content(draft)
    with st.container(border=True):
        _inputs(draft)
    with st.container(border=True):
        _actions(draft)
    for warning in draft.warnings():
        st.warning(warning, icon=":material/warning:")
    if error := st.session_state.pop("save_error", None):
        st.error(error, icon=":material/error:")
    save_col, discard_col, state_col = st.columns([1, 1, 4], vertical_alignment="center")
    save_col.button(
        "Save prompt",
        type="primary",
        icon=":material/save:",
        on_click=_save,
        width="stretch",
    )
    discard_col.button(
        "Discard changes",
        on_click=_discard,
        width="stretch",
    )
    with reporting_errors():
        if _unsaved(draft):
            state_col.caption(":orange[Unsaved changes]")


if __name__ == "__main__":  # served alone by Streamlit's legacy page discovery
    hand_over_to_app()
