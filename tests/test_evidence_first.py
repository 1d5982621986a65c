"""Evidence first: an answer, once received, is the attempt's outcome, whatever the console's own
bookkeeping does afterwards.

Add Tag reaches the account and is applied (201); while its answer travels back, the data file
stops taking writes, by two real faults: another process holds its write lock past the busy
timeout, or the small tmpfs it lives on fills up. The budget slot can't be settled, the outcome
can't be written, the claim can't be released. Still the run says "succeeded" with the 201 as
evidence (never "failed: Not sent"), says that the log does not hold it yet, and the outcome is
written once the file takes writes again: by this process's next write, or, if this process is
gone by then, by a worker that verifies the pending row.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from factories import FakeClock, action, prompt_with, settle, user

from connector import ActionType, Console, Interaction, Reason, RunStatus, Status
from connector.sandbox import Sandbox

HOLD_LOCK = (
    "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
    "c.execute('BEGIN IMMEDIATE'); print('held', flush=True); sys.stdin.readline()"
)


class Fault:
    """Makes the data file refuse writes (``start``) until ``stop``."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


class HeldLock(Fault):
    """Another process holds the data file's write lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.holder: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.holder = subprocess.Popen(
            [sys.executable, "-c", HOLD_LOCK, str(self.path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.holder.stdout is not None and self.holder.stdout.readline().strip() == "held"

    def stop(self) -> None:
        if self.holder is not None:
            assert self.holder.stdin is not None
            self.holder.stdin.write("\n")
            self.holder.stdin.close()
            self.holder.wait(timeout=30)
            self.holder.stdout.close()  # type: ignore[union-attr]
            self.holder = None


class FullDisk(Fault):
    """The tmpfs the data file lives on has no byte left."""

    def __init__(self, folder: Path) -> None:
        self.filler = folder / "filler"

    def start(self) -> None:
        with open(self.filler, "wb") as out:
            try:
                while True:
                    out.write(b"\0" * 65536)
                    out.flush()
            except OSError:  # ENOSPC: full
                pass

    def stop(self) -> None:
        self.filler.unlink(missing_ok=True)


class FaultOnAnswer(Sandbox):
    """Applies ``/contactTags`` for real, then starts the fault before the answer goes back."""

    def __init__(self) -> None:
        super().__init__()
        self.fault: Fault | None = None

    def handle(self, request: httpx.Request) -> httpx.Response:
        answer = super().handle(request)
        if request.method == "POST" and request.url.path.endswith("/contactTags") and self.fault:
            self.fault.start()
        return answer


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs for the data file (the machine's and CI's user is root)."""
    folder = tmp_path / "tmpfs"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"CI must be able to mount a tmpfs: {mounted.stderr!r}")
        pytest.skip("mounting a tmpfs needs root")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


Scenario = Callable[[Path], Fault]
FAULTS: dict[str, Scenario] = {
    "write lock held": lambda folder: HeldLock(folder / "connector.db"),
    "disk full": FullDisk,
}


def tagged_run(folder: Path, make_fault: Scenario) -> tuple[Console, FaultOnAnswer, Fault, object]:
    sandbox = FaultOnAnswer()
    clock = FakeClock()
    console = Console(
        folder / "connector.db",
        env={"AC_RATE_LIMIT": "5"},
        sandbox=sandbox,
        clock=clock,
        sleep=clock.sleep,
        busy_timeout=0.2,
    )
    sandbox.configure(rate_limit=5)  # a budget that has slots to settle, as a live account's
    fault = make_fault(folder)
    sandbox.fault = fault
    prompt = prompt_with(action(ActionType.ADD_TAG, "1"))
    run = console.runner().run(prompt, Interaction.ACCEPT, user(), {0: "kept@x.io"})
    # The account's own limiter runs on real time, the console's budget on the fake clock:
    # lifted for the reads that look at the account afterwards.
    sandbox.configure(rate_limit=None)
    return console, sandbox, fault, run


def tags_of(console: Console, email: str) -> list[str]:
    client = console.client()
    (contact,) = client.get("/contacts", {"email": email})["contacts"]
    found = client.get(f"/contacts/{contact['id']}/contactTags")["contactTags"]
    return [str(t["tag"]) for t in found]


@pytest.mark.parametrize("fault_name", FAULTS)
def test_an_answer_is_kept_when_the_data_file_refuses_writes(
    small_disk: Path, fault_name: str
) -> None:
    console, sandbox, fault, run = tagged_run(small_disk, FAULTS[fault_name])
    try:
        tag = run.attempts[-1]  # type: ignore[attr-defined]
        assert tag.status is Status.SUCCEEDED and tag.evidence.status == 201
        assert tag.attempts == 1 and "Not sent" not in tag.reason
        assert "could not record" in tag.unrecorded  # said, not hidden
        assert console.log.waiting >= 1
    finally:
        fault.stop()
    assert console.log.flush()  # the next write of this process writes what waited
    stored = console.log.run(run.run_id)  # type: ignore[attr-defined]
    assert stored is not None and stored.status is RunStatus.SUCCEEDED
    assert stored.attempts[-1].status is Status.SUCCEEDED
    assert stored.attempts[-1].evidence is not None
    assert stored.attempts[-1].evidence.status == 201
    assert tags_of(console, "kept@x.io") == ["1"]
    console.close()


@pytest.mark.parametrize("fault_name", FAULTS)
def test_an_outcome_lost_with_its_process_is_verified_by_a_worker(
    small_disk: Path, fault_name: str
) -> None:
    console, sandbox, fault, run = tagged_run(small_disk, FAULTS[fault_name])
    fault.stop()
    # The process dies with the outcome in its outbox: the row is still ``pending``.
    clock = console.leases.clock
    console.db.close()
    worker = Console(
        small_disk / "connector.db", env={}, sandbox=sandbox, clock=clock, sleep=clock.sleep
    )
    left = worker.log.run(run.run_id)  # type: ignore[attr-defined]
    assert left is not None and left.attempts[-1].status is Status.PENDING
    assert isinstance(clock, FakeClock)
    clock.now += worker.leases.seconds + 1  # the dead process's lease runs out
    assert worker.work_on_due_run()  # the pending row is in doubt: verified after the delay
    settle(worker)
    done = worker.log.run(run.run_id)  # type: ignore[attr-defined]
    assert done is not None and done.status is RunStatus.SUCCEEDED
    tag = done.attempts[-1]
    assert tag.status is Status.SUCCEEDED and tag.reason_code is Reason.VERIFIED
    assert tag.attempts == 0  # its one POST went out before the death: not sent again
    assert tags_of(worker, "kept@x.io") == ["1"]
    worker.close()
