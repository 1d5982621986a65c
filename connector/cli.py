"""``python -m connector``: the console's operations for scripts and cron.

Same settings (``CONNECTOR_DB``, ``AC_API_URL``, ``AC_API_KEY``) and the same functions as the
pages. Failures print one line on stderr and exit 1 (2 for a usage error); never a traceback.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from .actions import REGISTRY
from .console import Console
from .errors import ConnectorError
from .log import LogFilter, Status
from .models import ActionType, CatalogKind, InputKind, Interaction
from .prompts import ActionConfig, FormInput, Prompt
from .runner import SimulatedUser

__all__ = ["main"]

_ACTIONS = {
    "add-contact": (ActionType.ADD_CONTACT, None),
    "add-to-list": (ActionType.ADD_TO_LIST, "list"),
    "add-to-automation": (ActionType.ADD_TO_AUTOMATION, "automation"),
    "add-tag": (ActionType.ADD_TAG, "tag"),
}
_CATALOG_KIND = {kind.value: kind for kind in CatalogKind}
_FAILED = 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m connector",
        description="ActiveCampaign Connector: the console's operations from a shell.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("check", help="test the connection and print the account's user")
    for kind in CatalogKind:
        sub = commands.add_parser(kind.value, help=f"print every {kind.value[:-1]} of the account")
        sub.add_argument("--json", action="store_true", help="print a JSON array")

    action = commands.add_parser("action", help="run one action through the runner (logged)")
    action.add_argument("kind", choices=list(_ACTIONS), help="the action to run")
    action.add_argument("--email", required=True)
    action.add_argument("--first-name", default="")
    action.add_argument("--last-name", default="")
    action.add_argument("--phone", default="")
    action.add_argument("--list", help="list id (add-to-list)")
    action.add_argument("--automation", help="automation id (add-to-automation)")
    action.add_argument("--tag", help="tag id (add-tag)")
    action.add_argument("--allow-reentry", action="store_true", help="enroll again if enrolled")
    action.add_argument("--resubscribe", action="store_true", help="resubscribe if unsubscribed")
    action.add_argument("--dry-run", action="store_true", help="show the requests, send nothing")
    action.add_argument("--json", action="store_true", help="print the outcome as JSON")

    log = commands.add_parser("log", help="print recent action log rows, newest first")
    log.add_argument("--status", choices=[s.value for s in Status])
    log.add_argument("--limit", type=int, default=20)
    log.add_argument("--json", action="store_true", help="print a JSON array")
    return parser


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def _check(console: Console, args: argparse.Namespace) -> int:
    account = console.account()
    user = console.check()
    where = "the built-in sandbox" if account.is_sandbox else account.api_url
    print(f"Connected to {where} as {user.display_name} <{user.email}> (key {account.masked_key})")
    return 0


def _catalog(console: Console, args: argparse.Namespace) -> int:
    kind = _CATALOG_KIND[args.command]
    console.refresh_catalog((kind,))
    items = [asdict(item) for item in console.catalog_items(kind)]
    if args.json:
        _print_json(items)
    else:
        for item in items:
            print(f"{item['id']}\t{item['name']}")
    return 0


def _action(console: Console, args: argparse.Namespace) -> int:
    action_type, key = _ACTIONS[args.kind]
    spec = REGISTRY[action_type]
    target = getattr(args, key) if key else ""
    if key and not target:
        raise SystemExit(f"python -m connector action {args.kind}: --{key} ID is required")
    names = {i.id: i.name for i in console.catalog_items(CatalogKind(f"{key}s"))} if key else {}
    options = {o.key: getattr(args, o.key) for o in spec.options}
    params = spec.params_for(target, names.get(target, ""), **options)
    inputs = [
        FormInput("--email", kind=InputKind.EMAIL, required=True, maps_to="email"),
        FormInput("--first-name", maps_to="firstName"),
        FormInput("--last-name", maps_to="lastName"),
        FormInput("--phone", kind=InputKind.PHONE, maps_to="phone"),
    ]
    prompt = Prompt(
        name="command line",
        inputs=inputs,
        actions={Interaction.ACCEPT: [ActionConfig(action_type, params)]},
    )
    values = dict(enumerate([args.email, args.first_name, args.last_name, args.phone]))
    operator = os.environ.get("CONNECTOR_OPERATOR") or getpass.getuser()
    result = console.runner(operator=operator, source="cli").run(
        prompt, Interaction.ACCEPT, SimulatedUser(), values, dry_run=args.dry_run
    )
    if result.input_errors:
        for position, problem in result.input_errors.items():
            print(f"{inputs[position].label}: {problem}", file=sys.stderr)
        return 2
    outcome = next(o for o in reversed(result.outcomes) if o.action_type is action_type)
    summary: dict[str, Any] = {
        "action": action_type.value,
        "status": outcome.status.value,
        "attempts": outcome.attempts,
        "contact_id": result.contact_id,
        "target_id": outcome.target_id,
        "http_status": outcome.http_status,
        "error": outcome.error,
        "run_id": result.run_id,
    }
    if args.json:
        summary["steps"] = [
            {"action": o.action_type.value, "status": o.status.value, "request": o.request}
            for o in result.outcomes
        ]
        _print_json(summary)
    else:
        for o in result.outcomes:
            line = f"{o.status.value:<10} {o.label}"
            line += f" #{o.target_id}" if o.target_id else ""
            line += f" (HTTP {o.http_status}, {o.attempts} attempt(s))" if o.attempts else ""
            print(line + (f": {o.error}" if o.error else ""))
    failed = [o for o in result.outcomes if o.status is Status.FAILED]
    if failed:
        print(failed[0].error, file=sys.stderr)
        return _FAILED
    return 0


def _log(console: Console, args: argparse.Namespace) -> int:
    filters = LogFilter(statuses=(args.status,) if args.status else ())
    rows = console.log.page(filters, limit=max(1, args.limit)).rows
    if args.json:
        for row in rows:
            for key in ("request", "response"):
                row[key] = json.loads(row[key]) if row.get(key) else None
        _print_json(rows)
        return 0
    for row in rows:
        target = row["target_name"] or row["target_id"] or ""
        print(
            f"{row['created_at']}  {row['status']:<11} {row['action_type']:<18} "
            f"{target[:28]:<28} {row['contact_email'] or '-'}"
        )
    return 0


_COMMANDS = {
    "check": _check,
    "action": _action,
    "log": _log,
    **dict.fromkeys(_CATALOG_KIND, _catalog),
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    console: Console | None = None
    try:
        console = Console()
        return _COMMANDS[args.command](console, args)
    except ConnectorError as exc:
        print(exc.message, file=sys.stderr)
        return _FAILED
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    finally:
        if console is not None:
            console.close()
