"""Validation of what a user typed into a prompt's form inputs, before anything is sent."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date

from connector.core.errors import clip
from connector.core.models import InputKind
from connector.engage.prompts import FormInput, Prompt, Source

__all__ = ["FormCheck", "is_valid_email", "sample_form", "validate_form"]

# An address as people type it: a local part without spaces, quotes, brackets or separators
# (``"(),:;<>[]\``), then a domain of letters, digits and hyphens in dot-separated labels. Not
# RFC 5322 in full (quoted local parts are refused): what a sign-up form should take.
_LABEL = r"[^\W_](?:[^\W_]|-)*"
_EMAIL = re.compile(rf"[^@\s\"(),:;<>\[\]\\]+@(?:{_LABEL}\.)+{_LABEL}")
_PHONE_CHARS = re.compile(r"\+?[0-9 ().-]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SHOWN = 60  # characters of what was typed an error repeats
_OPTIONS_SHOWN = 5  # options a refused choice lists


def is_valid_email(value: str) -> bool:
    return len(value) <= 254 and _EMAIL.fullmatch(value) is not None and _unprintable(value) is None


# Characters no address or number holds: controls (a NUL, an escape), format characters (a bidi
# override that makes an address read backwards), private-use and unassigned code points, and
# half a surrogate pair (it can't even be stored).
_UNPRINTABLE = ("Cc", "Cf", "Cs", "Co", "Cn")
# What free text may not hold: controls other than tab and line breaks, and half surrogates.
# (Format characters stay: joiners shape emoji and Persian words.)
_UNSENDABLE = ("Cc", "Cs")


def _unprintable(value: str, categories: tuple[str, ...] = _UNPRINTABLE) -> str | None:
    """The first character of ``value`` in one of ``categories`` (tab and line breaks aside)."""
    return next(
        (c for c in value if c not in "\t\n\r" and unicodedata.category(c) in categories), None
    )


def _quoted(value: str) -> str:
    """What was typed, as an error repeats it: on one line, never more than ``_SHOWN``."""
    return f"“{clip(value, _SHOWN + 1)}”"


def _offered(form_input: FormInput) -> str:
    options = [clip(o, 40) for o in form_input.options[:_OPTIONS_SHOWN]]
    more = len(form_input.options) - _OPTIONS_SHOWN
    return ", ".join(options) + (f" and {more} more" if more > 0 else "")


def _problem(form_input: FormInput, value: str) -> str:
    label = clip(form_input.label.strip(), 40) or "This input"
    if not value:
        return f"{label} is required." if form_input.required else ""
    if form_input.kind is InputKind.TEXT:
        odd = _unprintable(value, _UNSENDABLE)
        if odd is not None:
            return (
                f"{label} holds a character that can't be sent (U+{ord(odd):04X}): type it "
                "again without it."
            )
        return ""
    match form_input.kind:
        case InputKind.EMAIL if not is_valid_email(value):
            return f"{_quoted(value)} is not an email address: use the form name@example.com."
        case InputKind.PHONE if not _PHONE_CHARS.fullmatch(value) or not (
            7 <= sum(ch in "0123456789" for ch in value) <= 15
        ):
            return (
                f"{_quoted(value)} is not a phone number: use 7 to 15 digits, e.g. +1 555 010 0199."
            )
        case InputKind.NUMBER if not _is_number(value):
            return f"{_quoted(value)} is not a number: use digits, e.g. 42 or 3.5."
        case InputKind.DATE if not _is_date(value):
            return f"{_quoted(value)} is not a date: use YYYY-MM-DD, e.g. 2026-01-31."
        case InputKind.CHOICE if _option(form_input, value) is None:
            return f"{_quoted(value)} is not one of the options: {_offered(form_input)}."
    return ""


def _is_number(value: str) -> bool:
    """Digits as people write them (``1,200``, ``-3.5``, ``2e3``), finite: not ``nan``,
    ``inf``, ``1_000``, other scripts' digits, or a number too big for a float."""
    plain = value.replace(",", "")
    return _NUMBER.fullmatch(plain) is not None and math.isfinite(float(plain))


def _is_date(value: str) -> bool:
    """``YYYY-MM-DD``, a real day. (``date.fromisoformat`` alone also takes ``20260131`` and
    week dates like ``2026-W05-6``, which ActiveCampaign's date fields don't.)"""
    if _DATE.fullmatch(value) is None:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


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
