"""Prompt definitions (Engage's model) and their storage.

A prompt is what a user sees (type, headline, body, buttons, up to three form inputs) plus, for
each of the five interactions, an ordered list of actions. Definitions are stored as JSON in the
``prompts`` table so that adding a property never needs a migration.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from .db import Database
from .errors import InputError
from .models import ActionType, ErrorBehaviour, InputKind, Interaction, PromptType

__all__ = [
    "MAX_INPUTS",
    "name_key",
    "STANDARD_CONTACT_FIELDS",
    "ActionConfig",
    "FormInput",
    "Prompt",
    "PromptStore",
    "custom_field_target",
]

MAX_INPUTS = 3
STANDARD_CONTACT_FIELDS: dict[str, str] = {
    "email": "Email",
    "firstName": "First name",
    "lastName": "Last name",
    "phone": "Phone",
}
_CUSTOM_PREFIX = "field:"


def name_key(name: str) -> str:
    """What makes two prompt names the same: case and spacing don't count."""
    return " ".join(name.split()).casefold()


def custom_field_target(field_id: str) -> str:
    """The ``maps_to`` value for a custom field: v3 addresses custom fields by id, never name."""
    return f"{_CUSTOM_PREFIX}{field_id}"


@dataclass
class FormInput:
    label: str
    placeholder: str = ""
    kind: InputKind = InputKind.TEXT
    required: bool = False
    # "" (not sent), a key of STANDARD_CONTACT_FIELDS, or custom_field_target(id)
    maps_to: str = ""

    @property
    def custom_field_id(self) -> str | None:
        return self.maps_to.removeprefix(_CUSTOM_PREFIX) if self.is_custom else None

    @property
    def is_custom(self) -> bool:
        return self.maps_to.startswith(_CUSTOM_PREFIX)


@dataclass
class ActionConfig:
    type: ActionType
    # Target ids and their names as chosen from the catalog, e.g. {"list_id": "3",
    # "list_name": "Newsletter"}; names are kept so the log and pages read well offline.
    params: dict[str, str] = field(default_factory=dict)
    on_error: ErrorBehaviour = ErrorBehaviour.STOP


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
    actions: dict[Interaction, list[ActionConfig]] = field(default_factory=dict)
    id: int | None = None

    def actions_for(self, interaction: Interaction) -> list[ActionConfig]:
        return self.actions.get(interaction, [])

    @property
    def action_count(self) -> int:
        return sum(len(v) for v in self.actions.values())

    def validate(self) -> None:
        """Raise ``InputError`` naming the first thing that makes this prompt unusable."""
        if not self.name.strip():
            raise InputError("Give the prompt a name.", field="name")
        if len(self.inputs) > MAX_INPUTS:
            raise InputError(f"A prompt has at most {MAX_INPUTS} form inputs.", field="inputs")
        if self.timeout_seconds < 0:
            raise InputError("The timeout can't be negative.", field="timeout_seconds")
        seen: set[str] = set()
        for number, form_input in enumerate(self.inputs, start=1):
            if not form_input.label.strip():
                raise InputError(f"Form input {number} needs a label.", field=f"input_{number}")
            target = form_input.maps_to
            if target and target in seen:
                raise InputError(
                    f"Two form inputs map to the same contact field ({target}); "
                    "each field can be filled by one input only.",
                    field=f"input_{number}",
                )
            if target and target not in STANDARD_CONTACT_FIELDS and not form_input.is_custom:
                raise InputError(
                    f"Form input “{form_input.label}” maps to an unknown field “{target}”.",
                    field=f"input_{number}",
                )
            if target == "email" and form_input.kind is not InputKind.EMAIL:
                raise InputError(
                    f"Form input “{form_input.label}” fills the email, so its validation must "
                    "be Email.",
                    field=f"input_{number}",
                )
            seen.add(target)
        from .actions import REGISTRY  # the registry knows each action's required parameters

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
                target_id, target_name = spec.target(config.params)
                earlier = first_at.setdefault((config.type, target_id), position)
                if earlier != position:
                    on = f" on “{target_name or target_id}”" if target_id else ""
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
        has_email_input = any(i.maps_to == "email" for i in self.inputs)
        if self.action_count and not has_email_input:
            found.append(
                "No form input fills the email, so the actions rely on the user's "
                "email_address trait; users without it are skipped."
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
    def from_dict(cls, data: dict[str, Any]) -> Prompt:
        return cls(
            id=data.get("id"),
            name=str(data.get("name", "")),
            prompt_type=PromptType(data.get("prompt_type", PromptType.MODAL)),
            headline=str(data.get("headline", "")),
            body=str(data.get("body", "")),
            accept_label=str(data.get("accept_label", "")),
            secondary_label=str(data.get("secondary_label", "")),
            decline_label=str(data.get("decline_label", "")),
            timeout_seconds=int(data.get("timeout_seconds") or 0),
            inputs=[
                FormInput(
                    label=str(i.get("label", "")),
                    placeholder=str(i.get("placeholder", "")),
                    kind=InputKind(i.get("kind", InputKind.TEXT)),
                    required=bool(i.get("required", False)),
                    maps_to=str(i.get("maps_to", "")),
                )
                for i in data.get("inputs") or []
            ],
            actions={
                Interaction(key): [
                    ActionConfig(
                        type=ActionType(a["type"]),
                        params={k: str(v) for k, v in (a.get("params") or {}).items()},
                        on_error=ErrorBehaviour(a.get("on_error", ErrorBehaviour.STOP)),
                    )
                    for a in configs
                ]
                for key, configs in (data.get("actions") or {}).items()
            },
        )


class PromptStore:
    """Prompts in the console database. Thread-safe."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def all(self) -> list[Prompt]:
        with self._db.read() as conn:
            rows = list(conn.table("prompts").rows_where(order_by="name collate nocase"))
        return [self._from_row(r) for r in rows]

    def get(self, prompt_id: int) -> Prompt | None:
        with self._db.read() as conn:
            rows = list(conn.table("prompts").rows_where("id = ?", [prompt_id]))
        return self._from_row(rows[0]) if rows else None

    def save(self, prompt: Prompt) -> Prompt:
        """Insert or update after validation; returns the prompt with its id."""
        row = self._row(prompt)
        try:
            with self._db.write() as conn:
                if prompt.id is None:
                    prompt.id = self._insert(conn, row)
                else:
                    conn.table("prompts").update(prompt.id, row)
        except sqlite3.IntegrityError:
            with self._db.read() as conn:
                found = conn.execute(
                    "SELECT name FROM prompts WHERE name_key = ?", [row["name_key"]]
                ).fetchone()
            same = f"“{found[0]}”" if found else f"“{row['name']}”"
            raise InputError(
                f"A prompt named {same} already exists (names are compared without case or "
                "extra spaces). Choose another name.",
                field="name",
            ) from None
        prompt.name = row["name"]
        return prompt

    def seed_once(self, prompts: list[Prompt], marker: str) -> bool:
        """Store ``prompts`` unless ``marker`` is set in the settings or a prompt exists, and set
        ``marker``: one transaction, so processes starting together seed once. Returns whether
        this call stored them."""
        rows = [self._row(prompt) for prompt in prompts]
        with self._db.write() as conn:
            now = datetime.now(UTC).isoformat(timespec="seconds")
            marked = conn.execute(
                "INSERT OR IGNORE INTO settings (key, value, updated_at) VALUES (?, '1', ?)",
                [marker, now],
            ).rowcount
            if not marked or conn.execute("SELECT count(*) FROM prompts").fetchone()[0]:
                return False
            for prompt, row in zip(prompts, rows, strict=True):
                prompt.id = self._insert(conn, row)
        return True

    @staticmethod
    def _row(prompt: Prompt) -> dict[str, Any]:
        prompt.validate()
        data = prompt.to_dict()
        data.pop("id", None)
        data["name"] = prompt.name.strip()
        return {
            "name": prompt.name.strip(),
            "name_key": name_key(prompt.name),
            "prompt_type": prompt.prompt_type.value,
            "definition": json.dumps(data),
            "updated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }

    @staticmethod
    def _insert(conn: Any, row: dict[str, Any]) -> int:
        row = {**row, "created_at": row["updated_at"]}
        cursor = conn.execute(
            f"INSERT INTO prompts ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            list(row.values()),
        )
        return int(cursor.lastrowid or 0)

    def delete(self, prompt_id: int) -> None:
        with self._db.write() as conn:
            conn.execute("DELETE FROM prompts WHERE id = ?", [prompt_id])

    def duplicate(self, prompt_id: int) -> Prompt:
        original = self.get(prompt_id)
        if original is None:
            raise InputError("That prompt no longer exists.", field="id")
        taken = {name_key(p.name) for p in self.all()}
        copy = Prompt.from_dict({**original.to_dict(), "id": None})
        copy.name = next(
            name
            for n in range(1, 1000)
            if name_key(name := f"{original.name} (copy{'' if n == 1 else f' {n}'})") not in taken
        )
        return self.save(copy)

    @staticmethod
    def _from_row(row: dict[str, Any]) -> Prompt:
        # The column is the name's truth: a migration may have renamed it.
        return Prompt.from_dict(
            {**json.loads(row["definition"]), "id": row["id"], "name": row["name"]}
        )
