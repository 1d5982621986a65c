"""``python -m connector account …``, ``sandbox-reset`` and ``secret-key``: the Setup page's
operations from a shell.

The key is never an argument (arguments show in ``ps`` and shell history): ``account save``
reads it from standard input, or asks for it without echo on a terminal.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from connector.core.errors import InputError
from connector.core.owner import default_operator
from connector.entry.console import Console
from connector.store.cipher import new_secret

__all__ = ["COMMANDS", "add_parsers"]

OK = 0


def add_parsers(commands: Any) -> None:
    account = commands.add_parser(
        "account", help="show, save, switch or remove the saved ActiveCampaign account"
    )
    actions = account.add_subparsers(dest="account_command", metavar="ACTION")
    actions.required = False
    account.add_argument("--json", action="store_true", help="print a JSON object")
    save = actions.add_parser(
        "save", help="check the account live, then save it (key from stdin or a prompt)"
    )
    save.add_argument("--url", required=True, help="the API URL from Settings > Developer")
    save.add_argument("--json", action="store_true", help="print a JSON object")
    use = actions.add_parser("use", help="use the saved account or the sandbox (keeps the key)")
    use.add_argument("which", choices=["saved", "sandbox"])
    use.add_argument("--json", action="store_true", help="print a JSON object")
    remove = actions.add_parser("remove", help="delete the saved account and its key")
    remove.add_argument("--yes", action="store_true", help="remove (without it: say what would)")
    remove.add_argument("--json", action="store_true", help="print a JSON object")

    reset = commands.add_parser("sandbox-reset", help="put the sandbox back to its demo seed")
    reset.add_argument("--yes", action="store_true", help="reset (without it: say what would)")
    reset.add_argument("--json", action="store_true", help="print a JSON object")

    commands.add_parser("secret-key", help="print a new value for CONNECTOR_SECRET_KEY")


def _print(value: dict[str, Any], as_json: bool, text: str) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False) if as_json else text)


def _status(console: Console) -> dict[str, Any]:
    saved = console.settings.account()
    return {
        "in_effect": console.account_source(),
        "saved": None
        if saved is None
        else {
            "api_url": saved.api_url,
            "masked_key": saved.masked_key,
            "encrypted": saved.encrypted,
            "in_use": saved.in_use,
            "saved_at": saved.saved_at,
        },
    }


def _describe(status: dict[str, Any]) -> str:
    saved = status["saved"]
    lines = [f"In effect: {status['in_effect']}"]
    if saved is None:
        lines.append("Saved account: none")
    else:
        how = "encrypted" if saved["encrypted"] else "unencrypted"
        use = "in use" if saved["in_use"] else "set aside (the sandbox is in use)"
        lines.append(f"Saved account: {saved['api_url']} key {saved['masked_key']} ({how}), {use}")
    return "\n".join(lines)


def _read_key() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("API key (not echoed): ")
    key = sys.stdin.readline()
    if not key.strip():
        raise InputError("Pipe the API key on standard input: it is never taken as an argument.")
    return key


def _account(console: Console, args: argparse.Namespace) -> int:
    operator = default_operator()
    match args.account_command:
        case "save":
            user = console.save_account(args.url, _read_key(), operator=operator, source="cli")
            status = _status(console)
            _print(
                {**status, "user": asdict(user)},
                args.json,
                f"Saved and in use; connected as {user.display_name} <{user.email}>.\n"
                + _describe(status),
            )
        case "use":
            if args.which == "saved":
                console.use_saved_account(operator=operator, source="cli")
            else:
                console.use_sandbox(operator=operator, source="cli")
            status = _status(console)
            _print(status, args.json, _describe(status))
        case "remove":
            status = _status(console)
            if status["saved"] is None:
                _print({**status, "removed": False}, args.json, "No account is saved.")
            elif not args.yes:
                _print(
                    {**status, "removed": False},
                    args.json,
                    f"Would remove {status['saved']['api_url']} and its key; run again with "
                    "--yes to remove it.",
                )
            else:
                console.forget_account(operator=operator, source="cli")
                _print(
                    {**_status(console), "removed": True},
                    args.json,
                    f"Removed {status['saved']['api_url']} and its key. The sandbox is in use.",
                )
        case _:
            status = _status(console)
            _print(status, args.json, _describe(status))
    return OK


def _sandbox_reset(console: Console, args: argparse.Namespace) -> int:
    if not args.yes:
        _print(
            {"reset": False},
            args.json,
            f"Would erase the sandbox's contacts and changes in {console.sandbox_path}; run "
            "again with --yes to reset it. The action log is kept.",
        )
        return OK
    console.reset_sandbox(operator=default_operator(), source="cli")
    _print({"reset": True}, args.json, "The sandbox is back to its seeded demo account.")
    return OK


def print_secret_key() -> int:
    """``secret-key``: needs no data file, so it is run before the console opens one."""
    print(new_secret())
    print(
        "Set it as CONNECTOR_SECRET_KEY for the dashboard and the CLI, then enter the API key "
        "again on Setup (or `account save`) to store it encrypted. Keep it out of the data folder.",
        file=sys.stderr,
    )
    return OK


COMMANDS: dict[str, Callable[[Console, argparse.Namespace], int]] = {
    "account": _account,
    "sandbox-reset": _sandbox_reset,
}
