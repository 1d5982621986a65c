"""What every page shares: the process-wide ``Console``, error display, the operator's name."""

from __future__ import annotations

import functools
import json
import os
import runpy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ParamSpec

import streamlit as st

from connector import (
    AccountSettings,
    Attempt,
    CatalogKind,
    ConnectorError,
    Console,
    Exchange,
    Run,
    RunStatus,
    SettingsError,
    Status,
)
from connector.core.owner import default_operator
from connector.engage.display import as_markdown_text, pending_sentence
from connector.entry.auth import Access, Gate, decide
from connector.entry.worker import Worker

P = ParamSpec("P")

# Material icons, not emoji: they render the same on every machine, fonts or not.
STATUS_ICONS: dict[str, str] = {
    Status.SUCCEEDED: ":green[:material/check_circle:]",
    Status.FAILED: ":red[:material/cancel:]",
    Status.SKIPPED: ":gray[:material/skip_next:]",
    Status.DRY_RUN: ":blue[:material/science:]",
    Status.UNKNOWN: ":orange[:material/help:]",
    Status.PLANNED: ":gray[:material/schedule:]",
    Status.PENDING: ":orange[:material/hourglass_top:]",
    Status.INTERRUPTED: ":orange[:material/warning:]",
}
RUN_ICONS: dict[str, str] = {
    RunStatus.SUCCEEDED: STATUS_ICONS[Status.SUCCEEDED],
    RunStatus.FAILED: STATUS_ICONS[Status.FAILED],
    RunStatus.UNKNOWN: STATUS_ICONS[Status.UNKNOWN],
    RunStatus.REFUSED: ":red[:material/block:]",
    RunStatus.NO_ACTIONS: ":gray[:material/do_not_disturb_on:]",
    RunStatus.DRY_RUN: STATUS_ICONS[Status.DRY_RUN],
    RunStatus.PENDING: STATUS_ICONS[Status.PENDING],
    RunStatus.INTERRUPTED: STATUS_ICONS[Status.INTERRUPTED],
}


@st.cache_resource(max_entries=4, show_spinner=False, on_release=lambda c: c.close())
def _console(db_path: str) -> Console:
    return Console(db_path or None)


def console() -> Console:
    """One Console per data file per process, shared by every session (it is thread-safe)."""
    return _console(os.environ.get("CONNECTOR_DB", ""))


@st.cache_resource(max_entries=4, show_spinner=False)
def _demo_seeded(db_path: str) -> bool:
    return console().seed_demo_prompts()


def seed_demo_prompts() -> None:
    """The demo prompts, once per process (and once per data file: the console keeps a flag)."""
    _demo_seeded(os.environ.get("CONNECTOR_DB", ""))


def current_account() -> AccountSettings | None:
    """The account in effect, or None when it can't be used (the frame shows why)."""
    try:
        return console().account()
    except ConnectorError:
        return None


def hand_over_to_app() -> None:
    """Run ``app.py`` instead of a page file that Streamlit ran on its own.

    Until some session has called ``st.navigation``, Streamlit's legacy discovery serves a deep
    link like ``/setup`` by running ``pages/setup.py`` alone, skipping the frame. Each page file
    calls this when run as a script, so the frame (and its navigation) still takes over."""
    runpy.run_path(str(Path(__file__).resolve().parents[1] / "app.py"), run_name="__main__")


def access() -> Access:
    """This visitor's standing under the console's sign-in (``connector.auth.decide``), worked
    out afresh from ``st.secrets``, ``st.user`` and the environment on every call, so a widget
    callback (which runs before the frame's gate) gets the same answer as the frame."""
    secrets, problem = _secrets()
    return decide(secrets, st.user.to_dict(), os.environ, secrets_problem=problem)


def _secrets() -> tuple[dict[str, Any], str]:
    """The secrets, and why a secrets file that exists couldn't be read ("" when fine).
    ``st.secrets`` raises when there is no file at all: that's simply no secrets."""
    try:
        return st.secrets.to_dict(), ""
    except (OSError, ValueError) as exc:  # StreamlitSecretNotFoundError is a FileNotFoundError
        no_file = getattr(exc, "error_id", None) == "no-secrets-found"
        if no_file or not any(Path(p).exists() for p in st.get_option("secrets.files")):
            return {}, ""
        return {}, str(exc) or type(exc).__name__


def gated(work: Callable[P, None]) -> Callable[P, None]:
    """A widget callback or a fragment that runs only for a visitor let in. Both run without
    the frame: callbacks before ``app.py`` (and its gate), fragments instead of it. For anyone
    else (signed out, struck off the allow-list since the page was drawn) it does nothing, and
    the frame's next full run shows them why; a fragment skipped this way draws nothing, so what
    it showed goes away."""

    @functools.wraps(work)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        if access().lets_in:
            work(*args, **kwargs)

    return run


def operator() -> str:
    """Who is acting, for the log. With sign-in on, the signed-in email, and nobody else: a
    visitor who isn't let in gets a ``SettingsError``, never a stand-in name. Without sign-in,
    the sidebar's name field, else the environment, else the OS user."""
    standing = access()
    if standing.gate is Gate.ALLOWED:
        return standing.operator
    if standing.gate is not Gate.OPEN:
        raise SettingsError(standing.reason or "Sign in to use the console.")
    return st.session_state.get("operator", "").strip() or default_operator()


def show_error(exc: ConnectorError) -> None:
    """The one place a ``ConnectorError`` becomes page text: the sentence, then the detail."""
    st.error(as_markdown_text(exc.message), icon=":material/error:")
    if exc.detail:
        with st.expander("Technical detail"):
            st.code(exc.detail, language=None)


@contextmanager
def reporting_errors() -> Iterator[None]:
    """Run a block; a ``ConnectorError`` inside it is shown instead of a traceback."""
    try:
        yield
    except ConnectorError as exc:
        show_error(exc)


@st.cache_resource(max_entries=16, show_spinner=False)
def _cached_catalog(db_path: str, account: str, kind: CatalogKind, stamp: str | None) -> list[Any]:
    # Keyed on the refresh stamp, so a refresh (in any session) is seen at once; shared, not
    # copied, because nobody mutates the items. Loading 10,000 lists costs ~140 ms otherwise,
    # on every rerun, once per picker.
    return console().catalog.items(account, kind)


def catalog_items(kind: CatalogKind) -> list[Any]:
    """The account's cached catalog of ``kind``, ordered by name."""
    account = console().account().label
    stamp = console().catalog.refreshed_at(account, kind)
    return _cached_catalog(str(console().db.path), account, kind, stamp)


@st.cache_resource(max_entries=16, show_spinner=False)
def _cached_labels(
    db_path: str, account: str, kind: CatalogKind, stamp: str | None
) -> dict[str, str]:
    return {item.id: f"{item.name} (#{item.id})" for item in catalog_items(kind)}


def catalog_labels(kind: CatalogKind) -> dict[str, str]:
    """Id -> "Name (#id)" for the account's cached catalog of ``kind``, in name order; built
    once per refresh, so a picker over 10,000 lists costs a lookup per option, not a format."""
    account = console().account().label
    stamp = console().catalog.refreshed_at(account, kind)
    return _cached_labels(str(console().db.path), account, kind, stamp)


def needs_first_fetch() -> bool:
    """True when this account's catalog was never fetched and this session hasn't tried yet.

    Tried once per session and account: an unreachable account must not cost a round of
    retries on every rerun (every keystroke in a search box)."""
    account = console().account()
    if console().catalog.refreshed_at(account.label, CatalogKind.LISTS) is not None:
        return False
    tried: set[str] = st.session_state.setdefault("catalog_first_fetch", set())
    if account.label in tried:
        return False
    tried.add(account.label)
    return True


def ensure_catalog() -> None:
    """Fetch the catalog when this account's cache is empty (first visit)."""
    if needs_first_fetch():
        with reporting_errors(), st.spinner("Fetching lists, automations, fields and tags…"):
            console().refresh_catalog()


def show_json(value: Any) -> None:
    st.code(json.dumps(value, indent=2, ensure_ascii=False), language="json")


def show_exchange(request: Any, response: Any, *, no_response: str = "No response.") -> None:
    """A request and its response side by side, as JSON."""
    left, right = st.columns(2)
    for column, title, value, empty in (
        (left, "Request", request, "Nothing was sent."),
        (right, "Response", response, no_response),
    ):
        with column:
            st.markdown(f"**{title}**")
            if value:
                show_json(value)
            else:
                st.caption(empty)


def show_attempt(attempt: Attempt) -> None:
    """One action's record: its outcome and reason, then what it did in the order it did it
    (each check and each try, a tab each), every request beside its response."""
    reason = as_markdown_text(attempt.reason)
    if not attempt.done:  # planned, in flight, or awaiting its verification: not an outcome
        st.warning(reason or "Not run yet.", icon=":material/hourglass_top:")
    elif attempt.status in (Status.FAILED, Status.UNKNOWN, Status.INTERRUPTED):
        st.error(reason or "No reason was recorded.", icon=":material/error:")
    elif attempt.reason:
        st.info(reason, icon=":material/info:")
    if attempt.unrecorded:
        st.error(
            f"Not in the action log: {as_markdown_text(attempt.unrecorded)}",
            icon=":material/database:",
        )
    # (when, tab title, caption, exchanges): checks and tries interleaved as they happened
    steps: list[tuple[str, str, str, tuple[Exchange, ...]]] = [
        (check.exchanges[0].at if check.exchanges else "", f"Check {check.purpose}",
         check.finding, check.exchanges)
        for check in attempt.checks
    ]  # fmt: skip
    steps += [
        (tried.at, f"Try {number}", tried.error, (tried,))
        for number, tried in enumerate(attempt.tries, start=1)
    ]
    steps.sort(key=lambda step: step[0])
    if not attempt.tries and attempt.planned and attempt.status is Status.DRY_RUN:
        planned = Exchange(
            str(attempt.planned.get("method")),
            str(attempt.planned.get("url")),
            attempt.planned.get("body"),
            error="Dry run: this request was not sent.",
        )
        steps.append(("", "Would send", planned.error, (planned,)))
    if not steps:
        st.caption("Nothing was sent or read for this action.")
        return
    titles = _unique([title for _, title, _, _ in steps])
    # Open on the evidence (or the last step): what decided the outcome.
    shown = next(
        (t for t, step in zip(titles, steps, strict=True) if attempt.evidence in step[3]),
        titles[-1],
    )
    for tab, (_, _, caption, exchanges) in zip(st.tabs(titles, default=shown), steps, strict=True):
        with tab:
            if caption:
                st.caption(as_markdown_text(caption))  # findings and errors name the target
            for number, exchange in enumerate(exchanges, start=1):
                if len(exchanges) > 1:
                    st.markdown(f"**Read {number} of {len(exchanges)}**")
                request, response = _exchange_view(exchange)
                show_exchange(request, response, no_response=_no_response(exchange))


def _unique(titles: list[str]) -> list[str]:
    """Tab titles must differ: the second "Check after an error answer" becomes "… (2)"."""
    seen: dict[str, int] = {}
    out = []
    for title in titles:
        seen[title] = seen.get(title, 0) + 1
        out.append(title if seen[title] == 1 else f"{title} ({seen[title]})")
    return out


def _no_response(exchange: Exchange) -> str:
    if exchange.status is not None:
        return ""
    return "Not sent." if not exchange.at else f"No answer came. {exchange.error}".strip()


def _exchange_view(exchange: Exchange) -> tuple[dict[str, Any], dict[str, Any] | None]:
    response = exchange.response_dict()
    if response is not None:
        response["duration_ms"] = exchange.duration_ms
    return exchange.request_dict(), response


def attempt_title(attempt: Attempt) -> str:
    """A one-line summary for an expander (Markdown: the target's name is escaped)."""
    target = f" → {as_markdown_text(attempt.target)}" if attempt.target_id else ""
    if attempt.implicit:
        target = " (contact sync required by later actions)"
    timing = f" · HTTP {attempt.http_status}" if attempt.http_status else ""
    if attempt.attempts:
        timing += f" · {tries(attempt.attempts)}"
    return f"{status_label(attempt.status)} — {attempt.label}{target}{timing}"


def tries(count: int) -> str:
    return f"{count} {'try' if count == 1 else 'tries'}"


def show_run_outcome(run: Run) -> None:
    """The run's headline: what happened, to whom, and anything the log could not keep."""
    for line in run.not_recorded:
        st.error(
            f"Not recorded in the action log: {as_markdown_text(line)}",
            icon=":material/database:",
        )
    if run.status is RunStatus.REFUSED:
        if run.refusal:
            st.error(f"{as_markdown_text(run.refusal)} Nothing was sent.", icon=":material/error:")
        else:
            st.error("Fix the highlighted form inputs: nothing was sent.", icon=":material/error:")
    elif run.status is RunStatus.PENDING:
        st.warning(
            f"Not finished yet: {as_markdown_text(pending_sentence(run))}",
            icon=":material/hourglass_top:",
        )
    elif run.status is RunStatus.NO_ACTIONS:
        st.info(
            f"{run.interaction.label} has no actions on this prompt: nothing was sent. "
            "The run is recorded in the action log.",
            icon=":material/info:",
        )
    counts: dict[Status, int] = {}
    for attempt in run.attempts:
        counts[attempt.status] = counts.get(attempt.status, 0) + 1
    summary = " · ".join(f"{STATUS_ICONS[s]} {n} {status_text(s)}" for s, n in counts.items())
    contact = f" · contact #{run.contact_id}" if run.contact_id else ""
    who = run.contact_email or run.user.user_id or "no email"
    st.caption(
        " · ".join(
            part
            for part in (
                f"{RUN_ICONS.get(run.status, '')} run {status_text(run.status)}",
                summary,
                f"{as_markdown_text(who)}{contact}",
                f"run {run.run_id}",
                f"account {as_markdown_text(run.account)}",
            )
            if part
        )
    )


def status_text(status: str) -> str:
    """Plain words for places markdown doesn't reach (table cells, select options)."""
    return status.replace("_", " ")


def status_label(status: str) -> str:
    """Icon and words, for markdown labels."""
    return f"{STATUS_ICONS.get(status, '')} {status_text(status)}".strip()


@st.cache_resource(max_entries=4, show_spinner=False, on_release=lambda w: w.stop())
def _worker(db_path: str) -> Worker:
    worker = Worker(console())
    worker.start()
    return worker


def ensure_worker() -> None:
    """This process's worker thread, started once per process: it finishes the runs that are
    due (a verification after the settle delay, a run whose process died) and the replay jobs
    nobody holds, so a restarted dashboard picks up where the last one was."""
    _worker(os.environ.get("CONNECTOR_DB", ""))
