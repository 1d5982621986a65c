"""A prompt being edited: its structure with stable row ids, and one pure function from the
editor's values to the ``Prompt``.

The editor keys every widget on a row's id (``p7.in.3fa2c1.label``), never on its position, so
moving, adding or removing a row never hands one row's value to another, and the values survive
a visit to another page. ``Draft`` holds what the widgets can't: which rows exist, in which
order. ``values_of`` gives the values a stored prompt starts from; ``build`` turns the values
back into a ``Prompt``, refusing anything invalid with an ``InputError`` that names the field, so
an invalid value is an error at Save, never a silent revert. Neither needs Streamlit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from connector.ac.actions import REGISTRY
from connector.core.errors import InputError
from connector.core.models import (
    ActionType,
    Automation,
    ErrorBehaviour,
    Field,
    InputKind,
    Interaction,
    PromptType,
)
from connector.engage.prompts import (
    MAX_INPUTS,
    ActionConfig,
    FieldMapping,
    FormInput,
    Prompt,
    Source,
    custom_field_id,
    new_id,
)

__all__ = ["Draft", "action_values", "build", "catalog_warnings", "values_of"]


@dataclass
class Draft:
    """The rows of a prompt being edited, by id and in order. ``key`` prefixes every widget
    key: ``p<id>`` for a stored prompt, ``new`` for one not saved yet."""

    key: str
    prompt_id: int | None = None
    inputs: list[str] = field(default_factory=list)
    mappings: list[str] = field(default_factory=list)
    actions: dict[Interaction, list[tuple[str, ActionType]]] = field(default_factory=dict)
    # Each action's stored params, so a target the catalog doesn't know keeps its name.
    stored_params: dict[str, dict[str, str]] = field(default_factory=dict)

    def k(self, *parts: str) -> str:
        """The widget key of ``parts``: ``k("name")``, ``k("in", row, "label")``."""
        return ".".join((self.key, *parts))

    def add_input(self) -> str:
        if len(self.inputs) >= MAX_INPUTS:
            raise InputError(f"A prompt has at most {MAX_INPUTS} form inputs.", field="inputs")
        row = new_id()
        self.inputs.append(row)
        return row

    def add_mapping(self) -> str:
        row = new_id()
        self.mappings.append(row)
        return row

    def add_action(self, interaction: Interaction, kind: ActionType) -> str:
        """A new action row; Add Contact goes first, where it always runs."""
        row = new_id()
        rows = self.actions.setdefault(interaction, [])
        rows.insert(0 if kind is ActionType.ADD_CONTACT else len(rows), (row, kind))
        return row

    def move_action(self, interaction: Interaction, row: str, delta: int) -> None:
        """Move ``row`` up (-1) or down (+1); nothing moves above or below Add Contact."""
        rows = self.actions[interaction]
        at = next(n for n, (r, _) in enumerate(rows) if r == row)
        to = at + delta
        if 0 <= to < len(rows) and ActionType.ADD_CONTACT not in (rows[at][1], rows[to][1]):
            rows[at], rows[to] = rows[to], rows[at]

    def remove_action(self, interaction: Interaction, row: str) -> None:
        self.actions[interaction] = [(r, t) for r, t in self.actions[interaction] if r != row]

    def can_move(self, interaction: Interaction, row: str, delta: int) -> bool:
        rows = self.actions.get(interaction, [])
        at = next(n for n, (r, _) in enumerate(rows) if r == row)
        to = at + delta
        return 0 <= to < len(rows) and ActionType.ADD_CONTACT not in (rows[at][1], rows[to][1])


def values_of(prompt: Prompt, key: str) -> tuple[Draft, dict[str, Any]]:
    """The draft of ``prompt`` and the widget values it starts from."""
    draft = Draft(key, prompt.id)
    values: dict[str, Any] = {
        draft.k("name"): prompt.name,
        draft.k("type"): prompt.prompt_type.value,
        draft.k("headline"): prompt.headline,
        draft.k("body"): prompt.body,
        draft.k("accept"): prompt.accept_label,
        draft.k("secondary"): prompt.secondary_label,
        draft.k("decline"): prompt.decline_label,
        draft.k("timeout"): prompt.timeout_seconds,
    }
    for form_input in prompt.inputs:
        draft.inputs.append(form_input.id)
        values |= {
            draft.k("in", form_input.id, "label"): form_input.label,
            draft.k("in", form_input.id, "placeholder"): form_input.placeholder,
            draft.k("in", form_input.id, "kind"): form_input.kind.value,
            draft.k("in", form_input.id, "required"): form_input.required,
            draft.k("in", form_input.id, "options"): "\n".join(form_input.options),
        }
    for mapping in prompt.mappings:
        row = draft.add_mapping()
        values |= {
            draft.k("map", row, "field"): mapping.field,
            draft.k("map", row, "source"): mapping.source.value,
            draft.k("map", row, "value"): mapping.value,
            draft.k("map", row, "multiple"): mapping.multiple,
        }
    for interaction, configs in prompt.actions.items():
        for config in configs:
            draft.actions.setdefault(interaction, []).append((config.id, config.type))
            draft.stored_params[config.id] = dict(config.params)
            values |= action_values(draft, config)
    return draft, values


def action_values(draft: Draft, config: ActionConfig) -> dict[str, Any]:
    """The widget values of one action row."""
    spec = REGISTRY[config.type]
    values: dict[str, Any] = {draft.k("act", config.id, "on_error"): config.on_error.value}
    for param in spec.params:
        values[draft.k("act", config.id, param.key)] = config.params.get(param.id_key) or None
    for option in spec.options:
        values[draft.k("act", config.id, option.key)] = bool(config.params.get(option.key))
    return values


def build(
    draft: Draft,
    values: Mapping[str, Any],
    names: Mapping[str, Mapping[str, str]] | None = None,
    fields: Mapping[str, Field] | None = None,
) -> Prompt:
    """The ``Prompt`` the editor's values describe; ``InputError`` for anything invalid.

    ``names`` maps a catalog kind's value ("lists") to its ids' names, to store each target's
    name beside its id. ``fields`` (the custom fields by id) shapes what fills them: an input
    mapped to a field with options offers exactly those options, one mapped to a date field
    takes a date, and a fixed value must be one the field accepts."""
    text = _text(values)

    raw = values.get(draft.k("timeout"))
    try:
        seconds = float(raw or 0)
    except (TypeError, ValueError):
        seconds = -1.5  # reported below, with what was typed
    if not seconds.is_integer():
        raise InputError(
            f"The timeout must be a whole number of seconds, not “{raw}”.", field="timeout_seconds"
        )
    prompt = Prompt(
        name=text(draft.k("name")).strip(),
        prompt_type=PromptType(values.get(draft.k("type")) or PromptType.MODAL),
        headline=text(draft.k("headline")),
        body=text(draft.k("body")),
        accept_label=text(draft.k("accept")),
        secondary_label=text(draft.k("secondary")),
        decline_label=text(draft.k("decline")),
        timeout_seconds=int(seconds),
        id=draft.prompt_id,
    )
    for row in draft.inputs:
        options = [o.strip() for o in text(draft.k("in", row, "options")).splitlines() if o.strip()]
        prompt.inputs.append(
            FormInput(
                label=text(draft.k("in", row, "label")),
                placeholder=text(draft.k("in", row, "placeholder")),
                kind=InputKind(values.get(draft.k("in", row, "kind")) or InputKind.TEXT),
                required=bool(values.get(draft.k("in", row, "required"))),
                options=options,
                id=row,
            )
        )
    for row in draft.mappings:
        target = text(draft.k("map", row, "field"))
        if not target:
            continue  # a row whose field was never chosen says nothing
        prompt.mappings.append(
            FieldMapping(
                target,
                Source(values.get(draft.k("map", row, "source")) or Source.INPUT),
                text(draft.k("map", row, "value")),
                bool(values.get(draft.k("map", row, "multiple"))),
            )
        )
    for interaction, rows in draft.actions.items():
        prompt.actions[interaction] = [
            _action(draft, values, row, kind, names or {}) for row, kind in rows
        ]
    _shape_by_fields(prompt, fields or {})
    prompt.validate()
    return prompt


def _shape_by_fields(prompt: Prompt, fields: Mapping[str, Field]) -> None:
    """Make what fills each custom field fit the field, as the catalog describes it."""
    for mapping in prompt.mappings:
        custom = fields.get(custom_field_id(mapping.field) or "")
        if custom is None:
            continue
        mapping.multiple = custom.multiple
        if mapping.source is Source.INPUT and (form_input := prompt.input_by_id(mapping.value)):
            form_input.kind = custom.input_kind
            form_input.options = list(custom.options)
        elif mapping.source is Source.FIXED and custom.options:
            if mapping.value not in custom.options:
                offered = ", ".join(custom.options)
                raise InputError(
                    f"{custom.name} takes one of {offered}, not “{mapping.value[:60]}”.",
                    field=f"mapping_{mapping.field}",
                )
        elif mapping.source is Source.FIXED and custom.input_kind is InputKind.DATE:
            try:
                date.fromisoformat(mapping.value)
            except ValueError:
                raise InputError(
                    f"{custom.name} takes a date (YYYY-MM-DD), not “{mapping.value[:60]}”.",
                    field=f"mapping_{mapping.field}",
                ) from None


def _action(
    draft: Draft,
    values: Mapping[str, Any],
    row: str,
    kind: ActionType,
    names: Mapping[str, Mapping[str, str]],
) -> ActionConfig:
    spec = REGISTRY[kind]
    stored = draft.stored_params.get(row, {})
    params: dict[str, str] = {}
    for param in spec.params:
        chosen = values.get(draft.k("act", row, param.key))
        if chosen:
            known = names.get(param.catalog.value, {}).get(str(chosen))
            kept = stored.get(param.name_key, "") if stored.get(param.id_key) == chosen else ""
            params |= {param.id_key: str(chosen), param.name_key: known or kept}
    for option in spec.options:
        if values.get(draft.k("act", row, option.key)):
            params[option.key] = "1"
    on_error = ErrorBehaviour(values.get(draft.k("act", row, "on_error")) or ErrorBehaviour.STOP)
    return ActionConfig(kind, params, on_error, id=row)


def _text(values: Mapping[str, Any]) -> Any:
    def get(key: str) -> str:
        value = values.get(key)
        return "" if value is None else str(value)

    return get


def catalog_warnings(prompt: Prompt, automations: Mapping[str, Automation]) -> list[str]:
    """What the account's catalog says will go wrong: re-entry asked of an automation that
    lets each contact in once (ActiveCampaign refuses the second enrollment with a 403
    "Could not create SubscriberSeries"), or an automation that is not active."""
    found = []
    for interaction, configs in prompt.actions.items():
        for config in configs:
            if config.type is not ActionType.ADD_TO_AUTOMATION:
                continue
            automation = automations.get(config.params.get("automation_id", ""))
            if automation is None:
                continue
            where = f"{interaction.label}: Add to Automation “{automation.name}”"
            if config.params.get("allow_reentry") and not automation.multientry:
                found.append(
                    f"{where} allows re-entry, but the automation lets each contact in only "
                    "once (Re-entry: Once): ActiveCampaign refuses a second enrollment with "
                    "“Could not create SubscriberSeries”. Turn off Allow re-entry, or allow "
                    "multiple entries in the automation's settings."
                )
            if not automation.active:
                found.append(f"{where}: the automation is inactive, so contacts won't move on.")
    return found
