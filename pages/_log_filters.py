"""The action log's filters: widgets in, one ``LogFilter`` out.

A relative range ("Last 7 days") becomes ``TimeRange(last=…)``: the filter compares equal on
every rerun, so the page keeps its place when the user pages through older rows. The values
offered for account, operator, source and prompt come from the log itself (a prompt deleted
since keeps the name it was logged under), read with a skip-scan and cached for a few seconds.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import streamlit as st

from connector import REGISTRY, Interaction, Status
from connector.engage.display import action_label
from connector.store.log import Facets
from connector.store.log_query import LogFilter, TimeRange
from pages._common import console, gated, status_text

RANGES: dict[str, timedelta | None] = {
    "Last hour": timedelta(hours=1),
    "Last 24 hours": timedelta(days=1),
    "Last 7 days": timedelta(days=7),
    "Last 30 days": timedelta(days=30),
    "All time": None,
    "Custom dates": None,
}
DEFAULT_RANGE = "All time"
_KEYS = (
    "log_range",
    "log_dates",
    "log_status",
    "log_types",
    "log_inter",
    "log_prompts",
    "log_accounts",
    "log_operators",
    "log_sources",
    "log_text",
)


@st.cache_data(ttl=10, max_entries=8, show_spinner=False)
def _facets(db_path: str) -> Facets:
    return console().log.facets()


def _prompt_names() -> dict[int, str]:
    """Prompts to offer: the current ones, and those only the log still knows (deleted)."""
    current = {p.id: p.name for p in console().prompts.all() if p.id is not None}
    current.update({b.id: b.name for b in console().prompts.broken() if b.id not in current})
    logged = _facets(str(console().db.path)).prompts
    names = {pid: f"{name} (deleted)" for pid, name in logged.items() if pid not in current}
    return {**current, **names}


@gated
def clear() -> None:
    for key in _KEYS:
        st.session_state.pop(key, None)


def filters() -> LogFilter:
    """Draw the filter widgets; return what they select."""
    facets = _facets(str(console().db.path))
    prompts = _prompt_names()
    row = st.columns([2, 2, 2, 2])
    range_name = row[0].selectbox(
        "Time range", list(RANGES), index=list(RANGES).index(DEFAULT_RANGE), key="log_range"
    )
    time_range = TimeRange()
    if range_name == "Custom dates":
        today = date.today()
        picked = row[0].date_input("Dates", (today - timedelta(days=7), today), key="log_dates")
        if isinstance(picked, tuple) and len(picked) == 2:
            time_range = TimeRange(
                since=datetime.combine(picked[0], time.min, UTC),
                until=datetime.combine(picked[1] + timedelta(days=1), time.min, UTC),
            )
    elif delta := RANGES[range_name]:
        time_range = TimeRange(last=delta)
    statuses = row[1].multiselect(
        "Status", [s.value for s in Status], key="log_status", format_func=status_text
    )
    types = row[2].multiselect(
        "Action", [t.value for t in REGISTRY], key="log_types", format_func=action_label
    )
    interactions = row[3].multiselect(
        "Interaction",
        [i.value for i in Interaction],
        key="log_inter",
        format_func=lambda i: Interaction(i).label,
    )
    row = st.columns([2, 2, 2, 2])
    prompt_ids = row[0].multiselect(
        "Prompt", list(prompts), key="log_prompts", format_func=lambda i: prompts.get(i, f"#{i}")
    )
    accounts = row[1].multiselect("Account", facets.accounts, key="log_accounts")
    operators = row[2].multiselect(
        "Operator", facets.operators, key="log_operators", format_func=lambda o: o or "(none)"
    )
    sources = row[3].multiselect("Source", facets.sources, key="log_sources")
    text = st.text_input(
        "Search",
        key="log_text",
        placeholder="ada@example.com, Newsletter, invalid email…",
        help="Words in the contact's email, the target, the prompt or the error. The last word "
        "may be unfinished: “ada@exa” finds ada@example.com.",
    )
    return LogFilter(
        time=time_range,
        statuses=tuple(statuses),
        action_types=tuple(types),
        prompt_ids=tuple(prompt_ids),
        interactions=tuple(interactions),
        accounts=tuple(accounts),
        operators=tuple(operators),
        sources=tuple(sources),
        text=text,
    )


def cli_arguments(selected: LogFilter) -> str:
    """The same filter as ``python -m connector`` flags (for exports too big for the page)."""
    parts: list[str] = []
    if selected.time.last is not None:
        hours = int(selected.time.last.total_seconds() // 3600)
        parts.append(f"--last {hours // 24}d" if hours % 24 == 0 else f"--last {hours}h")
    since, until = selected.time.bounds()
    if selected.time.last is None and since:
        parts.append(f"--since {since[:10]}")
    if selected.time.last is None and until:
        parts.append(f"--until {until[:10]}")
    for flag, values in (
        ("--status", selected.statuses),
        ("--action", selected.action_types),
        ("--prompt-id", selected.prompt_ids),
        ("--interaction", selected.interactions),
        ("--account", selected.accounts),
        ("--operator", selected.operators),
        ("--source", selected.sources),
    ):
        parts.extend(f"{flag} {_quoted(str(v))}" for v in values)
    if selected.text.strip():
        parts.append(f"--search {_quoted(selected.text.strip())}")
    return " ".join(parts)


def _quoted(value: str) -> str:
    safe = value.replace("'", "'\\''")
    return value if value.replace("-", "").replace(".", "").isalnum() else f"'{safe}'"
