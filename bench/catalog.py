"""Fetch a big catalog within the account's rate limit.

The sandbox holds 10,000 lists and 2,000 automations (plus the 5 demo fields and 10 tags), answers
with 50 ms of latency, and refuses (429) anything over 5 requests in a one-second window, as the
live account does. The console fetches through its shared request budget (kept in SQLite, so
every process on the data file shares it). The bound is the rate limit itself: ``requests / 5``
seconds. The request count should be the minimum, ``ceil(n / 100)`` per collection.

    python -m bench.catalog [--lists N] [--automations N] [--latency-ms MS] [--rate R]
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from pathlib import Path

from connector import Console
from connector.sandbox import Sandbox, SeedSpec


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.catalog")
    parser.add_argument("--lists", type=int, default=10_000)
    parser.add_argument("--automations", type=int, default=2_000)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--rate", type=int, default=5, help="requests per second per account")
    args = parser.parse_args()

    seed = SeedSpec(lists=args.lists, automations=args.automations)
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = Sandbox(seed=seed, rate_limit=args.rate)
        sandbox.configure(latency=args.latency_ms / 1000)
        env = {"AC_RATE_LIMIT": str(args.rate)}
        console = Console(Path(tmp) / "bench.db", env=env, sandbox=sandbox)
        started = time.perf_counter()
        counts = console.refresh_catalog()
        wall = time.perf_counter() - started
        stats = sandbox.stats()
        console.close()

    minimum = sum(math.ceil(max(n, 1) / 100) for n in counts.values())
    bound = stats["requests"] / args.rate
    result = {
        "benchmark": "catalog",
        "items": {kind.value: n for kind, n in counts.items()},
        "requests": stats["requests"],
        "minimum_requests": minimum,
        "throttled_429": stats["refused"],
        "latency_ms": args.latency_ms,
        "rate_per_s": args.rate,
        "wall_s": round(wall, 3),
        "bound_s": round(bound, 3),
        "ratio": round(wall / bound, 3),
    }
    print(
        f"{sum(counts.values())} items in {stats['requests']} requests "
        f"(minimum {minimum}), {stats['refused']} refused with 429"
    )
    print(f"wall {wall:.2f} s vs bound {bound:.2f} s (requests / {args.rate} per s)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
