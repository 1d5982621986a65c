"""A child process for the crash tests: runs one interaction, or a worker's turns, on a data file
and a sandbox file it shares with the test, and dies like SIGKILL (``os._exit``: no cleanup, no
flush, no finally) at the request the test chose, before it reaches the account or after it
was applied.

    python tests/crash_child.py '{"role": "run"|"work", "db": ..., "sandbox": ..., "email": ...,
                                  "ahead": seconds, "crash_at": n|null, "when": "before"|"after"}'

Exit status 0 when it finished, 9 when it died on purpose.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import httpx

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from connector import Console, Interaction, SimulatedUser  # noqa: E402
from connector.sandbox import Sandbox  # noqa: E402

PROMPT = "Crash test"


class Dying(Sandbox):
    """Dies at request number ``crash_at`` (1-based), before or after handling it."""

    def __init__(self, path: str, crash_at: int | None, when: str) -> None:
        super().__init__(path)
        self.crash_at, self.when, self.seen = crash_at, when, 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen += 1
        dying = self.seen == self.crash_at
        if dying and self.when == "before":
            os._exit(9)
        answer = super().handle(request)
        if dying:
            os._exit(9)
        return answer


def main(job: dict) -> int:
    sandbox = Dying(job["sandbox"], job.get("crash_at"), job.get("when", "before"))
    ahead = float(job.get("ahead", 0.0))
    console = Console(job["db"], env={}, sandbox=sandbox, clock=lambda: time.time() + ahead)
    if job["role"] == "run":
        prompt = next(p for p in console.prompts.all() if p.name == PROMPT)
        console.runner(source="cli").run(
            prompt, Interaction.ACCEPT, SimulatedUser("u"), {0: job["email"]}
        )
    else:
        while console.work_on_due_run():
            pass
    console.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))
