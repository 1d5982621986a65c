"""The log from the command line: filters, streamed exports, replays and their jobs, retention;
each with its exit status and its errors as one sentence."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from connector import Console, Interaction, SimulatedUser
from connector.sandbox import Fault


def failed_signups(data_dir: Path, emails: list[str]) -> list[int]:
    """Newsletter signups whose Add to List failed with a 422; the failed rows' ids."""
    console = Console(data_dir / "connector.db")
    console.seed_demo_prompts()
    prompt = next(p for p in console.prompts.all() if p.name == "Newsletter signup")
    console.sandbox.inject(Fault("status", "POST", "/contactLists", status=422, count=len(emails)))
    failed = []
    for email in emails:
        run = console.runner(operator="ann", source="cli").run(
            prompt, Interaction.ACCEPT, SimulatedUser(), {0: email}
        )
        failed += [a.log_id for a in run.attempts if a.status.value == "failed"]
    console.close()
    return [f for f in failed if f is not None]


def test_log_and_runs_filter_by_account_source_operator_and_search(cli, data_dir) -> None:
    failed_signups(data_dir, ["ann@example.com", "bob@example.com"])
    code, out, _ = cli("log", "--json", "--status", "failed", "--search", "bob@exa")
    rows = json.loads(out)
    assert code == 0 and [r["contact_email"] for r in rows] == ["bob@example.com"]
    code, out, _ = cli("log", "--json", "--account", "sandbox", "--operator", "ann", "--last", "1h")
    assert len(json.loads(out)) == 4
    code, out, _ = cli("log", "--json", "--source", "simulator")
    assert json.loads(out) == []
    code, out, _ = cli("runs", "--json", "--status", "failed", "--email", "ANN@example.com")
    runs = json.loads(out)
    assert [r["contact_email"] for r in runs] == ["ann@example.com"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["log", "--last", "7x"], "--last takes a number and a unit"),
        (["log", "--since", "last tuesday"], "--since takes an ISO date"),
        (["log", "--last", "7d", "--since", "2026-01-01"], "not both"),
        (["log", "--search", "@@@"], "Nothing to search for"),
    ],
)
def test_bad_filters_exit_2_with_a_sentence(cli, argv: list[str], message: str) -> None:
    code, out, err = cli(*argv)
    assert code == 2 and message in err and "Traceback" not in err


def test_export_streams_csv_and_jsonl(cli, data_dir, tmp_path) -> None:
    failed_signups(data_dir, ["=cmd@example.com"])
    target = tmp_path / "out.csv"
    code, _, err = cli("export", "--format", "csv", "--status", "failed", "--output", str(target))
    assert code == 0 and "Exported 1 rows as csv" in err
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [r["status"] for r in rows] == ["failed"]
    assert rows[0]["contact_email"] == "'=cmd@example.com"  # not a formula in a spreadsheet
    code, out, _ = cli("export", "--format", "jsonl")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(lines) == 2 and isinstance(lines[0]["request"], dict)
    assert lines[0]["contact_email"] == "=cmd@example.com"  # JSON is data, not a sheet
    code, _, err = cli("export", "--output", str(tmp_path / "missing" / "x.csv"))
    assert code == 2 and "Can't write" in err


def test_replay_then_nothing_left(cli, data_dir, monkeypatch) -> None:
    failed = failed_signups(data_dir, ["r1@example.com", "r2@example.com"])
    monkeypatch.setenv("CONNECTOR_OPERATOR", "cron-job")
    code, out, err = cli("replay", "--dry-run", "--json")
    job = json.loads(out)["job"]
    assert code == 0 and job["counts"] == {"dry_run": 2} and job["state"] == "done"

    code, out, err = cli("replay", "--json")

    job = json.loads(out)["job"]
    assert code == 0 and job["counts"] == {"succeeded": 2} and "Account: sandbox" in err
    assert f"#{failed[0]} -> #" in err  # each row and its replay, as they happen
    code, out, _ = cli("log", "--json", "--source", "replay")
    assert {(r["operator"], r["retry_of"]) for r in json.loads(out)} == {
        ("cron-job", failed[0]),
        ("cron-job", failed[1]),
    }
    code, out, err = cli("replay")
    assert code == 0 and "Nothing to replay" in err
    code, out, err = cli("replay", "--row", str(failed[0]))
    assert code == 1 and "replayed already" in err
    code, out, _ = cli("jobs", "--json")
    assert [j["state"] for j in json.loads(out)] == ["done", "done", "done"]


def test_a_background_replay_waits_for_a_worker_and_can_be_cancelled(cli, data_dir) -> None:
    failed_signups(data_dir, ["b@example.com"])
    code, out, err = cli("replay", "--background", "--json")
    job = json.loads(out)["job"]
    assert code == 0 and job["state"] == "queued" and "python -m connector jobs" in err
    code, out, _ = cli("jobs", "--cancel", job["job_id"])
    assert code == 0 and "cancelled" in out
    code, out, _ = cli("jobs", "--json")
    assert json.loads(out)[0]["state"] == "cancelled"


def test_retention_counts_first_and_deletes_with_yes(cli, data_dir) -> None:
    failed_signups(data_dir, ["old@example.com"])
    with Console(data_dir / "connector.db").db.write() as db:
        db.execute("UPDATE action_log SET created_at = '2020-01-01T00:00:00.000Z'")
        db.execute("UPDATE runs SET started_at = '2020-01-01T00:00:00.000Z'")
    code, out, _ = cli("retention", "--older-than", "30")
    assert code == 0 and "Would delete 2 action rows and 1 runs" in out and "--yes" in out
    code, out, _ = cli("retention", "--older-than", "30", "--yes", "--vacuum", "--json")
    result = json.loads(out)
    assert code == 0 and (result["actions"], result["runs"]) == (2, 1)
    assert result["size_after"] <= result["size_before"]
    code, out, _ = cli("log", "--json")
    assert json.loads(out) == []
    code, _, err = cli("retention", "--older-than", "0")
    assert code == 2 and "at least 1 day" in err


def test_audit_lists_configuration_changes_with_who_made_them(cli, data_dir) -> None:
    console = Console(data_dir / "connector.db")
    console.seed_demo_prompts()
    prompt = console.prompts.all()[0]
    assert prompt.id is not None
    console.delete_prompt(prompt.id, operator="dee")
    console.close()
    code, out, _ = cli("audit", "--json")
    events = json.loads(out)
    assert code == 0 and (events[0]["kind"], events[0]["operator"]) == ("prompt_deleted", "dee")
    assert prompt.name in events[0]["subject"]
    code, out, _ = cli("audit")
    assert "prompt_deleted" in out.splitlines()[0] and "dee" in out.splitlines()[0]
