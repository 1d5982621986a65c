"""Validation of what a user typed into a prompt's form inputs, before anything is sent."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date

from .models import InputKind
from .prompts import FormInput, Prompt, Source

__all__ = ["FormCheck", "is_valid_email", "sample_form", "validate_form"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
_PHONE_CHARS = re.compile(r"^\+?[\d\s().-]+$")


def is_valid_email(value: str) -> bool:
    return bool(_EMAIL.match(value)) and len(value) <= 254


def _quoted(value: str) -> str:
    return f"“{value[:60]}…”" if len(value) > 60 else f"“{value}”"


def _problem(form_input: FormInput, value: str) -> str:
    if not value:
        return f"{form_input.label} is required." if form_input.required else ""
    match form_input.kind:
        case InputKind.EMAIL if not is_valid_email(value):
            return f"{_quoted(value)} is not an email address: use the form name@example.com."
        case InputKind.PHONE if not _PHONE_CHARS.match(value) or not (
            7 <= sum(ch.isdigit() for ch in value) <= 15
        ):
            return (
                f"{_quoted(value)} is not a phone number: use 7 to 15 digits, e.g. +1 555 010 0199."
            )
        case InputKind.NUMBER:
            try:
                float(value.replace(",", ""))
            except ValueError:
                return f"{_quoted(value)} is not a number: use digits, e.g. 42 or 3.5."
        case InputKind.DATE:
            try:
                date.fromisoformat(value)
            except ValueError:
                return f"{_quoted(value)} is not a date: use YYYY-MM-DD, e.g. 2026-01-31."
        case InputKind.CHOICE if _option(form_input, value) is None:
            offered = ", ".join(form_input.options)
            return f"{_quoted(value)} is not one of the options: {offered}."
    return ""


def _option(form_input: FormInput, value: str) -> str | None:
    """The option ``value`` names, spelled as the option is (case doesn't count)."""
    return next((o for o in form_input.options if o.casefold() == value.casefold()), None)


class FormCheck:
    """The cleaned values (trimmed, by input position) and the problems per input position."""

    def __init__(self, values: dict[int, str], errors: dict[int, str]) -> None:
        self.values = values
        self.errors = errors

    @property
    def ok(self) -> bool:
        return not self.errors


def validate_form(inputs: Sequence[FormInput], raw: Mapping[int, str]) -> FormCheck:
    values: dict[int, str] = {}
    errors: dict[int, str] = {}
    for position, form_input in enumerate(inputs):
        value = str(raw.get(position) or "").strip()
        if form_input.kind is InputKind.EMAIL:
            value = value.lower()
        elif form_input.kind is InputKind.CHOICE:
            value = _option(form_input, value) or value
        values[position] = value
        if problem := _problem(form_input, value):
            errors[position] = problem
    return FormCheck(values, errors)


def sample_form(prompt: Prompt, email: str) -> dict[int, str]:
    """Values a test user would type: the email where an input fills the email, else a value
    each input's validation accepts (its first option, today, its placeholder…)."""
    email_input = next(
        (m.value for m in prompt.mappings if m.field == "email" and m.source is Source.INPUT), ""
    )
    samples = {
        InputKind.EMAIL: email,
        InputKind.PHONE: "+1 555 010 0199",
        InputKind.NUMBER: "1",
        InputKind.DATE: date.today().isoformat(),
    }
    values = {}
    for position, form_input in enumerate(prompt.inputs):
        if form_input.id == email_input:
            values[position] = email
        elif form_input.kind is InputKind.CHOICE:
            values[position] = form_input.options[0] if form_input.options else ""
        else:
            values[position] = samples.get(form_input.kind) or form_input.placeholder or "Test"
    return values
