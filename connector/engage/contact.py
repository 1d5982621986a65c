"""What a run sends as the contact: the value each contact field takes from its mapping.

For every mapping, the value comes from its source: the submitted form (only when the
interaction submits it), a user trait, or the fixed value. A field left without a value falls
back on Engage's traits: the email on ``email_address``, the names on ``first_name`` and
``last_name``. Custom fields go out as ``fieldValues`` by id; a field that takes several values
gets the API's ``||value||`` form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connector.core.records import SimulatedUser
from connector.engage.prompts import (
    DEFAULT_TRAITS,
    STANDARD_CONTACT_FIELDS,
    Prompt,
    Source,
    custom_field_id,
)

__all__ = ["MappingRow", "contact_payload", "field_values", "mapping_lines", "mapping_rows"]


def field_values(
    prompt: Prompt,
    submitted: Mapping[int, str] | None,
    user: SimulatedUser,
    *,
    defaults: bool = True,
) -> dict[str, str]:
    """Contact field -> the value this run sends for it ("" ones left out); ``defaults``
    False leaves out the trait defaults (the fields no mapping fills)."""
    by_input = {
        form_input.id: (submitted or {}).get(position, "")
        for position, form_input in enumerate(prompt.inputs)
    }
    values: dict[str, str] = {}
    for mapping in prompt.mappings:
        if mapping.source is Source.INPUT:
            value = by_input.get(mapping.value, "") if submitted is not None else ""
        elif mapping.source is Source.TRAIT:
            value = user.trait(mapping.value)
        else:
            value = mapping.value.strip()
        if value:
            wrapped = mapping.multiple and not value.startswith("||")
            values[mapping.field] = f"||{value}||" if wrapped else value
    for target, trait in DEFAULT_TRAITS.items() if defaults else ():
        if not values.get(target) and user.trait(trait):
            values[target] = user.trait(trait)
    if values.get("email"):
        values["email"] = values["email"].strip().lower()
    return values


def contact_payload(
    prompt: Prompt,
    submitted: Mapping[int, str] | None,
    user: SimulatedUser,
    *,
    defaults: bool = True,
) -> dict[str, Any]:
    """The ``/contact/sync`` body's ``contact``: standard fields, then ``fieldValues``.
    ``submitted`` is None when the interaction does not submit the form."""
    values = field_values(prompt, submitted, user, defaults=defaults)
    contact: dict[str, Any] = {k: values[k] for k in STANDARD_CONTACT_FIELDS if k in values}
    custom = [
        {"field": field_id, "value": value}
        for target, value in values.items()
        if (field_id := custom_field_id(target))
    ]
    if custom:
        contact["fieldValues"] = custom
    return contact


@dataclass(frozen=True)
class MappingRow:
    """One line of the mapping table: a contact field, where it takes its value, an example."""

    field: str  # the field's label
    source: str  # "Form input “Email” (Accept, Secondary Accept)", "Trait first_name"…
    example: str


def mapping_rows(
    prompt: Prompt,
    field_names: Mapping[str, str] | None = None,
    example: SimulatedUser | None = None,
) -> list[MappingRow]:
    """Every contact field the prompt fills, with its source, then the trait defaults that
    still apply; ``field_names`` names custom fields (``field:3`` -> "Plan")."""
    names = {**STANDARD_CONTACT_FIELDS, **(field_names or {})}
    sample = example or SimulatedUser("user-1024", {"email_address": "ada@example.com"})
    rows = []
    for mapping in prompt.mappings:
        label = names.get(mapping.field) or mapping.field_label
        if mapping.source is Source.INPUT:
            form_input = prompt.input_by_id(mapping.value)
            shown = form_input.label if form_input else "(removed)"
            source = f"Form input “{shown}” (sent by Accept and Secondary Accept)"
            value = (form_input.placeholder if form_input else "") or "what the user types"
        elif mapping.source is Source.TRAIT:
            source = f"Trait {mapping.value}"
            value = sample.trait(mapping.value) or f"the user's {mapping.value}"
        else:
            source, value = "Fixed value", mapping.value
        rows.append(MappingRow(label, source, f"||{value}||" if mapping.multiple else value))
    for target, trait in DEFAULT_TRAITS.items():
        mapped = prompt.mapping_for(target)
        if mapped is None or mapped.source is Source.INPUT:
            otherwise = "when the form isn't sent or is empty" if mapped else "by default"
            shown = sample.trait(trait) or f"the user's {trait}"
            rows.append(MappingRow(names[target], f"Trait {trait} ({otherwise})", shown))
    return rows


def mapping_lines(prompt: Prompt) -> list[str]:
    """The mapping table as text lines, for the command line."""
    return [f"{row.field} <- {row.source}" for row in mapping_rows(prompt)]
