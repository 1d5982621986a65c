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

__all__ = [
    "MAX_EMAIL",
    "FormCheck",
    "email_problem",
    "is_valid_email",
    "sample_form",
    "validate_form",
]

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


MAX_EMAIL = 254  # characters: the longest address a mail path can carry (RFC 5321)


def email_problem(value: object) -> str:
    """Nothing ("") when ``value`` is an email address that can be sent as a contact's email
    (surrounding spaces aside), else a sentence saying what is wrong and what to do. The one
    rule for every email: a form's email input and a user's ``email_address`` trait alike."""
    if value is None:
        return "No email was given: give one address, such as name@example.com."
    if not isinstance(value, str):
        kind = {list: "a list", dict: "an object", bool: "true or false"}.get(type(value))
        if kind is None:
            kind = "a number" if isinstance(value, int | float) else "no text"
        return f"The email is {kind}, not text: give one address, such as name@example.com."
    text = value.strip()
    odd = _unprintable(text) or next((c for c in text if c in "\t\n\r"), None)
    if odd is not None:
        return (
            f"The email holds a character that can't be sent (U+{ord(odd):04X}): type the "
            "address again without it."
        )
    if len(text) > MAX_EMAIL:
        return (
            f"The email has {len(text):,} characters; an address has at most {MAX_EMAIL}. "
            "Give the real address, such as name@example.com."
        )
    if _EMAIL.fullmatch(text) is None:
        return f"{_quoted(text)} is not an email address: use the form name@example.com."
    return ""


def is_valid_email(value: str) -> bool:
    return not email_problem(value)


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
        case InputKind.EMAIL if problem := email_problem(value):
            return problem
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


def sample_form(
    prompt: Prompt, email: str, typed: Mapping[int, str] | None = None
) -> dict[int, str]:
    """The form values a test ("Test this action", ``test-action``) submits: what the operator
    typed (``typed``, by input position; blanks left out), and the test's ``email`` in the input
    that fills the contact's email. Nothing is invented: an input the operator left blank is
    sent blank, so no contact field takes a value nobody chose."""
    email_input = next(
        (m.value for m in prompt.mappings if m.field == "email" and m.source is Source.INPUT), ""
    )
    values = {
        position: str(value)
        for position, value in (typed or {}).items()
        if 0 <= position < len(prompt.inputs) and str(value).strip()
    }
    for position, form_input in enumerate(prompt.inputs):
        if form_input.id == email_input:
            values[position] = email
    return values
