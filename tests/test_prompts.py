from __future__ import annotations

import json
import re

import pytest

from connector import (
    ActionConfig,
    ActionType,
    Database,
    ErrorBehaviour,
    FieldMapping,
    FormInput,
    InputError,
    InputKind,
    Interaction,
    Prompt,
    PromptStore,
    PromptType,
    Source,
    custom_field_target,
    validate_form,
)


def full_prompt(name: str = "Signup") -> Prompt:
    prompt = Prompt(
        name=name,
        prompt_type=PromptType.BOTTOM_BANNER,
        headline="Hi",
        body="Join",
        secondary_label="More",
        timeout_seconds=15,
        actions={
            Interaction.ACCEPT: [
                ActionConfig(ActionType.ADD_CONTACT),
                ActionConfig(ActionType.ADD_TO_LIST, {"list_id": "3", "list_name": "News"}),
            ],
            Interaction.TIMEOUT: [
                ActionConfig(
                    ActionType.ADD_TO_AUTOMATION,
                    {"automation_id": "2", "automation_name": "Nurture"},
                    ErrorBehaviour.CONTINUE,
                )
            ],
        },
    )
    prompt.map_input(FormInput("Email", "you@x.io", InputKind.EMAIL, True), "email")
    prompt.map_input(FormInput("Company"), custom_field_target("4"))
    prompt.mappings.append(FieldMapping("lastName", Source.TRAIT, "surname"))
    return prompt


def test_round_trip_through_storage(tmp_path) -> None:
    store = PromptStore(Database(tmp_path / "c.db"))
    saved = store.save(full_prompt())
    assert saved.id is not None
    loaded = store.get(saved.id)
    assert loaded == saved
    assert loaded.mapping_for(custom_field_target("4")).value == loaded.inputs[1].id
    assert loaded.actions_for(Interaction.TIMEOUT)[0].on_error is ErrorBehaviour.CONTINUE


def test_update_duplicate_delete(tmp_path) -> None:
    store = PromptStore(Database(tmp_path / "c.db"))
    saved = store.save(full_prompt())
    saved.headline = "Changed"
    store.save(saved)
    assert store.get(saved.id).headline == "Changed"
    copy = store.duplicate(saved.id)
    again = store.duplicate(saved.id)
    assert (copy.name, again.name) == ("Signup (copy)", "Signup (copy 2)")
    assert copy.actions == saved.actions and copy.id != saved.id
    store.delete(saved.id)
    assert store.get(saved.id) is None
    assert sorted(p.name for p in store.all()) == ["Signup (copy 2)", "Signup (copy)"]


def test_names_are_unique(tmp_path) -> None:
    store = PromptStore(Database(tmp_path / "c.db"))
    store.save(full_prompt("Same"))
    with pytest.raises(InputError, match="already exists"):
        store.save(full_prompt("Same"))


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda p: setattr(p, "name", "  "), "Give the prompt a name"),
        (lambda p: p.inputs.extend([FormInput("A"), FormInput("B")]), "at most 3"),
        (lambda p: setattr(p.inputs[1], "label", ""), "needs a label"),
        (lambda p: setattr(p.mappings[1], "field", "email"), "Email is filled twice"),
        (lambda p: setattr(p.inputs[0], "kind", InputKind.TEXT), "must be Email"),
        (lambda p: setattr(p.mappings[1], "field", "nickname"), "“nickname” is not a contact"),
        (lambda p: setattr(p, "timeout_seconds", 99999), "between 0 (no countdown) and 3600"),
        (lambda p: setattr(p.mappings[2], "value", " "), "Last name takes a trait: name it"),
        (lambda p: p.inputs.pop(1), "takes a form input that no longer exists"),
        (
            lambda p: setattr(p.mappings[0], "source", Source.FIXED),
            "Email can't be a fixed value",
        ),
        (
            lambda p: setattr(p.inputs[1], "kind", InputKind.CHOICE),
            "is a choice but offers no options",
        ),
        (
            lambda p: p.actions[Interaction.ACCEPT].append(ActionConfig(ActionType.ADD_TO_LIST)),
            "Accept, action 3 (Add to List): choose a list",
        ),
        (
            lambda p: p.actions[Interaction.ACCEPT].append(
                ActionConfig(ActionType.ADD_TO_LIST, dict(p.actions[Interaction.ACCEPT][1].params))
            ),
            "Accept: actions 2 and 3 are both Add to List on “News”",
        ),
        (
            lambda p: p.actions[Interaction.ACCEPT].append(ActionConfig(ActionType.ADD_CONTACT)),
            "Accept: actions 1 and 3 are both Add Contact. Remove one",
        ),
    ],
)
def test_invalid_definitions_are_refused_with_the_reason(change, says) -> None:
    prompt = full_prompt()
    change(prompt)
    with pytest.raises(InputError, match=re.escape(says)):
        prompt.validate()


def test_form_validation_reports_each_bad_field() -> None:
    inputs = [
        FormInput("Email", kind=InputKind.EMAIL, required=True),
        FormInput("Phone", kind=InputKind.PHONE),
        FormInput("Seats", kind=InputKind.NUMBER),
    ]
    bad = validate_form(inputs, {0: "not-an-email", 1: "call me", 2: "many"})
    assert set(bad.errors) == {0, 1, 2}
    assert "not an email address" in bad.errors[0]
    assert "not a phone number" in bad.errors[1]
    assert "not a number" in bad.errors[2]

    missing = validate_form(inputs, {})
    assert missing.errors == {0: "Email is required."}

    good = validate_form(inputs, {0: "  Ada@Example.COM ", 1: "+1 (555) 010-0199", 2: "1,200"})
    assert good.ok and good.values[0] == "ada@example.com"


def test_warnings_name_actions_that_can_never_run() -> None:
    prompt = full_prompt()
    prompt.timeout_seconds = 0
    prompt.secondary_label = ""
    prompt.actions[Interaction.SECONDARY_ACCEPT] = [ActionConfig(ActionType.ADD_CONTACT)]
    warnings = prompt.warnings()
    assert any(w.startswith("Timeout has actions") for w in warnings)
    assert any(w.startswith("Secondary Accept has actions") for w in warnings)
    assert full_prompt().warnings() == []


def test_warnings_say_when_the_email_must_come_from_a_trait() -> None:
    prompt = full_prompt()
    prompt.mappings = [m for m in prompt.mappings if m.field != "email"]
    assert any("email_address trait" in w for w in prompt.warnings())


def test_names_that_differ_only_by_case_or_spaces_are_the_same_name(tmp_path) -> None:
    store = PromptStore(Database(tmp_path / "c.db"))
    saved = store.save(full_prompt("  Newsletter signup  "))
    assert saved.name == "Newsletter signup" and store.get(saved.id).name == "Newsletter signup"
    for same in ("newsletter signup", " NEWSLETTER   Signup", "Newsletter signup\t"):
        with pytest.raises(InputError, match="“Newsletter signup” already exists"):
            store.save(full_prompt(same))
    assert [p.name for p in store.all()] == ["Newsletter signup"]
    copy = store.duplicate(saved.id)
    assert copy.name == "Newsletter signup (copy)"


def test_older_names_that_clash_by_case_are_kept_apart_by_the_migration(tmp_path) -> None:
    import sqlite3

    path = tmp_path / "old.db"
    raw = sqlite3.connect(path)
    raw.execute(
        "CREATE TABLE prompts (id INTEGER PRIMARY KEY, name TEXT, prompt_type TEXT, "
        "definition TEXT, created_at TEXT, updated_at TEXT)"
    )
    raw.execute("CREATE UNIQUE INDEX idx_prompts_name ON prompts (name)")
    definition = json.dumps({k: v for k, v in full_prompt().to_dict().items() if k != "id"})
    for name in ("Signup", " signup "):
        raw.execute(
            "INSERT INTO prompts (name, prompt_type, definition, created_at, updated_at) "
            "VALUES (?, 'modal', ?, '', '')",
            [name, definition],
        )
    raw.execute(
        "CREATE TABLE _sqlite_migrations (id INTEGER PRIMARY KEY, migration_set TEXT, name TEXT, "
        "applied_at TEXT)"
    )
    raw.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES "
        "('connector', 'm002_prompts', '')"
    )
    raw.commit()
    raw.close()
    store = PromptStore(Database(path))
    assert sorted(p.name for p in store.all()) == ["Signup", "signup (2)"]


# -- one rule for every email (issue 13) -------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (["a@example.com"], "The email is a list, not text"),
        ({"email": "a@example.com"}, "The email is an object, not text"),
        (42, "The email is a number, not text"),
        (True, "The email is true or false, not text"),
        (None, "No email was given"),
        ("x\x01y@example.com", "can't be sent (U+0001)"),
        ("x\ny@example.com", "can't be sent (U+000A)"),
        ("a\u202e@example.com", "can't be sent (U+202E)"),
        ("a" * 5000 + "@example.com", "has 5,012 characters; an address has at most 254"),
        ("not-an-email", "“not-an-email” is not an email address: use the form name@example.com"),
        ("", "is not an email address"),
        ("a@b", "is not an email address"),
    ],
)
def test_email_problem_refuses_what_is_no_email_and_says_what_to_do(value, says: str) -> None:
    from connector.engage.forms import email_problem

    problem = email_problem(value)
    assert says in problem and problem.endswith(".") and len(problem) < 200
    assert "\x01" not in problem and "\n" not in problem


@pytest.mark.parametrize("value", ["ada@example.com", " Ada@Example.COM ", "a.b+c@sub.example.io"])
def test_email_problem_accepts_an_address(value: str) -> None:
    from connector.engage.forms import email_problem

    assert email_problem(value) == ""


@pytest.mark.parametrize("value", ["x\x01y@example.com", "a" * 300 + "@example.com", "nope"])
def test_the_form_and_the_traits_share_one_email_rule(value: str) -> None:
    from connector.engage.forms import email_problem

    check = validate_form([FormInput("Email", kind=InputKind.EMAIL)], {0: value})
    assert check.errors[0] == email_problem(value.strip().lower())
