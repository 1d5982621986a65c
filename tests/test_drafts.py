"""The editor's model, without Streamlit: rows keyed by stable ids, one function from the
widget values to the Prompt, invalid values refused at Save."""

from __future__ import annotations

import pytest
from test_prompts import full_prompt

from connector import ActionType, InputError, Interaction
from connector.engage.drafts import Draft, action_values, build, values_of


def test_a_stored_prompt_comes_back_unchanged_from_its_values() -> None:
    prompt = full_prompt()
    prompt.id = 7
    draft, values = values_of(prompt, "p7")
    assert build(draft, values) == prompt
    assert all(key.startswith("p7.") for key in values)


def test_moving_a_row_moves_its_values_with_it() -> None:
    prompt = full_prompt()
    draft, values = values_of(prompt, "p1")
    tag = draft.add_action(Interaction.ACCEPT, ActionType.ADD_TAG)
    values[draft.k("act", tag, "tag")] = "9"
    draft.move_action(Interaction.ACCEPT, tag, -1)  # above Add to List
    built = build(draft, values, {"tags": {"9": "VIP"}})
    kinds = [
        (a.type, a.params.get("tag_id") or a.params.get("list_id"))
        for a in built.actions[Interaction.ACCEPT]
    ]
    assert kinds == [
        (ActionType.ADD_CONTACT, None),
        (ActionType.ADD_TAG, "9"),
        (ActionType.ADD_TO_LIST, "3"),
    ]
    assert built.actions[Interaction.ACCEPT][1].params["tag_name"] == "VIP"


def test_add_contact_stays_first() -> None:
    draft = Draft("new")
    listed = draft.add_action(Interaction.ACCEPT, ActionType.ADD_TO_LIST)
    sync = draft.add_action(Interaction.ACCEPT, ActionType.ADD_CONTACT)
    assert [row for row, _ in draft.actions[Interaction.ACCEPT]] == [sync, listed]
    assert not draft.can_move(Interaction.ACCEPT, listed, -1)  # nothing goes above it
    draft.move_action(Interaction.ACCEPT, listed, -1)
    assert [row for row, _ in draft.actions[Interaction.ACCEPT]] == [sync, listed]


@pytest.mark.parametrize(
    ("timeout", "says"),
    [
        (99999, "between 0 (no countdown) and 3600 seconds, not 99999"),
        (-5, "between 0"),
        (2.5, "whole number of seconds, not “2.5”"),
        ("soon", "whole number of seconds, not “soon”"),
    ],
)
def test_an_invalid_timeout_is_an_error_never_a_silent_revert(timeout, says: str) -> None:
    draft, values = values_of(full_prompt(), "p1")
    values[draft.k("timeout")] = timeout
    with pytest.raises(InputError) as caught:
        build(draft, values)
    assert says in caught.value.message and caught.value.field == "timeout_seconds"


def test_a_target_the_catalog_does_not_know_keeps_its_stored_name() -> None:
    prompt = full_prompt()
    draft, values = values_of(prompt, "p1")
    built = build(draft, values, names={"lists": {}})  # e.g. the catalog was never fetched
    assert built.actions[Interaction.ACCEPT][1].params["list_name"] == "News"


def test_action_values_round_trip_options_and_error_behaviour() -> None:
    prompt = full_prompt()
    enroll = prompt.actions[Interaction.TIMEOUT][0]
    enroll.params["allow_reentry"] = "1"
    draft, _ = values_of(prompt, "p1")
    values = action_values(draft, enroll)
    assert values[draft.k("act", enroll.id, "allow_reentry")] is True
    assert values[draft.k("act", enroll.id, "on_error")] == "continue"


def test_inputs_and_fixed_values_fit_the_fields_they_fill() -> None:
    from connector import FieldMapping, InputKind, Source
    from connector.core.models import Field

    fields = {
        "4": Field("4", "Plan", "dropdown", "PLAN", ("Free", "Pro")),
        "6": Field("6", "Start", "date", "START"),
        "5": Field("5", "Interests", "checkbox", "INTERESTS", ("News", "Beta")),
    }
    prompt = full_prompt()
    prompt.mappings += [
        FieldMapping("field:6", Source.FIXED, "2026-02-01"),
        FieldMapping("field:5", Source.FIXED, "Beta"),
    ]
    draft, values = values_of(prompt, "p1")
    built = build(draft, values, fields=fields)
    plan_input = built.inputs[1]  # mapped to field:4 (Plan)
    assert (plan_input.kind, plan_input.options) == (InputKind.CHOICE, ["Free", "Pro"])
    assert built.mapping_for("field:5").multiple is True
    bad = next(r for r in draft.mappings if values[draft.k("map", r, "field")] == "field:5")
    values[draft.k("map", bad, "value")] = "Gold"
    with pytest.raises(InputError, match="Interests takes one of News, Beta, not “Gold”"):
        build(draft, values, fields=fields)


def test_the_catalog_warns_of_reentry_an_automation_refuses() -> None:
    from connector.core.models import Automation
    from connector.engage.drafts import catalog_warnings

    prompt = full_prompt()
    prompt.actions[Interaction.TIMEOUT][0].params["allow_reentry"] = "1"
    once = {"2": Automation("2", "Nurture", True, 0, False)}
    warnings = catalog_warnings(prompt, once)
    assert len(warnings) == 1 and "Re-entry: Once" in warnings[0]
    assert catalog_warnings(prompt, {"2": Automation("2", "Nurture", True, 0, True)}) == []
