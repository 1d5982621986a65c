"""One Accept with four actions: how close to the critical path of round trips does it run?

Accept carries Add Contact, Add to List, Add to Automation and Add Tag (the last three with
error behaviour Continue, so they don't depend on each other), run by the console's own runner:
the shared request budget in SQLite (set high enough not to bind, so only its cost shows), a
claim per action, a duplicate check, and a verified answer. The sandbox answers with 100 ms of
latency. The least number of sequential round trips the duplicate checks allow is 3: the sync,
then for each action its check and its write (the three actions in parallel). The naive
sequential time is every request one after another.

    python -m bench.interaction [--latency-ms MS] [--runs N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from connector import (
    ActionConfig,
    ActionType,
    Console,
    ErrorBehaviour,
    FormInput,
    InputKind,
    Interaction,
    Prompt,
    RunStatus,
    SimulatedUser,
)
from connector.sandbox import Sandbox

NOT_BINDING = 1000  # requests per second: the budget is consulted but never makes anyone wait

CRITICAL_PATH_ROUND_TRIPS = 3  # sync → (check → write) for the three independent actions


def prompt(list_id: str, automation_id: str, tag_id: str) -> Prompt:
    go_on = ErrorBehaviour.CONTINUE
    accept = Prompt(
        name="bench",
        actions={
            Interaction.ACCEPT: [
                ActionConfig(ActionType.ADD_CONTACT),
                ActionConfig(ActionType.ADD_TO_LIST, {"list_id": list_id}, go_on),
                ActionConfig(ActionType.ADD_TO_AUTOMATION, {"automation_id": automation_id}, go_on),
                ActionConfig(ActionType.ADD_TAG, {"tag_id": tag_id}, go_on),
            ]
        },
    )
    accept.map_input(FormInput("Email", kind=InputKind.EMAIL, required=True), "email")
    return accept


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.interaction")
    parser.add_argument("--latency-ms", type=float, default=100)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    latency = args.latency_ms / 1000

    with tempfile.TemporaryDirectory() as tmp:
        env = {"AC_RATE_LIMIT": str(NOT_BINDING)}
        console = Console(Path(tmp) / "bench.db", env=env, sandbox=Sandbox(rate_limit=NOT_BINDING))
        client = console.client()
        accept = prompt(client.lists()[0].id, client.automations()[0].id, client.tags()[0].id)
        runner = console.runner(operator="bench", source="bench")
        sandbox = console.sandbox
        sandbox.configure(latency=latency)
        walls: list[float] = []
        requests: list[int] = []
        for n in range(args.runs):
            before = sandbox.request_count()
            started = time.perf_counter()
            run = runner.run(accept, Interaction.ACCEPT, SimulatedUser(), {0: f"b{n}@x.io"})
            walls.append(time.perf_counter() - started)
            requests.append(sandbox.request_count() - before)
            assert run.status is RunStatus.SUCCEEDED, run.to_dict()
        console.close()

    wall = statistics.median(walls)
    critical = CRITICAL_PATH_ROUND_TRIPS * latency
    sequential = statistics.median(requests) * latency
    result = {
        "benchmark": "interaction",
        "latency_ms": args.latency_ms,
        "runs": args.runs,
        "requests_per_run": statistics.median(requests),
        "wall_s_median": round(wall, 4),
        "critical_path_s": round(critical, 4),
        "naive_sequential_s": round(sequential, 4),
        "ratio": round(wall / critical, 3),
        "ratio_to_sequential": round(wall / sequential, 3),
    }
    print(f"{result['requests_per_run']:g} requests per Accept, median of {args.runs} runs")
    print(f"wall {wall * 1000:.0f} ms vs critical path {critical * 1000:.0f} ms")
    print(f"naive sequential would take {sequential * 1000:.0f} ms")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
