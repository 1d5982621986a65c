"""How the console shows times and names: one rule for every page and the CLI.

Times are shown in UTC and say so: the log stores UTC, ActiveCampaign answers in the account's
own offset (``2018-08-06T16:30:41-05:00``), and mixing the two on one screen misleads. Labels
come from the enums and the action registry, never from raw values like ``secondary_accept``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from .actions import REGISTRY
from .models import ActionType, Interaction

__all__ = ["action_label", "interaction_label", "utc_text"]

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
