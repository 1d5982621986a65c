"""Prompt definitions (Engage's model): what a user sees, where each contact field's value comes
from, and the actions on each interaction.

* A prompt has a type, a headline, a body, up to three buttons, an optional countdown and up to
  three form inputs (each with its validation: email, text, phone, number, date, or a choice).
* ``mappings`` say where each ActiveCampaign contact field takes its value: a form input (sent
  only by the interactions that submit the form), a user trait (``first_name``, any trait the
  host app passes) or a fixed value. Without a mapping, the email comes from the
  ``email_address`` trait and the names from ``first_name`` / ``last_name`` (Engage's rule).
* Each of the five interactions carries an ordered list of actions.

Inputs and actions carry stable ids, so an editor can key its widgets on them and references
(a mapping to an input) survive reordering.
"""

from __future__ import annotations

import json
import math
import unicodedata
import uuid
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from connector.core.errors import InputError, clip
from connector.core.models import (
    ActionType,
    ErrorBehaviour,
    InputKind,
    Interaction,
    PromptType,
    api_id,
)

__all__ = [
    "DEFAULT_TRAITS",
    "MAX_INPUTS",
    "MAX_NAME",
    "MAX_TIMEOUT",
    "STANDARD_CONTACT_FIELDS",
    "ActionConfig",
    "FieldMapping",
    "FormInput",
    "Prompt",
    "Source",
    "check_runnable",
    "custom_field_id",
    "custom_field_target",
    "name_key",
    "new_id",
]

MAX_INPUTS = 3
MAX_TIMEOUT = 3600  # seconds: a prompt that waits an hour to time out is already a long one
MAX_NAME = 200  # characters: a name is read in lists, the log and job titles, not a description
_SHOWN = 60  # characters of something typed that a refusal repeats
STANDARD_CONTACT_FIELDS: dict[str, str] = {
    "email": "Email",
    "firstName": "First name",
    "lastName": "Last name",
    "phone": "Phone",
}
# Where a standard field comes from when no mapping says otherwise: the traits Engage passes.
DEFAULT_TRAITS: dict[str, str] = {
    "email": "email_address",
    "firstName": "first_name",
    "lastName": "last_name",
}
_CUSTOM_PREFIX = "field:"


def new_id() -> str:
    return uuid.uuid4().hex[:8]


def name_key(name: str) -> str:
    """What makes two prompt names the same: case and spacing don't count."""
    return " ".join(name.split()).casefold()


def custom_field_target(field_id: str) -> str:
    """The mapping target for a custom field: v3 addresses custom fields by id, never name."""
    return f"{_CUSTOM_PREFIX}{field_id}"


def custom_field_id(target: str) -> str | None:
    return target.removeprefix(_CUSTOM_PREFIX) if target.startswith(_CUSTOM_PREFIX) else None


class Source(StrEnum):
    INPUT = "input"  # a form input (its id), sent by Accept and Secondary Accept only
    TRAIT = "trait"  # a user trait (its name), as the host app passes it
    FIXED = "fixed"  # a fixed value

    @property
    def label(self) -> str:
        return {"input": "Form input", "trait": "User trait", "fixed": "Fixed value"}[self.value]


@dataclass
class FormInput:
    label: str
    placeholder: str = ""
    kind: InputKind = InputKind.TEXT
    required: bool = False
    options: list[str] = field(default_factory=list)  # CHOICE: exactly the values offered
    id: str = field(default_factory=new_id)


@dataclass
class FieldMapping:
    """Contact ``field`` (a key of STANDARD_CONTACT_FIELDS, or custom_field_target(id)) takes
    its value from ``source``: the input with id ``value``, the trait named ``value``, or
    ``value`` itself."""

    field: str
    source: Source
    value: str
    # The field takes several values (a checkbox or list box field): sent as ``||value||``.
    multiple: bool = False

    @property
    def field_label(self) -> str:
        custom = custom_field_id(self.field)
        return STANDARD_CONTACT_FIELDS.get(self.field) or f"Custom field #{clip(custom or '', 20)}"


@dataclass
class ActionConfig:
    type: ActionType
    # Target ids and their names as chosen from the catalog, e.g. {"list_id": "3",
    # "list_name": "Newsletter"}; names are kept so the log and pages read well offline.
    params: dict[str, str] = field(default_factory=dict)
    on_error: ErrorBehaviour = ErrorBehaviour.STOP
    id: str = field(default_factory=new_id)


@dataclass
class Prompt:
    name: str
    prompt_type: PromptType = PromptType.MODAL
    headline: str = ""
    body: str = ""
    accept_label: str = "Yes, please"
    secondary_label: str = ""  # empty: no secondary button
    decline_label: str = "No thanks"
    timeout_seconds: int = 0  # 0: the prompt never times out
    inputs: list[FormInput] = field(default_factory=list)
    mappings: list[FieldMapping] = field(default_factory=list)
    actions: dict[Interaction, list[ActionConfig]] = field(default_factory=dict)
    id: int | None = None

    def actions_for(self, interaction: Interaction) -> list[ActionConfig]:
        return self.actions.get(interaction, [])

    @property
    def action_count(self) -> int:
        return sum(len(v) for v in self.actions.values())

    def input_by_id(self, input_id: str) -> FormInput | None:
        return next((i for i in self.inputs if i.id == input_id), None)

    def mapping_for(self, target: str) -> FieldMapping | None:
        return next((m for m in self.mappings if m.field == target), None)

    def map_input(self, form_input: FormInput, target: str) -> FormInput:
        """Add ``form_input`` with a mapping of contact field ``target`` to it; returns it."""
        self.inputs.append(form_input)
        self.mappings.append(FieldMapping(target, Source.INPUT, form_input.id))
        return form_input

    def validate(self) -> None:
        """Raise ``InputError`` naming the first thing that makes this prompt unusable."""
        name = self.name.strip()
        if not name:
            raise InputError("Give the prompt a name.", field="name")
        if len(name) > MAX_NAME:
            raise InputError(
                f"A prompt name has at most {MAX_NAME} characters; this one has {len(name):,}. "
                "Shorten it.",
                field="name",
            )
        odd = next((c for c in name if unicodedata.category(c) in ("Cc", "Cs")), None)
        if odd is not None:
            raise InputError(
                f"The prompt name holds a character that can't be shown or stored "
                f"(U+{ord(odd):04X}): type the name again without it.",
                field="name",
            )
        if len(self.inputs) > MAX_INPUTS:
            raise InputError(f"A prompt has at most {MAX_INPUTS} form inputs.", field="inputs")
        if not 0 <= self.timeout_seconds <= MAX_TIMEOUT:
            raise InputError(
                f"The timeout must be between 0 (no countdown) and {MAX_TIMEOUT} seconds, not "
                f"{clip(str(self.timeout_seconds), 20)}.",
                field="timeout_seconds",
            )
        for number, form_input in enumerate(self.inputs, start=1):
            if not form_input.label.strip():
                raise InputError(f"Form input {number} needs a label.", field=f"input_{number}")
            if form_input.kind is InputKind.CHOICE and not form_input.options:
                raise InputError(
                    f"Form input “{_shown(form_input.label)}” is a choice but offers no options.",
                    field=f"input_{number}",
                )
        if len({i.id for i in self.inputs}) != len(self.inputs):
            raise InputError("Two form inputs share an id.", field="inputs")
        self._validate_mappings()
        self._validate_actions()

    def _validate_mappings(self) -> None:
        seen: set[str] = set()
        for mapping in self.mappings:
            where = f"mapping_{mapping.field}"
            label = mapping.field_label
            if mapping.field in seen:
                raise InputError(
                    f"{label} is filled twice: give each contact field one source.", field=where
                )
            seen.add(mapping.field)
            if mapping.field not in STANDARD_CONTACT_FIELDS and (
                api_id(custom_field_id(mapping.field)) is None
            ):
                raise InputError(f"“{_shown(mapping.field)}” is not a contact field.", field=where)
            if mapping.source is Source.INPUT:
                form_input = self.input_by_id(mapping.value)
                if form_input is None:
                    raise InputError(f"{label} takes a form input that no longer exists.", where)
                if mapping.field == "email" and form_input.kind is not InputKind.EMAIL:
                    raise InputError(
                        f"Form input “{_shown(form_input.label)}” fills the email, so its "
                        "validation must be Email.",
                        field=where,
                    )
            elif mapping.source is Source.TRAIT and not mapping.value.strip():
                raise InputError(f"{label} takes a trait: name it.", field=where)
            elif mapping.source is Source.FIXED:
                if mapping.field == "email":
                    raise InputError(
                        "Email can't be a fixed value: every user would be the same contact. "
                        "Take it from a form input or a trait.",
                        field=where,
                    )
                if not mapping.value.strip():
                    raise InputError(f"{label} takes a fixed value: enter it.", field=where)

    def _validate_actions(self) -> None:
        from connector.ac.actions import (
            REGISTRY,  # the registry knows each action's required parameters
        )

        for interaction, configs in self.actions.items():
            first_at: dict[tuple[ActionType, str], int] = {}
            for position, config in enumerate(configs, start=1):
                spec = REGISTRY[config.type]
                missing = spec.missing_params(config.params)
                if missing:
                    raise InputError(
                        f"{interaction.label}, action {position} ({spec.label}): choose {missing}.",
                        field=f"{interaction.value}_{position}",
                    )
                if problem := _target_problem(config):
                    raise InputError(
                        f"{interaction.label}, action {position} ({spec.label}) {problem}",
                        field=f"{interaction.value}_{position}",
                    )
                target_id, target_name = spec.target(config.params)
                earlier = first_at.setdefault((config.type, target_id), position)
                if earlier != position:
                    on = f" on “{_shown(target_name or target_id)}”" if target_id else ""
                    raise InputError(
                        f"{interaction.label}: actions {earlier} and {position} are both "
                        f"{spec.label}{on}. Remove one: an action runs once per interaction.",
                        field=f"{interaction.value}_{position}",
                    )

    def warnings(self) -> list[str]:
        """Things that are allowed but probably not meant: actions that can never run, and
        contact actions that depend on a trait the host app may not send."""
        found = []
        buttons = self.prompt_type.has_buttons
        if self.actions_for(Interaction.TIMEOUT) and (not buttons or not self.timeout_seconds):
            found.append("Timeout has actions, but the prompt never times out: set a timeout.")
        if self.actions_for(Interaction.SECONDARY_ACCEPT) and not (
            buttons and self.secondary_label.strip()
        ):
            found.append(
                "Secondary Accept has actions, but the prompt shows no secondary button: "
                "give it a label."
            )
        if not buttons:
            for interaction in (Interaction.DECLINE, Interaction.DISMISS):
                if self.actions_for(interaction):
                    found.append(
                        f"{interaction.label} has actions, but an invisible prompt has no "
                        "buttons: only its Accept (on trigger) actions run."
                    )
        email = self.mapping_for("email")
        if self.action_count and (email is None or email.source is not Source.INPUT):
            found.append(
                "No form input fills the email, so the actions rely on the user's "
                f"{_shown(email.value) if email else 'email_address'} trait; users without it "
                "are skipped."
            )
        return found

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["actions"] = {
            i.value: [asdict(a) for a in self.actions_for(i)]
            for i in Interaction
            if self.actions_for(i)
        }
        return json.loads(json.dumps(data))  # enums to their string values

    @classmethod
    def from_dict(cls, data: Any) -> Prompt:
        """A prompt from its stored JSON, in any shape it was ever stored in: inputs without
        ids get stable ones, and an input's old ``maps_to`` becomes a mapping. A definition that
        is no prompt (a value of the wrong type, a kind or an action that does not exist) is an
        ``InputError`` saying which part; the prompt itself is checked by ``validate``."""
        data = _object(data, "The definition")
        inputs: list[FormInput] = []
        mappings = [
            FieldMapping(
                _text(_required(m, "field", f"Mapping {n}"), f"Mapping {n}'s field"),
                _choice(Source, _required(m, "source", f"Mapping {n}"), f"Mapping {n}'s source"),
                _text(m.get("value"), f"Mapping {n}'s value"),
                bool(m.get("multiple", False)),
            )
            for n, m in _objects(data.get("mappings"), "The mappings")
        ]
        for number, raw in _objects(data.get("inputs"), "The form inputs"):
            where = f"Form input {number}"
            form_input = FormInput(
                label=_text(raw.get("label"), f"{where}'s label"),
                placeholder=_text(raw.get("placeholder"), f"{where}'s placeholder"),
                kind=_choice(InputKind, raw.get("kind", InputKind.TEXT), f"{where}'s kind"),
                required=bool(raw.get("required", False)),
                options=[
                    _text(o, f"{where}'s options")
                    for o in _list(raw.get("options"), f"{where}'s options")
                ],
                id=_text(raw.get("id"), f"{where}'s id") or f"in{number}",
            )
            inputs.append(form_input)
            if raw.get("maps_to"):  # stored before mappings existed
                target = _text(raw["maps_to"], f"{where}'s field")
                mappings.append(FieldMapping(target, Source.INPUT, form_input.id))
        actions: dict[Interaction, list[ActionConfig]] = {}
        for key, configs in _object(data.get("actions"), "The actions").items():
            interaction = _choice(Interaction, key, "An interaction")
            if not configs:  # no actions: as ``to_dict`` writes it, so reading round-trips
                continue
            actions[interaction] = [
                ActionConfig(
                    type=_choice(
                        ActionType,
                        _required(a, "type", f"{interaction.label}, action {n}"),
                        f"{interaction.label}, action {n}'s type",
                    ),
                    params={
                        _text(k, "An action's parameter"): _text(v, f"Parameter {_shown(k)}")
                        for k, v in _object(a.get("params"), "An action's parameters").items()
                    },
                    on_error=_choice(
                        ErrorBehaviour,
                        a.get("on_error", ErrorBehaviour.STOP),
                        f"{interaction.label}, action {n}'s error behaviour",
                    ),
                    id=_text(a.get("id"), "An action's id") or f"{key}{n}",
                )
                for n, a in _objects(configs, f"The {interaction.label} actions")
            ]
        return cls(
            id=_prompt_id(data.get("id")),
            name=_text(data.get("name"), "The name"),
            prompt_type=_choice(
                PromptType, data.get("prompt_type", PromptType.MODAL), "The prompt type"
            ),
            headline=_text(data.get("headline"), "The headline"),
            body=_text(data.get("body"), "The body"),
            accept_label=_text(data.get("accept_label"), "The accept button"),
            secondary_label=_text(data.get("secondary_label"), "The secondary button"),
            decline_label=_text(data.get("decline_label"), "The decline button"),
            timeout_seconds=_whole(data.get("timeout_seconds"), "The timeout"),
            inputs=inputs,
            mappings=mappings,
            actions=actions,
        )


def check_runnable(prompt: Prompt, interaction: Interaction) -> None:
    """Raise ``InputError`` when ``prompt`` (a stored definition, as read) can't run
    ``interaction``; its sentence names the prompt, the action (position and label) and the
    field. Checked before anything is sent: each action of the interaction has every parameter
    its type requires, with an ActiveCampaign id (ASCII digits, at most 20) and a name without
    control characters; and the whole prompt passes the editor's own validation
    (``Prompt.validate``), since a definition stored by hand or by an older version may not."""
    from connector.ac.actions import REGISTRY

    named = f"Prompt “{_shown(prompt.name.strip() or f'#{prompt.id}')}”"
    for position, config in enumerate(prompt.actions_for(interaction), start=1):
        spec = REGISTRY[config.type]
        missing = [p for p in spec.params if not config.params.get(p.id_key)]
        if missing:
            wanted = " or ".join(p.label.lower() for p in missing)
            problem = f"has no {wanted}: choose one in the editor."
        else:
            problem = _target_problem(config)
        if problem:
            raise InputError(
                f"{named}: {interaction.label}, action {position} ({spec.label}) {problem}",
                field=f"{interaction.value}_{position}",
            )
    try:
        prompt.validate()
    except InputError as error:
        raise InputError(f"{named}: {error.message}", field=error.field) from None


def _target_problem(config: ActionConfig) -> str:
    """What is wrong with the targets an action names (a phrase after "action N (Label)"),
    or "": ids must be ActiveCampaign ids, names printable."""
    from connector.ac.actions import REGISTRY

    for param in REGISTRY[config.type].params:
        what = param.label.lower()
        target_id = config.params.get(param.id_key, "")
        if target_id and api_id(target_id) is None:
            return (
                f"has {what} id “{_shown(target_id)}”, which is not an ActiveCampaign id (digits "
                f"only, at most 20): choose the {what} again in the editor."
            )
        name = config.params.get(param.name_key, "")
        odd = next((c for c in name if unicodedata.category(c) in ("Cc", "Cs")), None)
        if odd is not None:
            return (
                f"has a {what} name holding a control character (U+{ord(odd):04X}): choose the "
                f"{what} again in the editor."
            )
    return ""


# -- reading a stored definition ------------------------------------------------------------

_E = TypeVar("_E", bound=StrEnum)


def _shown(value: Any) -> str:
    """Something typed, as a message repeats it: one line, at most ``_SHOWN`` characters."""
    return clip(str(value), _SHOWN + 1)


def _unreadable(what: str) -> InputError:
    return InputError(
        f"The prompt definition can't be read: {what}. Fix it, or build the prompt again in the "
        "editor.",
        field="definition",
    )


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "text", bool: "true or false"}
    return names.get(type(value), "a number" if isinstance(value, int | float) else "null")


def _object(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _unreadable(f"{what} is {_kind(value)}, not an object")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _unreadable(f"{what} are {_kind(value)}, not a list")
    return value


def _objects(value: Any, what: str) -> list[tuple[int, dict[str, Any]]]:
    """The objects of list ``value``, numbered from 1."""
    items = _list(value, what)
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise _unreadable(f"{what}: item {number} is {_kind(item)}, not an object")
    return list(enumerate(items, start=1))


def _required(item: dict[str, Any], key: str, what: str) -> Any:
    if item.get(key) is None:
        raise _unreadable(f"{what} has no {key}")
    return item[key]


def _text(value: Any, what: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise _unreadable(f"{what} is {_kind(value)}, not text")


def _choice(kind: type[_E], value: Any, what: str) -> _E:
    try:
        return kind(value)
    except (ValueError, TypeError):
        allowed = ", ".join(member.value for member in kind)
        raise _unreadable(f"{what} “{_shown(value)}” is not one of: {allowed}") from None


def _whole(value: Any, what: str) -> int:
    """A whole number stored as a number or as digits ("" and null: 0)."""
    if value is None or value == "":
        return 0
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    elif isinstance(value, str) and len(value.strip()) <= 12:
        try:
            value = int(value.strip())
        except ValueError:
            pass
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**12:
        return value
    raise _unreadable(f"{what} “{_shown(value)}” is not a whole number")


def _prompt_id(value: Any) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value > 0):
        return value
    raise _unreadable(f"The id “{_shown(value)}” is not a prompt's id")
