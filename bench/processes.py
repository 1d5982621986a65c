"""Several processes refresh the whole catalog at once, sharing one request budget.

N real processes (fresh interpreters) use one data file (``CONNECTOR_DB``) and one account: a
loopback sandbox server holding 2,000 lists (plus 8 automations, 5 fields and 10 tags), answering
with 50 ms of latency and refusing (429) anything over 5 requests in a one-second window, as the
live account does. Each process sets up its ``Console`` from the environment, says it is ready,
and on "go" (all at the same moment) refreshes the whole catalog. Every request first takes a
slot from the account's request budget in the shared file, so the processes together must stay
within the rate limit: no 429, and at most ``R`` arrivals at the server in any sliding second
(the server admits no more, so this checks the server; the 429 count checks the budget, and the
tightest span of ``R + 1`` arrivals shows how much of the budget's 50 ms margin was used).
The bound is the rate limit itself: ``requests / R`` seconds from "go" to the last process done.
The request count should be the minimum, ``N × ceil(n / 100)`` per collection.

    python -m bench.processes [--processes N] [--lists N] [--latency-ms MS] [--rate R]
"""

from __future__ import annotations

import argparse
import bisect
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from connector.sandbox import Sandbox, SandboxServer, SeedSpec

REPO = Path(__file__).resolve().parent.parent
# The child's program: find the repository's ``bench`` (and ``connector``), then take orders.
BOOTSTRAP = "import sys; sys.path[:0] = sys.argv[1:2]; from bench.processes import child; child()"
START_TIMEOUT = 120.0  # seconds for a child to import and set up: a slow 2-core machine
WINDOW = 1.0  # seconds: the server's window, in which at most R requests may arrive


def child() -> None:
    """In a child: set up the console from the environment, say "ready", wait for "go", refresh
    the catalog, and print what happened as JSON (the last line)."""
    from connector import Console  # imported here: the parent has no use for it
    from connector.engine.budget import RequestBudget

    console = Console()
    client = console.client()  # the account, the HTTP client and the budget, before the start
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        raise SystemExit("the benchmark went away")
    started = time.time()
    counts = console.refresh_catalog()
    done = time.time()
    budget = client.budget
    waited = budget.waited if isinstance(budget, RequestBudget) else 0.0
    console.close()
    result = {
        "items": {kind.value: n for kind, n in counts.items()},
        "started": started,
        "done": done,
        "waited_s": waited,
    }
    print(json.dumps(result), flush=True)


def run_children(count: int, env: dict[str, str], timeout: float) -> tuple[float, list[Any]]:
    """Start ``count`` children, release them together once all are ready; returns the
    wall-clock time of "go" and each child's result."""
    children = [
        subprocess.Popen(
            [sys.executable, "-c", BOOTSTRAP, str(REPO)],
            cwd=REPO,
            env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    try:
        for process in children:
            assert process.stdout is not None
            if process.stdout.readline().strip() != "ready":  # "": it died setting up
                _, errors = process.communicate(timeout=START_TIMEOUT)
                raise SystemExit(f"a process failed before the start:\n{errors}")
        go = time.time()
        for process in children:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        results = []
        for process in children:
            output, errors = process.communicate(timeout=timeout)
            if process.returncode != 0:
                raise SystemExit(f"a process failed:\n{errors}")
            results.append(json.loads(output.strip().splitlines()[-1]))
        return go, results
    finally:
        for process in children:
            if process.poll() is None:
                process.kill()
            process.communicate()


def busiest_window(arrivals: list[float], window: float = WINDOW) -> int:
    """The most arrivals in any sliding ``window`` (half-open, as the server counts them)."""
    times = sorted(arrivals)
    return max(
        (bisect.bisect_left(times, t + window) - i for i, t in enumerate(times)),
        default=0,
    )


def tightest_span(arrivals: list[float], limit: int) -> float | None:
    """The shortest time spanned by ``limit + 1`` consecutive arrivals: the server refuses the
    last of them when it is under its window; the budget aims for its own, 50 ms longer."""
    times = sorted(arrivals)
    spans = [times[i + limit] - times[i] for i in range(len(times) - limit)]
    return min(spans, default=None)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.processes")
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--lists", type=int, default=2_000)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--rate", type=int, default=5, help="requests per second per account")
    args = parser.parse_args()

    seed = SeedSpec(lists=args.lists)
    pages = sum(
        math.ceil(max(n, 1) / 100) for n in (seed.lists, seed.automations, seed.fields, seed.tags)
    )
    minimum = args.processes * pages
    timeout = START_TIMEOUT + 3 * minimum / args.rate
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = Sandbox(Path(tmp) / "sandbox.db", seed=seed, rate_limit=args.rate)
        sandbox.configure(latency=args.latency_ms / 1000)
        with SandboxServer(sandbox) as server:
            env = {
                "CONNECTOR_DB": str(Path(tmp) / "connector.db"),
                "AC_API_URL": server.base_url,
                "AC_API_KEY": sandbox.api_key,
                "AC_RATE_LIMIT": str(args.rate),
            }
            go, results = run_children(args.processes, env, timeout)
            stats = sandbox.stats()
            arrivals = sandbox.arrivals()
        sandbox.close()

    wall = max(result["done"] for result in results) - go
    bound = stats["requests"] / args.rate
    busiest = busiest_window(arrivals)
    tightest = tightest_span(arrivals, args.rate)
    result = {
        "benchmark": "processes",
        "processes": args.processes,
        "items_per_process": results[0]["items"],
        "requests": stats["requests"],
        "minimum_requests": minimum,
        "throttled_429": stats["refused"],
        "latency_ms": args.latency_ms,
        "rate_per_s": args.rate,
        "max_arrivals_per_1s": busiest,
        "tightest_span_s": None if tightest is None else round(tightest, 3),
        "wall_s": round(wall, 3),
        "bound_s": round(bound, 3),
        "ratio": round(wall / bound, 3),
    }
    items = sum(results[0]["items"].values())
    print(
        f"{args.processes} processes × {items} items in {stats['requests']} requests "
        f"(minimum {minimum}), {stats['refused']} refused with 429"
    )
    print(f"at most {busiest} arrivals in any {WINDOW:g} s window (limit {args.rate})")
    if tightest is not None:
        print(f"{args.rate + 1} arrivals in a row spanned at least {tightest:.3f} s")
    waits = ", ".join(f"{r['waited_s']:.1f}" for r in results)
    print(f"seconds waited for the budget per process (summed over its page threads): {waits}")
    print(f"wall {wall:.2f} s vs bound {bound:.2f} s (requests / {args.rate} per s)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
