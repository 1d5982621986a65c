"""Who is doing the work: the operator's name, and this process as a lease owner.

Runs, claims and replay jobs are held under leases (``connector.store.leases``): an owner's name
and an expiry the owner keeps renewing while it works. Whether the owner still lives is never
asked of the operating system (a process id means nothing on another machine, and a reused one
lies): a lease that was not renewed in time has lost its owner, wherever that owner ran.

The owner's name says where it runs, for people (``node/pid``), plus a random token, so that
a later process that happens to get the same pid is a different owner.
"""

from __future__ import annotations

import getpass
import os
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

__all__ = ["Owner", "default_operator", "node_name"]


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


def node_name(env: Mapping[str, str] | None = None) -> str:
    """This machine's name in leases: ``CONNECTOR_NODE``, else the host name."""
    named = (os.environ if env is None else env).get("CONNECTOR_NODE", "").strip()
    return named or socket.gethostname()


@dataclass(frozen=True)
class Owner:
    """A lease owner: one process on one node."""

    node: str
    pid: int
    token: str

    @classmethod
    def current(cls) -> Owner:
        return _current(os.getpid())  # keyed on the pid: a forked child is its own owner

    @property
    def name(self) -> str:
        """The value stored in a lease's owner column."""
        return f"{self.node}/{self.pid}/{self.token}"

    def describe(self) -> str:
        return f"process {self.pid} on {self.node}"

    @staticmethod
    def described(name: str) -> str:
        """A stored owner name as a phrase ("process 12 on web-1")."""
        node, _, rest = (name or "").partition("/")
        pid = rest.partition("/")[0]
        return f"process {pid} on {node}" if pid else (name or "nobody")


@cache
def _current(pid: int) -> Owner:
    return Owner(node_name(), pid, secrets.token_hex(4))
