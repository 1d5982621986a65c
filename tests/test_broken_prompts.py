"""One bad stored prompt never breaks the others (issue 13): a definition that can't be read or
run is refused alone, with a sentence naming the prompt and the field, before anything is sent."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from connector import ActionConfig, ActionType, InputError, Interaction, Prompt
from connector.engage.prompts import check_runnable
from connector.entry.console import Console

NEWSLETTER = "Newsletter signup"
BETA = "Beta program banner"


@pytest.fixture
def cli(cli: Callable[..., tuple[int, str, str]]) -> Callable[..., tuple[int, str, str]]:
    cli("prompts")  # seeds the demo prompts
    return cli


def store_raw(data_dir: Path, name: str, definition: str) -> None:
    """Write ``definition`` as the stored JSON of prompt ``name``, as a hand edit or an old
    version might have."""
    console = Console(data_dir / "connector.db")
    try:
        with console.db.write() as conn:
            changed = conn.execute(
                "UPDATE prompts SET definition = ? WHERE name = ?", [definition, name]
            ).rowcount
        assert changed == 1
    finally:
        console.close()


def edited(data_dir: Path, name: str, change: Any) -> str:
    console = Console(data_dir / "connector.db")
    try:
        prompt = next(p for p in console.prompts.all() if p.name == name)
    finally:
        console.close()
    data = prompt.to_dict()
    change(data)
    return json.dumps(data)


def _drop_list_id(data: dict[str, Any]) -> None:
    del data["actions"]["accept"][1]["params"]["list_id"]


def _fixed_email(data: dict[str, Any]) -> None:
    data["mappings"][0] = {"field": "email", "source": "fixed", "value": "same@example.com"}


def _bad_list_id(data: dict[str, Any]) -> None:
    data["actions"]["accept"][1]["params"]["list_id"] = "2\nX"


UNREADABLE = [
    ("not json", "{not json", "it is not JSON"),
    ("a list", "[]", "The definition is a list, not an object"),
    ("null", "null", "The definition is null, not an object"),
    ("a string", '"hello"', "The definition is text, not an object"),
    ("a wrong part", '{"inputs": 5}', "The form inputs are a number, not a list"),
]
INVALID = [
    ("no list_id", _drop_list_id, "Accept, action 2 (Add to List) has no list: choose one"),
    ("a fixed email", _fixed_email, "Email can't be a fixed value"),
    ("a list id that is no id", _bad_list_id, "not an ActiveCampaign id"),
]


@pytest.mark.parametrize(("what", "definition", "says"), UNREADABLE, ids=[u[0] for u in UNREADABLE])
def test_an_unreadable_definition_is_refused_alone(
    cli, data_dir: Path, what: str, definition: str, says: str
) -> None:
    store_raw(data_dir, BETA, definition)

    code, out, err = cli("prompts", "--json")
    listed = json.loads(out)
    assert code == 0 and [p["name"] for p in listed["prompts"]] == [NEWSLETTER]
    [broken] = listed["broken"]
    assert broken["name"] == BETA and broken["problem"].startswith(f"Prompt “{BETA}”: ")
    assert says in broken["problem"] and not broken["readable"]
    assert f"Prompt “{BETA}”" in err and "Traceback" not in err
    code, out, _ = cli("prompts")
    assert code == 0 and NEWSLETTER in out

    argv = ["simulate", "--interaction", "accept", "--input", "Email=ok@example.com"]
    code, out, err = cli(*argv, "--prompt", NEWSLETTER)
    assert code == 0 and "succeeded" in out  # the others keep working
    code, out, err = cli(*argv, "--prompt", BETA, "--trait", "email_address=b@example.com")
    said = err.splitlines()[-1]  # after the account's line
    assert code == 2 and not out and said.startswith(f"Prompt “{BETA}”: ") and says in said

    console = Console(data_dir / "connector.db")
    try:
        beta_id = console.prompts.broken()[0].id
        with pytest.raises(InputError, match=f"Prompt “{BETA}”"):
            console.prompts.get(beta_id)
        assert [p.name for p in console.prompts.all()] == [NEWSLETTER]
    finally:
        console.close()


@pytest.mark.parametrize(("what", "change", "says"), INVALID, ids=[i[0] for i in INVALID])
def test_a_definition_that_cannot_run_is_refused_before_anything_is_sent(
    cli, data_dir: Path, what: str, change: Any, says: str
) -> None:
    store_raw(data_dir, NEWSLETTER, edited(data_dir, NEWSLETTER, change))

    code, out, err = cli("prompts", "--json")
    listed = json.loads(out)
    assert code == 0 and {p["name"] for p in listed["prompts"]} == {NEWSLETTER, BETA}
    [broken] = listed["broken"]  # readable: the editor can open it to fix it
    assert broken["readable"] and says in broken["problem"]
    assert broken["problem"].startswith(f"Prompt “{NEWSLETTER}”: ")

    code, out, err = cli(
        "simulate", "--prompt", NEWSLETTER, "--interaction", "accept",
        "--input", "Email=news@example.com",
    )  # fmt: skip
    assert err.startswith("Account: sandbox\n")
    said = err.removeprefix("Account: sandbox\n").strip()
    assert code == 2 and "refused" in out  # a refused run, recorded
    assert said.startswith(f"Refused, nothing sent: Prompt “{NEWSLETTER}”: ") and says in said
    assert "\n" not in said
    code, out, _ = cli("log", "--json")
    assert json.loads(out) == []  # nothing sent, not even the contact sync
    code, out, _ = cli("runs", "--json")
    (refused,) = json.loads(out)
    assert refused["status"] == "refused" and says in refused["refusal"]

    code, out, _ = cli(
        "simulate", "--prompt", BETA, "--interaction", "accept",
        "--trait", "email_address=beta@example.com",
    )  # fmt: skip
    assert code == 0 and "succeeded" in out


# -- check_runnable ----------------------------------------------------------------------------


def runnable_prompt() -> Prompt:
    return Prompt(
        name="Newsletter",
        actions={
            Interaction.ACCEPT: [
                ActionConfig(ActionType.ADD_CONTACT),
                ActionConfig(ActionType.ADD_TO_LIST, {"list_id": "3", "list_name": "News"}),
            ],
            Interaction.DECLINE: [ActionConfig(ActionType.REMOVE_TAG, {"tag_id": "4"})],
        },
    )


def test_check_runnable_passes_a_good_prompt() -> None:
    for interaction in Interaction:
        check_runnable(runnable_prompt(), interaction)


@pytest.mark.parametrize(
    ("params", "says", "field"),
    [
        (
            {},
            "Prompt “Newsletter”: Accept, action 2 (Add to List) has no list: choose one",
            "accept_2",
        ),
        ({"list_id": ""}, "action 2 (Add to List) has no list", "accept_2"),
        (
            {"list_id": "abc"},
            "action 2 (Add to List) has list id “abc”, which is not an",
            "accept_2",
        ),
        ({"list_id": "3\n"}, "has list id “3 ”, which is not an ActiveCampaign id", "accept_2"),
        ({"list_id": "٣"}, "not an ActiveCampaign id (digits only", "accept_2"),
        ({"list_id": "1" * 21}, "not an ActiveCampaign id (digits only, at most 20)", "accept_2"),
        ({"list_id": "-3"}, "not an ActiveCampaign id", "accept_2"),
        ({"list_id": "3", "list_name": "News\x00"}, "control character (U+0000)", "accept_2"),
        (
            {"list_id": "3", "list_name": "a\x1bb"},
            "list name holding a control character",
            "accept_2",
        ),
    ],
)
def test_check_runnable_names_the_prompt_the_action_and_the_field(
    params: dict[str, str], says: str, field: str
) -> None:
    prompt = runnable_prompt()
    prompt.actions[Interaction.ACCEPT][1].params = params
    with pytest.raises(InputError) as refused:
        check_runnable(prompt, Interaction.ACCEPT)
    assert says in refused.value.message and refused.value.field == field
    assert refused.value.message.startswith("Prompt “Newsletter”: ")
    with pytest.raises(InputError):  # the editor's own validation refuses it too
        prompt.validate()


def test_check_runnable_includes_the_editors_validation() -> None:
    prompt = runnable_prompt()
    prompt.mappings = [
        *prompt.mappings,
        *Prompt.from_dict(
            {"name": "x", "mappings": [{"field": "email", "source": "fixed", "value": "a@b.co"}]}
        ).mappings,
    ]
    with pytest.raises(InputError, match="Prompt “Newsletter”: Email can't be a fixed value"):
        check_runnable(prompt, Interaction.DECLINE)


def test_check_runnable_refuses_a_custom_field_id_that_is_no_api_id() -> None:
    prompt = runnable_prompt()
    prompt.mappings = Prompt.from_dict(
        {"name": "x", "mappings": [{"field": "field:٣", "source": "trait", "value": "t"}]}
    ).mappings
    with pytest.raises(InputError, match="is not a contact field"):
        check_runnable(prompt, Interaction.ACCEPT)


def test_the_prompts_page_names_an_unreadable_prompt_and_deletes_it_on_the_record(
    data_dir: Path,
) -> None:
    from test_pages import button, run_page

    from connector import AuditKind

    with closing(Console(data_dir / "connector.db")) as console:
        console.seed_demo_prompts()
    store_raw(data_dir, NEWSLETTER, "{not json")
    at = run_page("prompts")
    assert not at.exception
    [warning] = [w.value for w in at.warning if "can't be opened here" in w.value]
    assert "Newsletter signup" in warning and "not JSON" in warning
    button(at, f"Delete “{NEWSLETTER}”").click().run()
    assert not at.exception
    with closing(Console(data_dir / "connector.db")) as console:
        assert [p.name for p in console.prompts.all()] == [BETA]
        assert console.prompts.broken() == []
        [deleted] = console.audit.page(kinds=(AuditKind.PROMPT_DELETED,))
        assert deleted.subject == NEWSLETTER and "not JSON" in str(deleted.before)
