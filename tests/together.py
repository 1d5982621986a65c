"""Run functions in several real OS processes at once: fresh interpreters that share nothing with
the test but the files and servers it hands them.

``run_together(worker, args)`` starts one child per ``args`` item; each imports the worker's
module by name, sets itself up, says "ready" at its ``gate()``, and all get "go" together, so
they really act at the same moment (start-up times differ by far more than the races under
test). Each child's result is the JSON of the worker's return value, printed as its last line.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
# The child's program: find the tests (and the repository's ``connector``), then take orders.
BOOTSTRAP = "import sys; sys.path[:0] = sys.argv[1:3]; import together; together.child_main()"
TIMEOUT = 120.0  # seconds for a child to finish: spawning and importing on a slow 2-core machine

Gate = Callable[[], None]


def child_main() -> None:
    """In a child: read ``{"module", "worker", "args"}`` from stdin, run the worker with a gate
    that reports "ready" and waits for "go", and print its result as the last line."""
    job = json.loads(sys.stdin.readline())

    def gate() -> None:
        print("ready", flush=True)
        if sys.stdin.readline().strip() != "go":
            raise SystemExit("the test went away")

    worker = getattr(importlib.import_module(job["module"]), job["worker"])
    print(json.dumps(worker(gate, *job["args"])), flush=True)


def run_together(
    worker: Callable[..., Any],
    args: Sequence[tuple[Any, ...]],
    *,
    env: Mapping[str, str] | None = None,
    before_go: Callable[[], None] | None = None,
) -> list[Any]:
    """Run ``worker(gate, *args[i])`` in one child process per ``args`` item, release them all
    at once when every one has reached its ``gate()`` (after ``before_go``, if given), and
    return their results in order. ``env`` adds to the children's environment."""
    children = [
        subprocess.Popen(
            [sys.executable, "-c", BOOTSTRAP, str(TESTS), str(REPO)],
            cwd=REPO,
            env={**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in args
    ]
    job = {"module": worker.__module__, "worker": worker.__name__}
    try:
        for child, item in zip(children, args, strict=True):
            assert child.stdin is not None
            child.stdin.write(json.dumps({**job, "args": list(item)}) + "\n")
            child.stdin.flush()
        for child in children:
            assert child.stdout is not None
            if child.stdout.readline().strip() != "ready":  # "": it died setting up
                _, errors = child.communicate(timeout=TIMEOUT)
                raise AssertionError(f"a worker failed before the start:\n{errors}")
        if before_go is not None:
            before_go()
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        results = []
        for child in children:
            output, errors = child.communicate(timeout=TIMEOUT)
            assert child.returncode == 0, errors
            results.append(json.loads(output.strip().splitlines()[-1]))
        return results
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
            child.communicate()
