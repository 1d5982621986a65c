"""``python -m connector.sandbox``: serve the sandbox on a loopback port until Ctrl-C.

Prints the base URL and the API key to paste into the console's Setup page (or into
``AC_API_URL`` / ``AC_API_KEY``). State lives in ``--db`` (default ``data/sandbox.db``), so the
demo account survives restarts; ``--reset`` puts it back to the seed first. Other processes (the
dashboard, CLI commands, tests) may open the same ``--db`` while it runs: they share its account
data and its request budget.

Like the live account, it admits 5 requests per second and answers the rest 429 + ``Retry-After``
(``--rate-limit N`` per ``--rate-window S`` seconds; ``--rate-limit 0`` lifts the limit);
``--latency MS --jitter MS`` delays every answer. The admin endpoints printed as "Sandbox admin"
(stats, faults, config, reset: see ``connector.sandbox.server``) change all that while it runs.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any

from .emulator import DEMO_API_KEY, Sandbox
from .server import SandboxServer, check_loopback

DEFAULT_PORT = 8600
DEFAULT_DB = "data/sandbox.db"
DEFAULT_RATE_LIMIT = 5  # requests per second per account, as on the live API (api.md §5)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m connector.sandbox",
        description="Serve an emulated ActiveCampaign API v3 account on a loopback port.",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1", help="loopback only (default 127.0.0.1)")
    parser.add_argument("--api-key", default=DEMO_API_KEY, help="the Api-Token clients must send")
    parser.add_argument("--db", default=DEFAULT_DB, help=f"SQLite state (default {DEFAULT_DB})")
    parser.add_argument("--reset", action="store_true", help="restore the seeded demo account")
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=DEFAULT_RATE_LIMIT,
        metavar="N",
        help=f"requests admitted per window, more get 429 (default {DEFAULT_RATE_LIMIT}; 0: none)",
    )
    parser.add_argument(
        "--rate-window",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="the rate limit's sliding window (default 1)",
    )
    parser.add_argument(
        "--latency", type=float, default=0.0, metavar="MS", help="delay every answer (default 0)"
    )
    parser.add_argument(
        "--jitter", type=float, default=0.0, metavar="MS", help="plus up to this much at random"
    )
    args = parser.parse_args(argv)
    if args.rate_limit < 0:
        parser.error("--rate-limit must be >= 0 (0 lifts the limit)")
    if not args.rate_window > 0:
        parser.error("--rate-window must be > 0")
    if not (args.latency >= 0 and args.jitter >= 0):
        parser.error("--latency and --jitter must be >= 0")
    try:
        check_loopback(args.host)
    except ValueError as error:
        parser.error(str(error))
    if not args.api_key:
        parser.error("--api-key must not be empty")
    return args


def describe(config: dict[str, Any]) -> str:
    limit = config["rate_limit"]
    budget = f"{limit} requests per {config['rate_window']:g} s" if limit else "no rate limit"
    latency = f"latency {config['latency'] * 1000:g} ms + up to {config['jitter'] * 1000:g} ms"
    return f"{budget}, {latency}"


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # one clean shutdown path for Ctrl-C and `kill`


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    sandbox = Sandbox(
        args.db,
        api_key=args.api_key,
        rate_limit=args.rate_limit or None,
        rate_window=args.rate_window,
        latency=args.latency / 1000,
        jitter=args.jitter / 1000,
    )
    with sandbox:
        if args.reset:
            sandbox.reset()
        try:
            server = SandboxServer(sandbox, args.host, args.port, log_requests=not args.quiet)
            with server:
                print(f"Sandbox API URL: {server.base_url}", flush=True)
                print(f"Sandbox API key: {sandbox.api_key}", flush=True)
                print(
                    f"Sandbox admin: {server.admin_url} (stats, faults, config, reset)", flush=True
                )
                print(f"Traffic: {describe(sandbox.config())}", flush=True)
                print(f"State: {args.db} (Ctrl-C to stop)", flush=True)
                threading.Event().wait()
        except KeyboardInterrupt:
            print("Sandbox stopped.", flush=True)
        except OSError as error:  # typically: port already in use
            print(f"Cannot serve on {args.host}:{args.port}: {error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
