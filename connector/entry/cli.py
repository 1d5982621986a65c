"""``python -m connector``: the console's operations for scripts and cron.

Same settings (``CONNECTOR_DB``, ``AC_API_URL``, ``AC_API_KEY``…) and the same functions as the
pages. Every command that touches an account names it on stderr and in its ``--json`` output.

Exit status: 0 when everything succeeded (or was already done, or there was nothing to do);
1 when something failed, its outcome is unknown, or the log could not record it; 2 when the
input was refused (a form value, a setting, an unknown prompt, a usage error). Failures print
sentences on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from connector.ac.actions import REGISTRY
from connector.core.errors import ConnectorError, InputError, SettingsError, clip
from connector.core.models import ActionType, CatalogKind, InputKind, Interaction, api_id
from connector.core.owner import default_operator
from connector.core.records import Run, RunStatus, SimulatedUser, Status
from connector.engage.contact import mapping_lines
from connector.engage.display import pending_sentence
from connector.engage.forms import validate_form
from connector.engage.prompts import (
    ActionConfig,
    FieldMapping,
    FormInput,
    Prompt,
    Source,
    check_runnable,
    name_key,
)
from connector.engine.jobs import JobState
from connector.entry import cli_account
from connector.entry.console import DEMO_SEEDED, Console
from connector.entry.worker import Worker
from connector.store.files import narrowed, open_private
from connector.store.log_export import ExportFormat
from connector.store.log_export import export as export_log
from connector.store.log_query import LogFilter, TimeRange
from connector.store.retention import count_older, cutoff_for, vacuum
from connector.store.settings import AccountSettings

__all__ = ["main"]

OK, FAILED, REFUSED, UNFINISHED = 0, 1, 2, 3

# Every action of the registry, named as its type with dashes (add-to-list, remove-tag...).
_ACTIONS: dict[str, ActionType] = {t.value.replace("_", "-"): t for t in REGISTRY}
_ACTION_ALIASES = {"update-contact-fields": ActionType.UPDATE_CONTACT.value.replace("_", "-")}
# Flag -> (what it names, the actions that take it): each action's target and its options.
_TARGETS = {
    p.key: (p.label.lower(), [k for k, t in _ACTIONS.items() if p in REGISTRY[t].params])
    for spec in REGISTRY.values()
    for p in spec.params
}
_OPTIONS = {
    o.key: (o.help, [k for k, t in _ACTIONS.items() if o in REGISTRY[t].options])
    for spec in REGISTRY.values()
    for o in spec.options
}
_CATALOG_KIND = {kind.value: kind for kind in CatalogKind}


class _Refused(Exception):
    """The command line itself is wrong: exit 2 with this sentence."""


MAX_LIMIT = 10_000  # rows a listing prints at most
MAX_ID = 10**15  # above any row or prompt id SQLite will hand out here
MAX_DAYS = 36_500  # a hundred years: further back than any log goes
_SHOWN = 60  # characters of something typed that a refusal repeats


def _shown(value: str) -> str:
    """Something typed, as a message repeats it: quoted, on one line, control and other
    invisible characters escaped (a newline shows as \\n), cut to ``_SHOWN`` characters."""
    escaped = "".join(
        c if c.isprintable() else (json.dumps(c)[1:-1] if ord(c) < 0x10000 else f"\\U{ord(c):08x}")
        for c in value
    )
    cut = escaped if len(escaped) <= _SHOWN else escaped[: _SHOWN - 1] + "…"
    return f"“{cut}”"


def _whole(flag: str, low: int, high: int, unit: str = "") -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high`` (of ``unit``, e.g. "day"),
    else a sentence (exit 2)."""

    def parse(text: str) -> int:
        digits = text.strip()
        if re.fullmatch(r"[0-9]{1,16}", digits) and low <= int(digits) <= high:
            return int(digits)
        low_unit = f" {unit}{'' if low == 1 else 's'}" if unit else ""
        raise argparse.ArgumentTypeError(
            f"{flag} takes a whole number: at least {low:,}{low_unit}, at most {high:,}, "
            f"not {_shown(text)}."
        )

    return parse


def _seconds(flag: str) -> Callable[[str], float]:
    """An argparse type: a number of seconds, 0 or more (not nan, not infinite)."""

    def parse(text: str) -> float:
        try:
            seconds = float(text) if re.fullmatch(r"\s*[0-9.eE+]{1,20}\s*", text) else -1.0
        except ValueError:
            seconds = -1.0
        if 0 <= seconds <= 10**9:
            return seconds
        raise argparse.ArgumentTypeError(
            f"{flag} takes a number of seconds, 0 or more (e.g. 30 or 2.5), not {_shown(text)}."
        )

    return parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m connector",
        description="ActiveCampaign Connector: the console's operations from a shell.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check = commands.add_parser("check", help="test the connection and print the account's user")
    check.add_argument("--json", action="store_true", help="print a JSON object")
    for kind in CatalogKind:
        sub = commands.add_parser(kind.value, help=f"print every {kind.value[:-1]} of the account")
        sub.add_argument("--json", action="store_true", help="print a JSON object")

    prompts = commands.add_parser(
        "prompts", help="list the prompts with their inputs and actions, or export or import them"
    )
    prompts.add_argument("--json", action="store_true", help="print a JSON object")
    files = prompts.add_subparsers(dest="prompts_command", metavar="{export,import}")
    export_prompts = files.add_parser(
        "export", help="write the definitions as JSON, exactly as prompts --json prints them"
    )
    export_prompts.add_argument("--prompt", metavar="NAME", help="only this prompt")
    export_prompts.add_argument("--output", metavar="FILE", help="write here instead of stdout")
    import_prompts = files.add_parser(
        "import", help="create (or with --replace update) prompts from an exported file"
    )
    import_prompts.add_argument("file", metavar="FILE", help="a file of prompts export (-: stdin)")
    import_prompts.add_argument(
        "--replace", action="store_true", help="update the prompts that exist under these names"
    )
    import_prompts.add_argument("--json", action="store_true", help="print a JSON object")

    simulate = commands.add_parser("simulate", help="run one interaction of a prompt (logged)")
    simulate.add_argument("--prompt", required=True, metavar="NAME", help="the prompt's name")
    simulate.add_argument("--interaction", required=True, choices=[i.value for i in Interaction])
    simulate.add_argument("--user-id", default="", metavar="ID")
    simulate.add_argument(
        "--trait", action="append", default=[], metavar="KEY=VALUE", help="a user trait"
    )
    simulate.add_argument(
        "--input", action="append", default=[], metavar="LABEL=VALUE", help="a form value"
    )
    simulate.add_argument("--dry-run", action="store_true", help="check and plan, send nothing")
    simulate.add_argument("--json", action="store_true", help="print the run as JSON")

    tester = commands.add_parser(
        "test-action",
        help="test one action of a prompt alone on the test contact, as the editor's Test this "
        "action (logged, source test); a dry run unless --run",
    )
    tester.add_argument("--prompt", required=True, metavar="NAME", help="the prompt's name")
    tester.add_argument("--interaction", required=True, choices=[i.value for i in Interaction])
    tester.add_argument(
        "--action",
        required=True,
        type=_whole("--action", 1, MAX_ID),
        metavar="N",
        help="the action's position on that interaction (1: the first)",
    )
    tester.add_argument(
        "--email", default="", help="the contact to act on (default: CONNECTOR_TEST_CONTACT)"
    )
    tester.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="LABEL=VALUE",
        help="a form value Add Contact or Update Contact Fields sends (nothing else is sent)",
    )
    tester.add_argument(
        "--trait",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a user trait Add Contact or Update Contact Fields sends (nothing else is sent)",
    )
    tester.add_argument("--run", action="store_true", help="run it for real (default: dry run)")
    tester.add_argument("--json", action="store_true", help="print the run as JSON")

    action = commands.add_parser("action", help="run one action through the runner (logged)")
    action.add_argument(
        "kind",
        choices=[*_ACTIONS, *_ACTION_ALIASES],
        metavar="ACTION",
        help=f"the action to run: {', '.join(_ACTIONS)}",
    )
    action.add_argument("--email", required=True)
    action.add_argument("--first-name", default="")
    action.add_argument("--last-name", default="")
    action.add_argument("--phone", default="")
    for key, (label, kinds) in _TARGETS.items():
        action.add_argument(f"--{key}", metavar="ID", help=f"{label} id ({', '.join(kinds)})")
    for key, (help_text, kinds) in _OPTIONS.items():
        action.add_argument(
            f"--{key.replace('_', '-')}",
            dest=key,
            action="store_true",
            help=f"{help_text} ({', '.join(kinds)})",
        )
    action.add_argument("--dry-run", action="store_true", help="check and plan, send nothing")
    action.add_argument("--json", action="store_true", help="print the run as JSON")

    log = commands.add_parser("log", help="print action log rows, newest first")
    _filter_arguments(log)
    log.add_argument("--limit", type=_whole("--limit", 1, MAX_LIMIT), default=20)
    log.add_argument("--json", action="store_true", help="print a JSON array")

    runs = commands.add_parser("runs", help="print runs (one interaction each), newest first")
    _filter_arguments(runs)
    runs.add_argument("--limit", type=_whole("--limit", 1, MAX_LIMIT), default=20)
    runs.add_argument("--json", action="store_true", help="print a JSON array")

    export = commands.add_parser("export", help="write the filtered log as CSV or JSON Lines")
    export.add_argument("--format", choices=[f.value for f in ExportFormat], default="csv")
    export.add_argument("--output", metavar="FILE", help="write here instead of stdout")
    _filter_arguments(export)

    replay = commands.add_parser(
        "replay",
        help="replay failed, interrupted or unknown actions (the given rows, or all matching)",
    )
    replay.add_argument(
        "--row",
        type=_whole("--row", 1, MAX_ID),
        action="append",
        default=[],
        metavar="ID",
        help="a log row id",
    )
    _filter_arguments(replay)
    replay.add_argument("--dry-run", action="store_true", help="check and plan, send nothing")
    replay.add_argument(
        "--background", action="store_true", help="queue it for a worker and return at once"
    )
    replay.add_argument("--json", action="store_true", help="print the job as JSON")

    jobs = commands.add_parser("jobs", help="list replay jobs, or cancel or resume one")
    jobs.add_argument("--cancel", metavar="JOB", help="stop this job after its current run")
    jobs.add_argument("--resume", metavar="JOB", help="run this stopped job to the end here")
    jobs.add_argument("--json", action="store_true", help="print a JSON array")

    worker = commands.add_parser(
        "worker", help="finish due runs (verifications, resumptions) and replay jobs until Ctrl-C"
    )
    worker.add_argument(
        "--exit-when-idle",
        type=_seconds("--exit-when-idle"),
        metavar="SECONDS",
        help="stop once no job has been active for this long",
    )

    audit = commands.add_parser(
        "audit", help="print configuration changes (accounts, prompts, resets), newest first"
    )
    audit.add_argument("--limit", type=_whole("--limit", 1, MAX_LIMIT), default=50)
    audit.add_argument("--json", action="store_true", help="print a JSON array")

    retention = commands.add_parser("retention", help="delete log rows older than N days")
    retention.add_argument(
        "--older-than",
        type=_whole("--older-than", 1, MAX_DAYS, "day"),
        required=True,
        metavar="DAYS",
    )
    retention.add_argument("--yes", action="store_true", help="delete (without it: count only)")
    retention.add_argument("--vacuum", action="store_true", help="then give the space back")
    retention.add_argument("--json", action="store_true", help="print a JSON object")
    cli_account.add_parsers(commands)
    return parser


def _filter_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("filters (repeat a flag for several values)")
    group.add_argument("--last", metavar="SPAN", help="e.g. 30m, 24h, 7d: a relative range")
    group.add_argument("--since", metavar="DATE", help="ISO date or time (UTC)")
    group.add_argument("--until", metavar="DATE", help="ISO date or time (UTC), excluded")
    group.add_argument("--status", action="append", choices=[s.value for s in Status])
    group.add_argument("--action", action="append", choices=[t.value for t in ActionType])
    group.add_argument(
        "--prompt-id", type=_whole("--prompt-id", 1, MAX_ID), action="append", metavar="ID"
    )
    group.add_argument("--interaction", action="append", choices=[i.value for i in Interaction])
    group.add_argument("--account", action="append", metavar="LABEL", help="sandbox or a host")
    group.add_argument("--operator", action="append", metavar="NAME")
    group.add_argument("--source", action="append", metavar="NAME", help="simulator, cli, replay")
    group.add_argument("--search", default="", metavar="TEXT", help="words in email/target/error")
    group.add_argument("--email", default="", help="one contact's email, exactly")
    group.add_argument("--run", default="", metavar="RUN_ID")


def _log_filter(args: argparse.Namespace, **extra: Any) -> LogFilter:
    return LogFilter(
        time=_time_range(args.last, args.since, args.until),
        statuses=tuple(args.status or ()),
        action_types=tuple(args.action or ()),
        prompt_ids=tuple(args.prompt_id or ()),
        interactions=tuple(args.interaction or ()),
        accounts=tuple(args.account or ()),
        operators=tuple(args.operator or ()),
        sources=tuple(args.source or ()),
        text=args.search,
        email=args.email,
        run_id=args.run,
        **extra,
    )


_SPAN = re.compile(r"^\s*([0-9]{1,7})\s*([mhdw])\s*$", re.IGNORECASE)
_SPAN_UNIT = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def _time_range(last: str | None, since: str | None, until: str | None) -> TimeRange:
    if last:
        if since or until:
            raise _Refused("Use --last or --since/--until, not both.")
        found = _SPAN.match(last)
        span = (
            timedelta(**{_SPAN_UNIT[found.group(2).lower()]: int(found.group(1))})
            if found
            else None
        )
        if span is None or not timedelta(0) < span <= timedelta(days=MAX_DAYS):
            raise _Refused(
                f"--last takes a number and a unit (30m, 24h, 7d, 2w), at most {MAX_DAYS:,} days, "
                f"not {_shown(last)}."
            )
        return TimeRange(last=span)
    return TimeRange(since=_moment(since, "--since"), until=_moment(until, "--until"))


def _moment(text: str | None, flag: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _Refused(
            f"{flag} takes an ISO date or time such as 2026-11-01 or 2026-11-01T09:30, "
            f"not {_shown(text)}."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def _account(console: Console) -> AccountSettings:
    """The account in effect, named on stderr before anything is sent to it."""
    account = console.account()
    where = {
        "sandbox": "the built-in sandbox",
        "saved": "saved on the Setup page",
        "environment": "from AC_API_URL / AC_API_KEY",
    }[account.source]
    shown = "sandbox" if account.is_sandbox else f"{account.api_url} ({where})"
    print(f"Account: {shown}", file=sys.stderr)
    return account


def _check(console: Console, args: argparse.Namespace) -> int:
    account = _account(console)
    user = console.check()
    if args.json:
        _print_json({"account": account.label, "user": asdict(user)})
        return OK
    where = "the built-in sandbox" if account.is_sandbox else account.api_url
    print(f"Connected to {where} as {user.display_name} <{user.email}> (key {account.masked_key})")
    return OK


def _catalog(console: Console, args: argparse.Namespace) -> int:
    account = _account(console)
    kind = _CATALOG_KIND[args.command]
    console.refresh_catalog((kind,))
    items = [asdict(item) for item in console.catalog_items(kind)]
    if args.json:
        _print_json({"account": account.label, kind.value: items})
    else:
        for item in items:
            print(f"{item['id']}\t{item['name']}")
    return OK


def _prompts(console: Console, args: argparse.Namespace) -> int:
    if args.prompts_command == "export":
        return _export_prompts(console, args)
    if args.prompts_command == "import":
        return _import_prompts(console, args)
    document = _prompts_document(console)
    if args.json:
        _print_json(document)
        return OK
    for data in document["prompts"]:
        prompt = Prompt.from_dict(data)
        print(f"{clip(prompt.name)}  ({prompt.prompt_type.label}, #{prompt.id})")
        for form_input in prompt.inputs:
            rule = form_input.kind.value + (", required" if form_input.required else "")
            print(f"  input  {clip(form_input.label)} ({rule})")
        for line in mapping_lines(prompt):
            print(f"  field  {clip(line)}")
        for interaction in Interaction:
            for config in prompt.actions_for(interaction):
                spec = REGISTRY[config.type]
                target_id, target_name = spec.target(config.params)
                shown = clip(target_name or target_id, 80)
                target = f" “{shown}” (#{clip(target_id, 24)})" if target_id else ""
                print(f"  {interaction.value:<16} {spec.label}{target} [{config.on_error.value}]")
    return OK


def _prompts_document(console: Console, only: str | None = None) -> dict[str, Any]:
    """What ``prompts --json`` prints and ``prompts export`` writes: every readable definition
    (or the one named ``only``), and under ``broken`` the stored prompts that can't be used, each
    with its sentence (also said on stderr). One bad prompt never hides the others."""
    account = _account(console)
    console.seed_demo_prompts()
    prompts = console.prompts.all()
    broken = console.prompts.broken()
    if only is not None:
        wanted = name_key(only)
        prompts = [p for p in prompts if name_key(p.name) == wanted]
        broken = [b for b in broken if name_key(b.name) == wanted]
        if not prompts:
            if broken:
                raise InputError(broken[0].problem, field=broken[0].field)
            raise _Refused(f"No prompt is named {_shown(only)}. {_prompt_names(console)}")
    for item in broken:
        fix = "the editor can open it to fix it" if item.readable else "it can't be read"
        print(f"Can't be used ({fix}): {item.problem}", file=sys.stderr)
    return {
        "account": account.label,
        "prompts": [p.to_dict() for p in prompts],
        "broken": [item.to_dict() for item in broken],
    }


def _prompt_names(console: Console) -> str:
    names = ", ".join(f"“{clip(p.name, 61)}”" for p in console.prompts.all()) or "none yet"
    return f"Prompts: {names}."


def _export_prompts(console: Console, args: argparse.Namespace) -> int:
    document = _prompts_document(console, args.prompt)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if not args.output:
        sys.stdout.write(text)
    else:
        try:
            with open_private(args.output, "w", encoding="utf-8") as out:
                out.write(text)
        except OSError as exc:
            raise _Refused(f"Can't write {_shown(args.output)}: {exc.strerror or exc}.") from None
    where = f" to {args.output}" if args.output else ""
    count = len(document["prompts"])
    print(f"Exported {count:,} prompt{'' if count == 1 else 's'}{where}.", file=sys.stderr)
    return OK


def _import_prompts(console: Console, args: argparse.Namespace) -> int:
    """Every definition of the file, checked as the editor checks a prompt at Save (and as the
    intake checks a stored one), before any is saved: one bad definition refuses the whole file.
    Names decide which prompts exist already (ids are each console's own); each save goes
    through ``Console.save_prompt``, so the audit trail records it like an editor save."""
    where = "stdin" if args.file == "-" else _shown(args.file)
    items = _definitions(args.file, where)
    prompts: list[Prompt] = []
    seen: dict[str, str] = {}
    for number, item in enumerate(items, start=1):
        named = item.get("name") if isinstance(item, dict) else None
        shown = (
            f"Prompt “{clip(named.strip(), 61)}”"
            if isinstance(named, str) and named.strip()
            else f"Prompt {number} of the file"
        )
        try:
            prompt = Prompt.from_dict(item)
        except InputError as error:
            raise _Refused(f"{where}: nothing was imported. {shown}: {error.message}") from None
        file_id, prompt.id = prompt.id, None
        try:
            for interaction in Interaction:
                check_runnable(prompt, interaction)
        except InputError as error:
            raise _Refused(f"{where}: nothing was imported. {error.message}") from None
        key = name_key(prompt.name)
        if key in seen:
            raise _Refused(
                f"{where}: nothing was imported. It holds two prompts named {seen[key]} "
                "(names are compared without case or extra spaces): keep one."
            )
        seen[key] = f"“{clip(prompt.name.strip(), 61)}”"
        prompt.id = file_id  # only to keep the file's order of creation below
        prompts.append(prompt)
    readable = {name_key(p.name): p for p in console.prompts.all()}
    unreadable = {name_key(b.name): b for b in console.prompts.broken() if not b.readable}
    existing = [
        p for p in prompts if name_key(p.name) in readable or name_key(p.name) in unreadable
    ]
    if existing and not args.replace:
        names = ", ".join(seen[name_key(p.name)] for p in existing)
        raise _Refused(
            f"{where}: nothing was imported. This console already has {names}: run again with "
            "--replace to update them, or rename them in the file."
        )
    # Prompts are kept in version control: importing them means the demo prompts are not wanted.
    console.prompts.seed_once([], DEMO_SEEDED)
    done: list[dict[str, Any]] = []
    prompts.sort(key=lambda p: (p.id is None, p.id or 0))  # a fresh file gets the same ids
    for prompt in prompts:
        key = name_key(prompt.name)
        prompt.id = readable[key].id if key in readable else None
        if key in unreadable:  # its definition can't be read, so it can't be updated: replaced
            console.prompts.delete(unreadable[key].id)
        saved = console.save_prompt(prompt, operator=default_operator(), source="cli")
        state = "updated" if key in readable else "replaced" if key in unreadable else "created"
        done.append({"id": saved.id, "name": saved.name, "state": state})
    if args.json:
        _print_json({"imported": done})
    else:
        for item in done:
            print(f"{item['state'].capitalize()} “{clip(item['name'], 61)}” (#{item['id']}).")
    return OK


def _definitions(path: str, where: str) -> list[Any]:
    """The definitions of a file ``prompts export`` wrote (its ``prompts``), or a bare list."""
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        data = json.loads(text)
    except OSError as exc:
        raise _Refused(f"Can't read {where}: {exc.strerror or exc}.") from None
    except (UnicodeDecodeError, ValueError):
        raise _Refused(
            f"{where} is not JSON: give a file that python -m connector prompts export wrote."
        ) from None
    items = data.get("prompts") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise _Refused(
            f"{where} holds no list of prompts: give a file that python -m connector prompts "
            'export wrote (an object with "prompts"), or a list of definitions.'
        )
    return items


def _stored_prompt(console: Console, name: str) -> Prompt:
    """The stored prompt named ``name`` (whatever its case and spacing); a broken one is
    refused with its sentence, an unknown name with the names there are."""
    console.seed_demo_prompts()
    wanted = name_key(name)
    prompt = next((p for p in console.prompts.all() if name_key(p.name) == wanted), None)
    if prompt is not None:
        return prompt
    broken = next((b for b in console.prompts.broken() if name_key(b.name) == wanted), None)
    if broken is not None:
        raise InputError(broken.problem, field=broken.field)
    raise _Refused(f"No prompt is named {_shown(name)}. {_prompt_names(console)}")


def _form_values(prompt: Prompt, pairs: list[str]) -> dict[int, str]:
    """``--input LABEL=VALUE`` pairs as form values by input position; an unknown label is
    refused with the prompt's inputs."""
    labels = {i.label.strip().casefold(): n for n, i in enumerate(prompt.inputs)}
    values: dict[int, str] = {}
    for label, value in _pairs(pairs, "--input", "LABEL=VALUE"):
        if label.strip().casefold() not in labels:
            known = ", ".join(f"“{clip(i.label, 41)}”" for i in prompt.inputs) or "none"
            raise _Refused(
                f"“{clip(prompt.name, 61)}” has no input {_shown(label)}. Its inputs: {known}."
            )
        values[labels[label.strip().casefold()]] = value
    return values


def _simulate(console: Console, args: argparse.Namespace) -> int:
    account = _account(console)
    prompt = _stored_prompt(console, args.prompt)
    interaction = Interaction(args.interaction)
    traits = dict(_pairs(args.trait, "--trait", "KEY=VALUE"))
    values = _form_values(prompt, args.input)
    if values and not interaction.submits_form:
        print(
            f"Note: {interaction.label} does not submit the form, so --input is not sent.",
            file=sys.stderr,
        )
    run = console.runner(operator=default_operator(), source="cli", account=account).run(
        prompt,
        interaction,
        SimulatedUser(args.user_id, traits),
        values,
        dry_run=args.dry_run,
    )
    return _report(run, args.json, labels=[i.label for i in prompt.inputs])


def _test_action(console: Console, args: argparse.Namespace) -> int:
    """The editor's "Test this action" (``Console.test_action``): action N of an interaction
    of a stored prompt, alone, on ``--email`` or the test contact; it sends the email and, for
    Add Contact and Update Contact Fields, only the ``--input``/``--trait`` values given."""
    account = _account(console)
    prompt = _stored_prompt(console, args.prompt)
    interaction = Interaction(args.interaction)
    configs = prompt.actions_for(interaction)
    if args.action > len(configs):
        has = f"{len(configs)} action{'' if len(configs) == 1 else 's'}"
        which = f"--action takes 1 to {len(configs)}" if configs else "there is nothing to test"
        raise _Refused(f"“{clip(prompt.name, 61)}” has {has} on {interaction.label}: {which}.")
    values = _form_values(prompt, args.input)
    run = console.test_action(
        prompt,
        interaction,
        configs[args.action - 1].id,
        args.email,
        dry_run=not args.run,
        operator=default_operator(),
        form_values=values,
        traits=dict(_pairs(args.trait, "--trait", "KEY=VALUE")),
        expect=account.label,
    )
    return _report(run, args.json, labels=[i.label for i in prompt.inputs])


def _action(console: Console, args: argparse.Namespace) -> int:
    kind = _ACTION_ALIASES.get(args.kind, args.kind)
    spec = REGISTRY[_ACTIONS[kind]]
    command = f"python -m connector action {kind}"
    # Everything typed is checked before the account is touched: nothing is sent for a refusal.
    for key, (_, kinds) in _TARGETS.items():
        if getattr(args, key) is not None and kind not in kinds:
            raise _Refused(f"{command} takes no --{key} (only {', '.join(kinds)}).")
    for key, (_, kinds) in _OPTIONS.items():
        if getattr(args, key) and kind not in kinds:
            flag = key.replace("_", "-")
            raise _Refused(f"{command} takes no --{flag} (only {', '.join(kinds)}).")
    param = spec.params[0] if spec.params else None
    target = getattr(args, param.key) if param else ""
    if param is not None:
        what = param.label.lower()
        if not target:
            raise _Refused(f"{command}: --{param.key} ID is required (the {what}'s id).")
        if api_id(target) is None:
            raise _Refused(
                f"{command}: --{param.key} takes a {what} id, digits only (python -m connector "
                f"{param.catalog.value} prints them), not {_shown(target)}. Nothing was sent."
            )
    phoned = validate_form([FormInput("--phone", kind=InputKind.PHONE)], {0: args.phone})
    if not phoned.ok:
        raise _Refused(f"--phone: {phoned.errors[0]}")
    phone = phoned.values[0]
    account = _account(console)
    names = {i.id: i.name for i in console.catalog_items(param.catalog)} if param else {}
    options = {o.key: getattr(args, o.key) for o in spec.options}
    # The catalog's name as the log shows it: on one line, whatever the account holds.
    params = spec.params_for(target, clip(names.get(target, ""), 200), **options)
    prompt = Prompt(
        name="command line", actions={Interaction.ACCEPT: [ActionConfig(spec.type, params)]}
    )
    prompt.map_input(FormInput("--email", kind=InputKind.EMAIL, required=True), "email")
    prompt.map_input(FormInput("--first-name"), "firstName")
    prompt.map_input(FormInput("--last-name"), "lastName")
    # A prompt has at most three inputs: the phone, checked here as its input would be, comes
    # as a trait of the user.
    prompt.mappings.append(FieldMapping("phone", Source.TRAIT, "phone"))
    values = dict(enumerate([args.email, args.first_name, args.last_name]))
    traits = {"phone": phone} if phone else {}
    run = console.runner(operator=default_operator(), source="cli", account=account).run(
        prompt, Interaction.ACCEPT, SimulatedUser("", traits), values, dry_run=args.dry_run
    )
    return _report(run, args.json, labels=[i.label for i in prompt.inputs])


def _report(run: Run, as_json: bool, *, labels: list[str]) -> int:
    """Print a run and return its exit status."""
    for position, problem in run.input_errors.items():
        print(f"{labels[position]}: {problem}", file=sys.stderr)
    if run.refusal:
        print(f"Refused, nothing sent: {run.refusal}", file=sys.stderr)
    if run.status is RunStatus.PENDING:
        print(f"Not finished yet: {pending_sentence(run)}", file=sys.stderr)
    for line in run.not_recorded:
        print(f"NOT RECORDED in the action log: {line}", file=sys.stderr)
    if as_json:
        _print_json(run.to_dict())
    else:
        mode = "Dry run of " if run.dry_run else ""
        who = run.contact_email or "no email"
        print(
            f"{mode}{run.interaction.label} on “{run.prompt_name}” for {who}: "
            f"{run.status.label.lower()} (run {run.run_id}, account {run.account})"
        )
        for attempt in run.attempts:
            line = f"  {attempt.status.value:<11} {attempt.label}"
            line += f" {attempt.target}" if attempt.target_id else ""
            if attempt.attempts:
                tries = "try" if attempt.attempts == 1 else "tries"
                line += f" (HTTP {attempt.http_status}, {attempt.attempts} {tries})"
            print(line + (f": {attempt.reason}" if attempt.reason else ""))
    if run.status is RunStatus.REFUSED:
        return REFUSED
    if run.not_recorded:
        return FAILED
    if run.status is RunStatus.PENDING:
        return UNFINISHED
    return OK if run.ok else FAILED


def _log(console: Console, args: argparse.Namespace) -> int:
    rows = console.log.page(_log_filter(args), limit=args.limit).rows
    if args.json:
        _print_json([console.log.entry(row) for row in rows])
        return OK
    for row in rows:
        target = row["target_name"] or row["target_id"] or ""
        retry = f"  retry of #{row['retry_of']}" if row.get("retry_of") else ""
        print(
            f"#{row['id']:<7} {row['created_at']}  {row['status']:<11} {row['action_type']:<22} "
            f"{target[:24]:<24} {row['contact_email'] or '-'}  [{row['account']}, "
            f"{row['source']}]{retry}"
        )
    return OK


def _runs(console: Console, args: argparse.Namespace) -> int:
    runs = console.log.runs_page(_log_filter(args), limit=args.limit).runs
    if args.json:
        _print_json([run.to_dict() for run in runs])
        return OK
    for run in runs:
        print(
            f"{run.started_at}  {run.status.value:<11} {run.interaction.value:<16} "
            f"{run.prompt_name[:28]:<28} {run.contact_email or run.user.user_id or '-'}  "
            f"{run.run_id}  [{run.account}, {run.source}]"
        )
    return OK


def _export(console: Console, args: argparse.Namespace) -> int:
    fmt = ExportFormat(args.format)
    filters = _log_filter(args)
    if not args.output:
        count = export_log(console.log, filters, fmt, sys.stdout)
    else:
        try:
            # The log holds people's emails: the file is the owner's alone, like the data file.
            with open_private(args.output, "w", encoding="utf-8", newline="") as out:
                count = export_log(console.log, filters, fmt, out)
        except OSError as exc:
            raise _Refused(f"Can't write {args.output}: {exc.strerror or exc}.") from None
    where = f" to {args.output}" if args.output else ""
    print(f"Exported {count:,} rows as {fmt.value}{where}.", file=sys.stderr)
    return OK


def _replay(console: Console, args: argparse.Namespace) -> int:
    account = _account(console)
    if args.row:
        rows = list(args.row)
        description = "rows " + ", ".join(f"#{r}" for r in rows)
    else:
        filters = _log_filter(args, replayable=True)
        rows = console.log.ids(filters)
        description = f"replayable actions: {filters.describe()}"
    if not rows:
        print(
            "Nothing to replay: no failed, interrupted or unknown action matches.", file=sys.stderr
        )
        if args.json:
            _print_json({"account": account.label, "job": None})
        return OK
    job = console.jobs.create(
        rows,
        account=account.label,
        description=description,
        operator=default_operator(),
        source="cli",
        dry_run=args.dry_run,
    )
    print(f"Replay job {job.job_id}: {job.total} rows ({description}).", file=sys.stderr)
    if args.background:
        print(
            "Queued: a worker runs it (the dashboard, or python -m connector worker). "
            "Follow it with python -m connector jobs.",
            file=sys.stderr,
        )
        if args.json:
            _print_json({"account": account.label, "job": job.to_dict()})
        return OK
    return _run_job(console, job.job_id, args.json)


def _run_job(console: Console, job_id: str, as_json: bool) -> int:
    def progress(run: Run) -> None:
        for attempt in run.attempts:
            if attempt.retry_of is None:
                continue
            line = f"  #{attempt.retry_of} -> #{attempt.log_id}: {attempt.status.value}"
            print(line + (f": {attempt.reason}" if attempt.reason else ""), file=sys.stderr)

    job = console.jobs.run(job_id, console, on_run=progress)
    if job.state is JobState.RUNNING:
        raise ConnectorError(f"Replay job {job_id} is running in another process.")
    for item in console.jobs.items(job_id):
        if item["state"] == "refused":
            print(f"  #{item['row_id']} not replayed: {item['note']}", file=sys.stderr)
    if as_json:
        _print_json({"account": job.account, "job": job.to_dict()})
    else:
        print(f"Replay job {job.job_id} {job.state.value}: {job.summary()}")
        if job.error:
            print(job.error, file=sys.stderr)
    bad = {"failed", "unknown", "interrupted", "refused", "queued", "pending"}
    failed = job.state is not JobState.DONE or any(job.counts.get(k) for k in bad)
    return FAILED if failed else OK


def _jobs(console: Console, args: argparse.Namespace) -> int:
    jobs = console.jobs
    if args.cancel:
        job = jobs.cancel(args.cancel)
        print(f"Replay job {job.job_id}: {job.state.value}.")
        return OK
    if args.resume:
        _account(console)
        return _run_job(console, args.resume, args.json)
    listed = jobs.recent(50)
    if args.json:
        _print_json([job.to_dict() for job in listed])
        return OK
    for job in listed:
        orphaned = job.state is JobState.RUNNING and not console.leases.alive(job.lease_until)
        note = f"  (its worker, {job.owner}, stopped: the next free worker resumes it)"
        print(
            f"{job.job_id}  {job.state.value:<10} {job.created_at}  {job.summary()}  "
            f"[{job.account}] {job.description}" + (note if orphaned else "")
        )
    return OK


def _worker(console: Console, args: argparse.Namespace) -> int:
    print(
        f"Worker for {console.db.path}: finishing due runs and replay jobs (Ctrl-C stops).",
        file=sys.stderr,
    )
    Worker(console).run(exit_when_idle=args.exit_when_idle)
    return OK


def _audit(console: Console, args: argparse.Namespace) -> int:
    events = console.audit.page(limit=args.limit)
    if args.json:
        _print_json([event.to_dict() for event in events])
        return OK
    for event in events:
        print(
            f"{event.at}  {event.kind:<17} {event.operator or '-':<12} [{event.source}] "
            f"{event.summary}"
        )
    return OK


def _retention(console: Console, args: argparse.Namespace) -> int:
    try:
        cutoff = cutoff_for(args.older_than)
    except ValueError as exc:
        raise _Refused(str(exc)) from None
    found = count_older(console.db, cutoff)
    if not args.yes:
        if args.json:
            _print_json({"deleted": False, **found.to_dict()})
        else:
            print(f"Would delete {found.sentence()}. Run again with --yes to delete them.")
        return OK
    done = console.delete_log_older(cutoff, operator=default_operator(), source="cli")
    result: dict[str, Any] = {"deleted": True, **done.to_dict()}
    if args.vacuum:
        before, after = vacuum(console.db)
        result.update(size_before=before, size_after=after)
    if args.json:
        _print_json(result)
    else:
        print(f"Deleted {done.sentence()}.")
        if args.vacuum:
            print(f"Data file: {before:,} bytes before VACUUM, {result['size_after']:,} after.")
    return OK


def _pairs(raw: list[str], flag: str, form: str) -> list[tuple[str, str]]:
    pairs = []
    for item in raw:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise _Refused(f"{flag} takes {form}, not {_shown(item)}.")
        pairs.append((key.strip(), value))
    return pairs


_COMMANDS: dict[str, Callable[[Console, argparse.Namespace], int]] = {
    "check": _check,
    **dict.fromkeys(_CATALOG_KIND, _catalog),
    "prompts": _prompts,
    "simulate": _simulate,
    "test-action": _test_action,
    "action": _action,
    "log": _log,
    "runs": _runs,
    "export": _export,
    "replay": _replay,
    "jobs": _jobs,
    "worker": _worker,
    "audit": _audit,
    "retention": _retention,
    **cli_account.COMMANDS,
}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # a usage error (said on stderr: exit 2), or --help (0)
        return exc.code if isinstance(exc.code, int) else REFUSED
    if args.command == "secret-key":
        return cli_account.print_secret_key()
    console: Console | None = None
    try:
        already = len(narrowed())  # said by an earlier command of this process (tests)
        console = Console()
        for fixed in narrowed()[already:]:
            print(f"Owner-only files: {fixed}.", file=sys.stderr)
        return _COMMANDS[args.command](console, args)
    except _Refused as exc:
        print(exc, file=sys.stderr)
        return REFUSED
    except (SettingsError, InputError) as exc:
        print(exc.message, file=sys.stderr)
        return REFUSED
    except ConnectorError as exc:
        print(exc.message, file=sys.stderr)
        return FAILED
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    finally:
        if console is not None:
            console.close()
