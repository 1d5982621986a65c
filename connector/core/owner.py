"""Who is doing the work: this process, and whether the process behind a record still lives.

Runs and claims record their owner (host, pid, process start time). A pending run whose owner is
gone was interrupted; a claim whose owner is gone is released. The start time tells a live owner
from a later process that happens to reuse its pid.
"""

from __future__ import annotations

import getpass
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

import psutil

__all__ = ["Owner", "default_operator"]


def default_operator(env: Mapping[str, str] | None = None) -> str:
    """Who acts when nobody said: ``CONNECTOR_OPERATOR``, else the OS user (the CLI's rule,
    and the dashboard's without sign-in and a typed name)."""
    name = (os.environ if env is None else env).get("CONNECTOR_OPERATOR", "").strip()
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


# psutil derives start times from clock ticks since boot: 10 ms steps.
_SAME_START = 0.05


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    started: float  # the process's start time, seconds since the epoch

    @classmethod
    def current(cls) -> Owner:
        return _current(os.getpid())  # keyed on the pid: a forked child is its own owner

    def is_alive(self) -> bool:
        """Whether this owner's process is still running. An owner on another host can't be
        checked from here and counts as alive."""
        if self.host != socket.gethostname():
            return True
        try:
            started = psutil.Process(self.pid).create_time()
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            return False
        except psutil.Error:  # e.g. access denied: it exists
            return True
        return abs(started - self.started) < _SAME_START

    def describe(self) -> str:
        return f"process {self.pid} on {self.host}"


@cache
def _current(pid: int) -> Owner:
    return Owner(socket.gethostname(), pid, psutil.Process(pid).create_time())
