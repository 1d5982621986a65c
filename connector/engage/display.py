"""How the console shows times and names: one rule for every page and the CLI.

Times are shown in UTC and say so: the log stores UTC, ActiveCampaign answers in the account's
own offset (``2018-08-06T16:30:41-05:00``), and mixing the two on one screen misleads. Labels
come from the enums and the action registry, never from raw values like ``secondary_accept``.

Names that come from ActiveCampaign, from a prompt or from the log are shown as typed: where a
page must put one into Markdown (``st.markdown``, ``st.caption``, alerts, headings, and the
labels of buttons, expanders, tabs and inputs), it goes through ``as_markdown_text`` first.
Plain-text elements (``st.text``, ``st.code``, dataframes, select options) need nothing.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from connector.ac.actions import REGISTRY
from connector.core.models import ActionType, Interaction
from connector.core.records import Run, Status

__all__ = [
    "action_label",
    "as_markdown_text",
    "interaction_label",
    "pending_sentence",
    "utc_text",
]

_NO_ZONE = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d")  # the API's *_utc_timestamp fields, plain dates


def utc_text(moment: str | datetime | None, *, seconds: bool = True) -> str:
    """``2026-11-26T05:12:27-05:00`` (or ``…Z``, a zone-less UTC stamp, or a datetime) as
    ``2026-11-26 10:12:27 UTC``; "" for nothing; anything unreadable as it came."""
    if moment is None or moment == "":
        return ""
    if isinstance(moment, datetime):
        parsed: datetime | None = moment
    else:
        text = moment.strip().replace("Z", "+00:00")
        parsed = _iso(text) or next((p for f in _NO_ZONE if (p := _strict(text, f))), None)
    if parsed is None:
        return str(moment)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    shown = parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return f"{shown} UTC"


def _iso(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _strict(text: str, form: str) -> datetime | None:
    try:
        return datetime.strptime(text, form)
    except ValueError:
        return None


def interaction_label(value: str | None) -> str:
    try:
        return Interaction(value or "").label
    except ValueError:
        return value or ""


def action_label(value: str | None) -> str:
    try:
        return REGISTRY[ActionType(value or "")].label
    except ValueError:
        return value or ""


# Markdown that reads as text: see ``as_markdown_text``. Escaped: what has a meaning anywhere in a
# line; an underscore unless inside a word (where Markdown never reads it as emphasis: the
# CONNECTOR_DB of a message stays as it is); a colon unless a space follows (``:red[``,
# ``:material/…:``, emoji and ``https:`` need a character right after it).
_ESCAPED = re.compile(r"[\\`*~\[\]<>&$|]|(?<![^\W_])_|_(?![^\W_])|:(?=\S)")
# What starts a block at the start of a line: a list item, a heading, a setext underline.
_LINE_START = re.compile(r"^([ \t]*)([-+#=]|[0-9]+(?=[.)]))", re.MULTILINE)
_INDENT = re.compile(r"^[ \t]+", re.MULTILINE)  # four spaces would start a code block
_ZERO_WIDTH = "\u200b"
# What Streamlit rewrites in the text after Markdown has been parsed, where no backslash reaches:
# a colon opening a word (``:material_x:``, ``:streamlit:``, emoji shortcodes, ``https://``),
# ``www.`` and ``name@host`` (GitHub autolinks), ``->``, ``<-``, ``--``, ``<=``, ``>=``, ``~=``.
_REWRITTEN = re.compile(
    r"(?<=:)(?=\S)|(?i:(?<=www)(?=\.))|(?<=@)(?=[-\w])"
    r"|(?<=-)(?=[->])|(?<=<)(?=[-=])|(?<=[>~])(?==)"
)


def as_markdown_text(value: str) -> str:
    """``value`` as Markdown that Streamlit shows exactly as typed, as text.

    For ``st.markdown``, ``st.caption``, ``st.error`` and the like, headings, and the labels of
    buttons, expanders, tabs and inputs: every name from ActiveCampaign, a prompt or the log
    that goes into one of them goes through here. A backslash escapes each character Markdown
    or Streamlit's directives would read (``\\ ` * ~ [ ] < > & $ |``, an underscore outside a
    word, a colon before a character) and what starts a block at the start of a line (``#``,
    ``-``, ``+``, ``=``, the dot or parenthesis of ``1.``, ``1)``). Leading spaces become
    no-break spaces (four would make a code block) and each line break stays a line break.
    A zero-width space goes where Streamlit rewrites the text after parsing and no escape
    reaches (icons and emoji after a colon, links made of bare URLs and emails, arrows like
    ``->``): it shows nothing, and it is the one character added that is not a backslash.
    """
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    text = _REWRITTEN.sub(_ZERO_WIDTH, text)
    text = _ESCAPED.sub(lambda m: "\\" + m.group(), text)
    text = _LINE_START.sub(_escape_line_start, text)
    text = _INDENT.sub(lambda m: "\u00a0" * len(m.group().expandtabs(4)), text)
    return "\\\n".join(text.split("\n"))  # a backslash before a line break: a hard break


def _escape_line_start(match: re.Match[str]) -> str:
    indent, start = match.groups()
    if start.isdigit():  # "1." or "1)": the dot or the parenthesis after the number
        return f"{indent}{start}\\"
    return f"{indent}\\{start}"


def pending_sentence(run: Run) -> str:
    """Why an open run is not finished, and who finishes it: one sentence for pages and CLI."""
    due = [a.verify_after for a in run.attempts if a.verify_after is not None]
    finisher = "a worker (the dashboard's, or “python -m connector worker”) finishes it"
    if due:
        at = utc_text(datetime.fromtimestamp(min(due), UTC))
        return (
            f"an answer was lost after sending, so whether it landed is verified at {at} "
            f"(after the settle delay) before anything depending on it runs; {finisher}."
        )
    planned = sum(1 for a in run.attempts if a.status is Status.PLANNED)
    return f"{planned} planned action(s) are still to run; {finisher}."
