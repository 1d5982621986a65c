"""Replays: a failed action is retried as a new row linked to it, through the same checks as a
live run, on the account it was meant for, never twice, and a bulk replay survives its process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from factories import action, prompt_with, user

from connector import ActionConfig, ActionType, Console, Interaction, Run, Status
from connector.engine.jobs import JobState, ReplayJobs
from connector.engine.replay import plan_replay
from connector.sandbox import Fault
from connector.store.log_query import LogFilter

REPO = Path(__file__).resolve().parents[1]


def multientry_automation(console: Console) -> str:
    return next(a.id for a in console.client().automations() if a.multientry)


def enroll_run(console: Console, email: str, automation: str, **options: bool) -> Run:
    prompt = prompt_with(
        ActionConfig(ActionType.ADD_CONTACT),
        action(ActionType.ADD_TO_AUTOMATION, automation, **options),
    )
    return console.runner().run(prompt, Interaction.ACCEPT, user(), {0: email})


def enrollments(console: Console, contact_id: str, automation: str) -> int:
    rows = console.client().get(f"/contacts/{contact_id}/contactAutomations")
    return sum(1 for r in rows["contactAutomations"] if str(r.get("automation")) == automation)


def failed_row(run: Run) -> int:
    failed = [a for a in run.attempts if a.status is Status.FAILED]
    assert len(failed) == 1, [(a.label, a.status) for a in run.attempts]
    assert failed[0].log_id is not None
    return failed[0].log_id


def replay(console: Console, rows: list[int], **kw: object) -> dict[int, dict]:
    """Replay ``rows`` as a job run here; the job's items by the row asked for."""
    jobs = ReplayJobs(console.db)
    job = jobs.create(rows, account=console.account().label, description="test", **kw)  # type: ignore[arg-type]
    done = jobs.run(job.job_id, console)
    assert done.state is JobState.DONE, done
    return {item["row_id"]: item for item in jobs.items(job.job_id)}


def test_a_failed_action_replays_as_a_new_row_linked_both_ways(console) -> None:
    automation = multientry_automation(console)
    console.sandbox.inject(Fault("status", "POST", "/contactAutomations", status=422))
    first = enroll_run(console, "r1@x.io", automation)
    original = failed_row(first)
    assert console.log.ids(LogFilter(replayable=True)) == [original]

    items = replay(console, [original])  # the fault fired once: the replay goes through

    item = items[original]
    assert (item["state"], item["outcome"]) == ("replayed", "succeeded")
    new = console.log.get(item["replay_row_id"])
    assert new["retry_of"] == original and new["source"] == "replay" and new["job_id"]
    assert [r["id"] for r in console.log.retries(original)] == [new["id"]]
    assert console.log.get(original)["status"] == "failed"  # the record of what happened stays
    assert console.log.ids(LogFilter(replayable=True)) == []  # nothing left to replay
    assert enrollments(console, first.contact_id, automation) == 1
    replayed_run = console.log.run(new["run_id"])
    assert replayed_run is not None and replayed_run.user == first.user
    assert replayed_run.contact == first.contact  # the original contact payload, sent again


def test_an_action_that_landed_before_its_process_died_is_skipped_not_repeated(console) -> None:
    automation = multientry_automation(console)  # re-entry allowed: only the replay rule holds
    done = enroll_run(console, "r2@x.io", automation, allow_reentry=True)
    landed = done.attempts[-1]
    assert landed.status is Status.SUCCEEDED and landed.log_id is not None
    with console.db.write() as db:  # as if the process had died right after sending
        db.execute("UPDATE action_log SET status = 'interrupted' WHERE id = ?", [landed.log_id])

    item = replay(console, [landed.log_id])[landed.log_id]

    assert item["outcome"] == "skipped"
    assert "already" in item["note"].lower()
    assert console.log.get(item["replay_row_id"])["reason_code"] == "already_done"
    assert enrollments(console, done.contact_id, automation) == 1


def test_two_replays_of_one_row_at_once_send_it_once(console) -> None:
    automation = multientry_automation(console)
    console.sandbox.inject(Fault("status", "POST", "/contactAutomations", status=422))
    first = enroll_run(console, "r3@x.io", automation, allow_reentry=True)
    original = failed_row(first)
    jobs = ReplayJobs(console.db)
    made = [jobs.create([original], account="sandbox", description=f"twin {n}") for n in range(2)]
    barrier = threading.Barrier(2)

    def go(job_id: str) -> None:
        barrier.wait()
        jobs.run(job_id, console)

    threads = [threading.Thread(target=go, args=(j.job_id,)) for j in made]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    outcomes = sorted(jobs.items(j.job_id)[0]["outcome"] or "refused" for j in made)
    assert outcomes.count("succeeded") == 1, outcomes
    assert enrollments(console, first.contact_id, automation) == 1
    assert [r["status"] for r in console.log.retries(original)].count("succeeded") == 1


def test_replaying_a_row_acts_on_the_newest_of_its_chain(console) -> None:
    automation = multientry_automation(console)
    console.sandbox.inject(Fault("status", "POST", "/contactAutomations", status=422, count=2))
    first = enroll_run(console, "r4@x.io", automation)
    original = failed_row(first)
    again = replay(console, [original])[original]
    assert again["outcome"] == "failed"  # the second fault

    third = replay(console, [original])[original]  # asked for the original once more

    assert third["outcome"] == "succeeded"
    assert console.log.get(third["replay_row_id"])["retry_of"] == again["replay_row_id"]
    done = replay(console, [original])[original]  # and once it succeeded, nothing to do
    assert done["state"] == "refused" and "replayed already" in done["note"]
    assert enrollments(console, first.contact_id, automation) == 1


def test_a_row_is_replayed_only_on_the_account_it_was_sent_to(console) -> None:
    console.sandbox.inject(Fault("status", "POST", "/contactAutomations", status=422))
    original = failed_row(enroll_run(console, "r5@x.io", multientry_automation(console)))

    plan = plan_replay(console.log, [original], account="acme.api-us1.com")

    assert plan.groups == [] and len(plan.refused) == 1
    assert "sent to sandbox, not acme.api-us1.com" in plan.refused[0].reason


def test_actions_skipped_for_a_failed_sync_replay_after_it(console) -> None:
    console.sandbox.inject(Fault("status", "POST", "/contact/sync", status=422))
    prompt = prompt_with(ActionConfig(ActionType.ADD_CONTACT), action(ActionType.ADD_TO_LIST, "1"))
    first = console.runner().run(prompt, Interaction.ACCEPT, user(), {0: "r6@x.io"})
    statuses = [(a.action_type, a.status) for a in first.attempts]
    assert statuses == [
        (ActionType.ADD_CONTACT, Status.FAILED),
        (ActionType.ADD_TO_LIST, Status.SKIPPED),
    ]
    rows = console.log.ids(LogFilter(replayable=True))
    assert len(rows) == 2

    items = replay(console, rows)

    assert [items[r]["outcome"] for r in rows] == ["succeeded", "succeeded"]
    replayed = console.log.run(console.log.get(items[rows[0]]["replay_row_id"])["run_id"])
    assert replayed is not None
    assert [a.action_type for a in replayed.attempts] == [
        ActionType.ADD_CONTACT,
        ActionType.ADD_TO_LIST,
    ]  # one run: the sync first, then the action that needs its id


def test_cancel_stops_a_job_between_runs(console) -> None:
    automation = multientry_automation(console)
    console.sandbox.inject(Fault("status", "POST", "/contactAutomations", status=422, count=3))
    rows = [failed_row(enroll_run(console, f"c{n}@x.io", automation)) for n in range(3)]
    jobs = ReplayJobs(console.db)
    job = jobs.create(rows, account="sandbox", description="three")

    def cancel_after_first(_run: Run) -> None:
        jobs.cancel(job.job_id)

    ended = jobs.run(job.job_id, console, on_run=cancel_after_first)

    assert ended is not None and ended.state is JobState.CANCELLED
    assert ended.counts == {"succeeded": 1, "queued": 2}
    assert jobs.cancel(job.job_id).state is JobState.CANCELLED  # idempotent
    queued = jobs.create(rows[1:], account="sandbox", description="never started")
    assert jobs.cancel(queued.job_id).state is JobState.CANCELLED
    assert jobs.run(queued.job_id, console).state is JobState.CANCELLED


def test_a_job_on_another_account_replays_nothing_and_says_why(console) -> None:
    console.sandbox.inject(Fault("status", "POST", "/contactAutomations", status=422))
    original = failed_row(enroll_run(console, "r7@x.io", multientry_automation(console)))
    jobs = ReplayJobs(console.db)
    job = jobs.create([original], account="acme.api-us1.com", description="elsewhere")

    ended = jobs.run(job.job_id, console)

    assert ended is not None and ended.state is JobState.FAILED
    assert "acme.api-us1.com" in ended.error and "nothing was replayed" in ended.error
    assert console.log.retries(original) == []


# -- a bulk replay outlives its process --------------------------------------------------------


def _worker(data: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "CONNECTOR_DB": str(data / "connector.db"), "AC_RATE_LIMIT": "20"}
    env.pop("AC_API_URL", None)
    env.pop("AC_API_KEY", None)
    return subprocess.Popen(
        [sys.executable, "-m", "connector", "worker", "--exit-when-idle", "2"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait(condition, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_bulk_replay_killed_mid_way_resumes_without_replaying_a_row_twice(tmp_path) -> None:
    # The file-backed built-in sandbox, unthrottled while the failures are made.
    console = Console(tmp_path / "connector.db", env={"AC_RATE_LIMIT": "10000"})
    automation = multientry_automation(console)
    count = 24
    console.sandbox.inject(Fault("status", "POST", "/contactAutomations", status=422, count=count))
    runs = [enroll_run(console, f"bulk{n}@x.io", automation) for n in range(count)]
    rows = [failed_row(run) for run in runs]
    jobs = ReplayJobs(console.db)
    job = jobs.create(rows, account="sandbox", description="bulk")

    first = _worker(tmp_path)  # picks the queued job up on start
    _wait(lambda: (jobs.get(job.job_id).finished or 0) >= 4)  # type: ignore[union-attr]
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=10)
    stopped = jobs.get(job.job_id)
    assert stopped is not None and stopped.state is JobState.RUNNING  # its holder is gone
    assert 4 <= stopped.finished < count

    # Another worker, whose clock is past the dead one's leases (and, later, past the settle
    # delay of the replay that was in flight), takes the job and the open run over.
    ahead = [console.leases.seconds + 1]
    env = {"AC_RATE_LIMIT": "10000"}
    second = Console(tmp_path / "connector.db", env=env, clock=lambda: time.time() + ahead[0])
    for _ in range(2):
        while second.work_on_free_job() or second.work_on_due_run():
            pass
        ahead[0] += second.settle_seconds + 1

    ended = jobs.get(job.job_id)
    assert ended is not None and ended.state is JobState.DONE, ended
    assert ended.counts == {"succeeded": count}, ended.counts
    for run, row in zip(runs, rows, strict=True):
        (replayed,) = console.log.retries(row)  # one replay per row, never two
        assert replayed["status"] == "succeeded"
        assert enrollments(console, run.contact_id, automation) == 1
    second.close()
    console.close()


def test_a_replay_finds_the_contact_by_email_and_never_syncs_it_again(console) -> None:
    console.sandbox.inject(Fault("status", "POST", "/contactLists", status=422))
    prompt = prompt_with(ActionConfig(ActionType.ADD_CONTACT), action(ActionType.ADD_TO_LIST, "1"))
    first = console.runner().run(prompt, Interaction.ACCEPT, user(), {0: "r8@x.io"})
    original = failed_row(first)
    syncs = console.sandbox.stats()["requests"]

    item = replay(console, [original])[original]

    replayed = console.log.run(console.log.get(item["replay_row_id"])["run_id"])
    assert replayed is not None and item["outcome"] == "succeeded"
    assert [a.action_type for a in replayed.attempts] == [ActionType.ADD_TO_LIST]
    lookup = replayed.attempts[0].checks[0]
    assert lookup.purpose == "to find the contact" and lookup.present
    assert lookup.exchanges[0].method == "GET" and "email=r8%40x.io" in lookup.exchanges[0].url
    assert replayed.contact_id == first.contact_id
    assert console.sandbox.stats()["requests"] - syncs == 3  # lookup, check, subscribe: no sync


def test_replaying_an_action_whose_contact_was_never_created_says_what_to_replay(console) -> None:
    console.sandbox.inject(Fault("status", "POST", "/contact/sync", status=422))
    prompt = prompt_with(ActionConfig(ActionType.ADD_CONTACT), action(ActionType.ADD_TO_LIST, "1"))
    first = console.runner().run(prompt, Interaction.ACCEPT, user(), {0: "r9@x.io"})
    skipped = first.attempts[-1]
    assert skipped.status is Status.SKIPPED and skipped.log_id is not None

    item = replay(console, [skipped.log_id])[skipped.log_id]  # without its Add Contact

    assert item["outcome"] == "skipped" and "replay the Add Contact" in item["note"]
    new = console.log.get(item["replay_row_id"])
    assert new["reason_code"] == "no_contact" and new["retry_of"] == skipped.log_id
    assert console.log.ids(LogFilter(replayable=True)) == [first.attempts[0].log_id, new["id"]]
