"""Claims: one run at a time acts on a contact and target, across threads and processes."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest
from factories import FakeClock

from connector import ClaimBusy, ClaimKey, Claims, Database
from connector.core.owner import Owner

KEY = ClaimKey("sandbox", "ada@example.com", "add_to_automation", "1")


def held(db: Database) -> list[tuple[str, int]]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute("SELECT run_id, owner_pid FROM claims")]


def test_a_second_run_waits_for_the_first_then_gets_the_claim(tmp_path: Path) -> None:
    db = Database(tmp_path / "c.db")
    first, second = Claims(db), Claims(db, poll=0.005)
    order: list[str] = []
    inside = threading.Event()

    def waiter() -> None:
        inside.wait()
        with second.hold(KEY, "run-2"):
            order.append("second")

    thread = threading.Thread(target=waiter)
    thread.start()
    with first.hold(KEY, "run-1"):
        inside.set()
        thread.join(timeout=0.2)
        assert thread.is_alive()  # waiting, not acting
        order.append("first")
    thread.join(timeout=10)
    assert order == ["first", "second"] and held(db) == []


def test_a_claim_held_too_long_is_busy_with_the_holder_named(tmp_path: Path) -> None:
    db = Database(tmp_path / "c.db")
    clock = FakeClock()
    patient = Claims(db, wait=2.0, clock=clock, sleep=clock.sleep)
    with Claims(db).hold(KEY, "run-1"):
        with pytest.raises(ClaimBusy) as caught, patient.hold(KEY, "run-2"):
            pass
    assert "run run-1" in caught.value.message and "nothing happens twice" in caught.value.message
    assert sum(clock.slept) >= 2.0


def test_a_dead_owners_claim_is_released_by_whoever_finds_it(tmp_path: Path) -> None:
    db = Database(tmp_path / "c.db")
    with subprocess.Popen(["sleep", "0"]) as gone:
        gone.wait()
    dead = Owner(Owner.current().host, gone.pid, Owner.current().started - 5)
    assert not dead.is_alive()
    with Claims(db, owner=dead).hold(KEY, "run-dead"):  # held by a process that is gone
        assert held(db) == [("run-dead", gone.pid)]
        with Claims(db, wait=1.0).hold(KEY, "run-2"):  # no wait: the dead claim is freed
            assert held(db) == [("run-2", Owner.current().pid)]


def test_a_live_process_is_alive_and_a_reused_pid_is_not(tmp_path: Path) -> None:
    me = Owner.current()
    assert me.is_alive()
    assert not Owner(me.host, me.pid, me.started - 100).is_alive()  # same pid, other process
    assert Owner("another-host", 1, 0.0).is_alive()  # can't tell from here: assume alive
