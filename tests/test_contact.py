"""What a run sends as the contact: each field's value from its mapping, then Engage's trait
defaults; and what a form accepts (dates, choices)."""

from __future__ import annotations

from connector import (
    FieldMapping,
    FormInput,
    InputKind,
    Prompt,
    SimulatedUser,
    Source,
    custom_field_target,
    validate_form,
)
from connector.engage.contact import contact_payload, mapping_rows


def signup() -> Prompt:
    prompt = Prompt(name="Signup")
    prompt.map_input(FormInput("Email", kind=InputKind.EMAIL, required=True), "email")
    plan = FormInput("Plan", kind=InputKind.CHOICE, options=["Free", "Pro"])
    prompt.map_input(plan, custom_field_target("2"))
    prompt.mappings += [
        FieldMapping("lastName", Source.TRAIT, "surname"),
        FieldMapping(custom_field_target("1"), Source.FIXED, "Acme"),
        FieldMapping(custom_field_target("5"), Source.FIXED, "Webinars", multiple=True),
    ]
    return prompt


def test_each_field_takes_its_value_from_its_source() -> None:
    user = SimulatedUser("u1", {"surname": "Lovelace", "first_name": "Ada"})
    sent = contact_payload(signup(), {0: "Ada@Example.com", 1: "Pro"}, user)
    assert sent == {
        "email": "ada@example.com",
        "firstName": "Ada",  # no mapping: Engage's first_name trait
        "lastName": "Lovelace",  # mapped to the surname trait
        "fieldValues": [
            {"field": "2", "value": "Pro"},
            {"field": "1", "value": "Acme"},
            {"field": "5", "value": "||Webinars||"},  # a multi-value field's form
        ],
    }


def test_without_the_form_inputs_give_nothing_and_the_traits_fill_in() -> None:
    user = SimulatedUser("u1", {"email_address": "Trait@X.io"})
    sent = contact_payload(signup(), None, user)  # e.g. Decline: the form is not submitted
    assert sent["email"] == "trait@x.io"
    assert {"field": "2", "value": "Pro"} not in sent["fieldValues"]


def test_choices_and_dates_are_checked_before_anything_is_sent() -> None:
    inputs = [
        FormInput("Plan", kind=InputKind.CHOICE, options=["Free", "Pro"]),
        FormInput("Start", kind=InputKind.DATE),
    ]
    good = validate_form(inputs, {0: " pro ", 1: "2026-01-31"})
    assert good.ok and good.values == {0: "Pro", 1: "2026-01-31"}  # spelled as the option is
    bad = validate_form(inputs, {0: "Platinum", 1: "31/01/2026"})
    assert bad.errors == {
        0: "“Platinum” is not one of the options: Free, Pro.",
        1: "“31/01/2026” is not a date: use YYYY-MM-DD, e.g. 2026-01-31.",
    }


def test_a_long_value_is_not_repeated_whole() -> None:
    check = validate_form([FormInput("Email", kind=InputKind.EMAIL)], {0: "x" * 100_000})
    assert len(check.errors[0]) < 200


def test_prompts_stored_before_mappings_keep_what_their_inputs_filled() -> None:
    old = {
        "name": "Old",
        "inputs": [
            {"label": "Email", "kind": "email", "required": True, "maps_to": "email"},
            {"label": "Company", "maps_to": "field:1"},
        ],
    }
    prompt = Prompt.from_dict(old)
    assert [(m.field, m.source, m.value) for m in prompt.mappings] == [
        ("email", Source.INPUT, "in1"),
        ("field:1", Source.INPUT, "in2"),
    ]
    prompt.validate()
    assert Prompt.from_dict(prompt.to_dict()) == prompt


def test_the_mapping_table_shows_every_source_and_the_trait_defaults() -> None:
    rows = mapping_rows(signup(), {"field:1": "Company", "field:2": "Plan", "field:5": "Interests"})
    table = [(r.field, r.source.split(" (")[0], r.example) for r in rows]
    assert table == [
        ("Email", "Form input “Email”", "what the user types"),
        ("Plan", "Form input “Plan”", "what the user types"),
        ("Last name", "Trait surname", "the user's surname"),
        ("Company", "Fixed value", "Acme"),
        ("Interests", "Fixed value", "||Webinars||"),
        ("Email", "Trait email_address", "ada@example.com"),
        ("First name", "Trait first_name", "the user's first_name"),
    ]
