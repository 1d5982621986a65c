"""``prompts export`` / ``prompts import``: prompts as files, checked like the editor checks them
(issue 13)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connector.entry.console import Console


def use(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    monkeypatch.setenv("CONNECTOR_DB", str(path))


def test_export_import_export_is_identical(cli, data_dir: Path, monkeypatch) -> None:
    code, listed, _ = cli("prompts", "--json")
    code, exported, err = cli("prompts", "export")
    assert code == 0 and exported == listed and "Exported 2 prompts" in err
    target = data_dir / "prompts.json"
    code, out, _ = cli("prompts", "export", "--output", str(target))
    assert code == 0 and not out and target.read_text() == exported

    use(monkeypatch, data_dir / "fresh" / "connector.db")
    (data_dir / "fresh").mkdir()
    code, out, err = cli("prompts", "import", str(target))
    assert code == 0, err
    assert "Created “Beta program banner”" in out and "Created “Newsletter signup”" in out
    code, again, _ = cli("prompts", "export")
    assert code == 0 and again == exported

    code, out, _ = cli("audit", "--json")  # recorded like editor saves
    events = json.loads(out)
    assert {(e["kind"], e["source"]) for e in events} == {("prompt_created", "cli")}
    assert len(events) == 2


def test_export_one_prompt_and_refuse_an_unknown_name(cli) -> None:
    code, out, _ = cli("prompts", "export", "--prompt", " newsletter SIGNUP")
    assert code == 0 and [p["name"] for p in json.loads(out)["prompts"]] == ["Newsletter signup"]
    code, out, err = cli("prompts", "export", "--prompt", "Nope\n")
    assert code == 2 and not out and "No prompt is named “Nope\\n”" in err


def test_an_existing_name_is_refused_without_replace_and_updated_with_it(
    cli, data_dir: Path
) -> None:
    code, out, _ = cli("prompts", "export")
    document = json.loads(out)
    for prompt in document["prompts"]:
        prompt["headline"] = "Changed by the file"
        del prompt["id"]  # ids are optional
    path = data_dir / "changed.json"
    path.write_text(json.dumps(document))

    code, out, err = cli("prompts", "import", str(path))
    assert code == 2 and not out and "nothing was imported" in err and "--replace" in err
    assert "already has “Beta program banner”, “Newsletter signup”" in err
    code, out, _ = cli("prompts", "--json")
    assert {p["headline"] for p in json.loads(out)["prompts"]} != {"Changed by the file"}

    code, out, err = cli("prompts", "import", str(path), "--replace", "--json")
    assert code == 0, err
    assert {i["state"] for i in json.loads(out)["imported"]} == {"updated"}
    code, out, _ = cli("prompts", "--json")
    assert {p["headline"] for p in json.loads(out)["prompts"]} == {"Changed by the file"}
    code, out, _ = cli("audit", "--json", "--limit", "2")
    assert {e["kind"] for e in json.loads(out)} == {"prompt_edited"}


def _without_list(prompt: dict) -> None:
    del prompt["actions"]["accept"][1]["params"]["list_id"]


def _fixed_email(prompt: dict) -> None:
    prompt["mappings"][0] = {"field": "email", "source": "fixed", "value": "a@example.com"}


def _bad_id(prompt: dict) -> None:
    prompt["actions"]["accept"][1]["params"]["list_id"] = "abc"


def _bad_kind(prompt: dict) -> None:
    prompt["inputs"][0]["kind"] = "slider"


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (_without_list, "Prompt “Renamed”: Accept, action 2 (Add to List) has no list"),
        (_fixed_email, "Prompt “Renamed”: Email can't be a fixed value"),
        (_bad_id, "Prompt “Renamed”: Accept, action 2 (Add to List) has list id “abc”"),
        (_bad_kind, "Prompt “Renamed”: The prompt definition can't be read: Form input 1's kind"),
    ],
)
def test_one_bad_definition_refuses_the_whole_file(cli, data_dir: Path, change, says) -> None:
    code, out, _ = cli("prompts", "export")
    document = json.loads(out)
    newsletter = next(p for p in document["prompts"] if p["name"] == "Newsletter signup")
    newsletter["name"] = "Renamed"
    change(newsletter)
    document["prompts"].append({**document["prompts"][0], "name": "A good new one"})
    path = data_dir / "bad.json"
    path.write_text(json.dumps(document))
    code, out, _ = cli("audit", "--json")
    before = json.loads(out)

    code, out, err = cli("prompts", "import", str(path), "--replace")
    assert code == 2 and not out and says in err and "nothing was imported" in err
    assert len(err.strip().splitlines()) == 1
    code, out, _ = cli("prompts", "--json")
    assert {p["name"] for p in json.loads(out)["prompts"]} == {
        "Beta program banner",
        "Newsletter signup",
    }
    code, out, _ = cli("audit", "--json")
    assert json.loads(out) == before  # nothing saved, nothing recorded


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("{nope", "is not JSON"),
        ('{"prompts": 3}', "holds no list of prompts"),
        ('[{"name": "A"}, {"name": " a "}]', "holds two prompts named “A”"),
        ('[{"name": ""}]', "Give the prompt a name"),
        ("[[]]", "Prompt 1 of the file: The prompt definition can't be read"),
    ],
)
def test_a_file_that_is_no_prompts_is_refused(cli, data_dir: Path, content, says) -> None:
    path = data_dir / "odd.json"
    path.write_text(content)
    code, out, err = cli("prompts", "import", str(path))
    assert code == 2 and not out and says in err, err
    code, out, err = cli("prompts", "import", str(data_dir / "missing.json"))
    assert code == 2 and "Can't read" in err


def test_an_unreadable_stored_prompt_can_be_replaced_by_import(cli, data_dir: Path) -> None:
    code, out, _ = cli("prompts", "export", "--prompt", "Beta program banner")
    path = data_dir / "beta.json"
    path.write_text(out)
    console = Console(data_dir / "connector.db")
    with console.db.write() as conn:
        conn.execute("UPDATE prompts SET definition = '[]' WHERE name = 'Beta program banner'")
    console.close()
    code, out, err = cli("prompts", "--json")
    assert [b["name"] for b in json.loads(out)["broken"]] == ["Beta program banner"]
    code, out, err = cli("prompts", "import", str(path), "--replace")
    assert code == 0 and "Replaced “Beta program banner”" in out, err
    code, out, _ = cli("prompts", "--json")
    assert json.loads(out)["broken"] == [] and len(json.loads(out)["prompts"]) == 2
