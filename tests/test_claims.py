"""Claims: one run at a time acts on a contact and target, across threads and processes;
a claim whose holder stopped renewing its lease is taken over, whoever and wherever it was."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from factories import FakeClock

from connector import ClaimBusy, ClaimKey, Claims, Database
from connector.core.owner import Owner
from connector.store.leases import Leases

KEY = ClaimKey("sandbox", "ada@example.com", "add_to_automation", "1")


def held(db: Database) -> list[tuple[str, str]]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute("SELECT run_id, lease_owner FROM claims")]


def claims(db: Database, fake: FakeClock | None = None, **options: object) -> Claims:
    """Claims whose leases (and, given ``fake``, whose waits) run on ``fake``."""
    if fake is None:
        return Claims(db, Leases(db), **options)  # type: ignore[arg-type]
    return Claims(db, Leases(db, clock=fake), clock=fake, sleep=fake.sleep, **options)  # type: ignore[arg-type]


def test_a_second_run_waits_for_the_first_then_gets_the_claim(tmp_path: Path) -> None:
    db = Database(tmp_path / "c.db")
    first, second = claims(db), claims(db, poll=0.005)
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
    patient = claims(db, clock, wait=2.0)
    with claims(db, clock).hold(KEY, "run-1"):
        with pytest.raises(ClaimBusy) as caught, patient.hold(KEY, "run-2"):
            pass
    assert "run run-1" in caught.value.message and "nothing happens twice" in caught.value.message
    assert sum(clock.slept) >= 2.0


def test_a_claim_whose_lease_expired_is_taken_over_by_whoever_finds_it(tmp_path: Path) -> None:
    db = Database(tmp_path / "c.db")
    clock = FakeClock()
    elsewhere = Owner("other-machine", 4242, "abcd")  # a process id means nothing here
    with claims(db, clock, owner=elsewhere).hold(KEY, "run-gone"):
        assert held(db) == [("run-gone", elsewhere.name)]
        with pytest.raises(ClaimBusy):  # its lease is current: it is alive, wherever it is
            with claims(db, clock, wait=1.0).hold(KEY, "run-2"):
                pass
        clock.now += 31  # no heartbeat renewed it for longer than a lease: its owner is gone
        with claims(db, clock, wait=1.0).hold(KEY, "run-2"):
            assert held(db) == [("run-2", Owner.current().name)]


def test_a_renewed_claim_is_never_taken_over(tmp_path: Path) -> None:
    db = Database(tmp_path / "c.db")
    clock = FakeClock()
    leases = Leases(db, clock=clock)
    holder = Owner("node-a", 1, "t1")
    with Claims(db, leases, owner=holder).hold(KEY, "run-1"):
        for _ in range(5):  # the heartbeat renews every third of a lease
            clock.now += 10
            assert leases.renew([holder.name]) == 1
        with pytest.raises(ClaimBusy):
            with claims(db, clock, wait=1.0).hold(KEY, "run-2"):
                pass
