"""``python -m connector.sandbox``: serve the sandbox on a loopback port until Ctrl-C.

Prints the base URL and the API key to paste into the console's Setup page (or into
``AC_API_URL`` / ``AC_API_KEY``). State lives in ``--db`` (default ``data/sandbox.db``), so the
demo account survives restarts; ``--reset`` puts it back to the seed first.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from .emulator import DEMO_API_KEY, Sandbox
from .server import SandboxServer, check_loopback

DEFAULT_PORT = 8600
DEFAULT_DB = "data/sandbox.db"


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
    args = parser.parse_args(argv)
    try:
        check_loopback(args.host)
    except ValueError as error:
        parser.error(str(error))
    if not args.api_key:
        parser.error("--api-key must not be empty")
    return args


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # one clean shutdown path for Ctrl-C and `kill`


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    with Sandbox(args.db, api_key=args.api_key) as sandbox:
        if args.reset:
            sandbox.reset()
        try:
            server = SandboxServer(sandbox, args.host, args.port, log_requests=not args.quiet)
            with server:
                print(f"Sandbox API URL: {server.base_url}", flush=True)
                print(f"Sandbox API key: {sandbox.api_key}", flush=True)
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
