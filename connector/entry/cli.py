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
from connector.core.errors import ConnectorError, InputError, SettingsError
from connector.core.models import ActionType, CatalogKind, InputKind, Interaction
from connector.core.owner import default_operator
from connector.core.records import Run, RunStatus, SimulatedUser, Status
from connector.engage.contact import mapping_lines
from connector.engage.prompts import ActionConfig, FormInput, Prompt
from connector.engine.jobs import JobState, ReplayJobs
from connector.entry import cli_account
from connector.entry.console import Console
from connector.entry.worker import JobQueue, Worker
from connector.store.files import narrowed, open_private
from connector.store.log_export import ExportFormat
from connector.store.log_export import export as export_log
from connector.store.log_query import LogFilter, TimeRange
from connector.store.retention import count_older, cutoff_for, vacuum
from connector.store.settings import AccountSettings

__all__ = ["main"]

OK, FAILED, REFUSED = 0, 1, 2

_ACTIONS = {
    "add-contact": (ActionType.ADD_CONTACT, None),
    "add-to-list": (ActionType.ADD_TO_LIST, "list"),
    "add-to-automation": (ActionType.ADD_TO_AUTOMATION, "automation"),
    "add-tag": (ActionType.ADD_TAG, "tag"),
}
_CATALOG_KIND = {kind.value: kind for kind in CatalogKind}


class _Refused(Exception):
    """The command line itself is wrong: exit 2 with this sentence."""


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

    prompts = commands.add_parser("prompts", help="list the prompts with their inputs and actions")
    prompts.add_argument("--json", action="store_true", help="print a JSON object")

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
    action.add_argument("--dry-run", action="store_true", help="check and plan, send nothing")
    action.add_argument("--json", action="store_true", help="print the run as JSON")

    log = commands.add_parser("log", help="print action log rows, newest first")
    _filter_arguments(log)
    log.add_argument("--limit", type=int, default=20)
    log.add_argument("--json", action="store_true", help="print a JSON array")

    runs = commands.add_parser("runs", help="print runs (one interaction each), newest first")
    _filter_arguments(runs)
    runs.add_argument("--limit", type=int, default=20)
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
        "--row", type=int, action="append", default=[], metavar="ID", help="a log row id"
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

    worker = commands.add_parser("worker", help="run queued replay jobs until interrupted")
    worker.add_argument(
        "--exit-when-idle",
        type=float,
        metavar="SECONDS",
        help="stop once no job has been active for this long",
    )

    audit = commands.add_parser(
        "audit", help="print configuration changes (accounts, prompts, resets), newest first"
    )
    audit.add_argument("--limit", type=int, default=50)
    audit.add_argument("--json", action="store_true", help="print a JSON array")

    retention = commands.add_parser("retention", help="delete log rows older than N days")
    retention.add_argument("--older-than", type=int, required=True, metavar="DAYS")
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
    group.add_argument("--prompt-id", type=int, action="append", metavar="ID")
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


_SPAN = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$", re.IGNORECASE)
_SPAN_UNIT = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def _time_range(last: str | None, since: str | None, until: str | None) -> TimeRange:
    if last:
        if since or until:
            raise _Refused("Use --last or --since/--until, not both.")
        found = _SPAN.match(last)
        if not found:
            raise _Refused(f"--last takes a number and a unit (30m, 24h, 7d, 2w), not “{last}”.")
        unit = _SPAN_UNIT[found.group(2).lower()]
        return TimeRange(last=timedelta(**{unit: int(found.group(1))}))
    return TimeRange(since=_moment(since, "--since"), until=_moment(until, "--until"))


def _moment(text: str | None, flag: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _Refused(
            f"{flag} takes an ISO date or time such as 2026-11-01 or 2026-11-01T09:30, "
            f"not “{text}”."
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
    account = _account(console)
    console.seed_demo_prompts()
    prompts = console.prompts.all()
    if args.json:
        _print_json({"account": account.label, "prompts": [p.to_dict() for p in prompts]})
        return OK
    for prompt in prompts:
        print(f"{prompt.name}  ({prompt.prompt_type.label}, #{prompt.id})")
        for form_input in prompt.inputs:
            rule = form_input.kind.value + (", required" if form_input.required else "")
            print(f"  input  {form_input.label} ({rule})")
        for line in mapping_lines(prompt):
            print(f"  field  {line}")
        for interaction in Interaction:
            for config in prompt.actions_for(interaction):
                spec = REGISTRY[config.type]
                target_id, target_name = spec.target(config.params)
                target = f" “{target_name or target_id}” (#{target_id})" if target_id else ""
                print(f"  {interaction.value:<16} {spec.label}{target} [{config.on_error.value}]")
    return OK


def _simulate(console: Console, args: argparse.Namespace) -> int:
    account = _account(console)
    console.seed_demo_prompts()
    wanted = args.prompt.strip().casefold()
    prompts = console.prompts.all()
    prompt = next((p for p in prompts if p.name.strip().casefold() == wanted), None)
    if prompt is None:
        names = ", ".join(f"“{p.name}”" for p in prompts) or "none yet"
        raise _Refused(f"No prompt is named “{args.prompt}”. Prompts: {names}.")
    interaction = Interaction(args.interaction)
    traits = dict(_pairs(args.trait, "--trait", "KEY=VALUE"))
    values: dict[int, str] = {}
    labels = {i.label.strip().casefold(): n for n, i in enumerate(prompt.inputs)}
    for label, value in _pairs(args.input, "--input", "LABEL=VALUE"):
        if label.strip().casefold() not in labels:
            known = ", ".join(f"“{i.label}”" for i in prompt.inputs) or "none"
            raise _Refused(f"“{prompt.name}” has no input “{label}”. Its inputs: {known}.")
        values[labels[label.strip().casefold()]] = value
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


def _action(console: Console, args: argparse.Namespace) -> int:
    account = _account(console)
    action_type, key = _ACTIONS[args.kind]
    spec = REGISTRY[action_type]
    target = getattr(args, key) if key else ""
    if key and not target:
        raise _Refused(f"python -m connector action {args.kind}: --{key} ID is required.")
    names = {i.id: i.name for i in console.catalog_items(CatalogKind(f"{key}s"))} if key else {}
    options = {o.key: getattr(args, o.key) for o in spec.options}
    params = spec.params_for(target, names.get(target, ""), **options)
    prompt = Prompt(
        name="command line", actions={Interaction.ACCEPT: [ActionConfig(action_type, params)]}
    )
    prompt.map_input(FormInput("--email", kind=InputKind.EMAIL, required=True), "email")
    prompt.map_input(FormInput("--first-name"), "firstName")
    prompt.map_input(FormInput("--last-name"), "lastName")
    prompt.map_input(FormInput("--phone", kind=InputKind.PHONE), "phone")
    values = dict(enumerate([args.email, args.first_name, args.last_name, args.phone]))
    run = console.runner(operator=default_operator(), source="cli", account=account).run(
        prompt, Interaction.ACCEPT, SimulatedUser(), values, dry_run=args.dry_run
    )
    return _report(run, args.json, labels=[i.label for i in prompt.inputs])


def _report(run: Run, as_json: bool, *, labels: list[str]) -> int:
    """Print a run and return its exit status."""
    for position, problem in run.input_errors.items():
        print(f"{labels[position]}: {problem}", file=sys.stderr)
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
    if run.not_recorded or not run.ok:
        return FAILED
    return OK


def _log(console: Console, args: argparse.Namespace) -> int:
    rows = console.log.page(_log_filter(args), limit=max(1, args.limit)).rows
    if args.json:
        for row in rows:
            for key in ("request", "response", "planned", "checks", "tries", "evidence", "action"):
                row[key] = json.loads(row[key]) if row.get(key) else None
        _print_json(rows)
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
    runs = console.log.runs_page(_log_filter(args), limit=max(1, args.limit)).runs
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
    job = ReplayJobs(console.db).create(
        rows,
        account=account.label,
        description=description,
        operator=default_operator(),
        source="cli",
        dry_run=args.dry_run,
    )
    print(f"Replay job {job.job_id}: {job.total} rows ({description}).", file=sys.stderr)
    if args.background:
        JobQueue(console.db.path).enqueue(job.job_id)
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

    job = ReplayJobs(console.db).run(job_id, console, on_run=progress)
    if job.state is JobState.RUNNING:
        raise ConnectorError(f"Replay job {job_id} is running in another process.")
    for item in ReplayJobs(console.db).items(job_id):
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
    jobs = ReplayJobs(console.db)
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
        print(
            f"{job.job_id}  {job.state.value:<10} {job.created_at}  {job.summary()}  "
            f"[{job.account}] {job.description}"
        )
    return OK


def _worker(console: Console, args: argparse.Namespace) -> int:
    print(f"Worker for {console.db.path}: running replay jobs (Ctrl-C stops).", file=sys.stderr)
    Worker(console).run(exit_when_idle=args.exit_when_idle)
    return OK


def _audit(console: Console, args: argparse.Namespace) -> int:
    events = console.audit.page(limit=max(1, args.limit))
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
            raise _Refused(f"{flag} takes {form}, not “{item}”.")
        pairs.append((key.strip(), value))
    return pairs


_COMMANDS: dict[str, Callable[[Console, argparse.Namespace], int]] = {
    "check": _check,
    **dict.fromkeys(_CATALOG_KIND, _catalog),
    "prompts": _prompts,
    "simulate": _simulate,
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
    args = _parser().parse_args(argv)
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
