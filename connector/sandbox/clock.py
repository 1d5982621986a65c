"""Timestamps as the emulated account writes them.

State keeps UTC as ``YYYY-MM-DD HH:MM:SS`` text (sortable, zone-free, the format of the API's own
``*_utc_timestamp`` fields). Responses render account-local ISO-8601 with an offset, like the live
API does for ``cdate``/``udate``/``sdate``. The offset is fixed: a demo account with daylight saving
would make seeded dates shift by an hour twice a year, which helps nobody.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

ACCOUNT_TZ = timezone(timedelta(hours=-5))
UTC_FORMAT = "%Y-%m-%d %H:%M:%S"


def utc_now() -> str:
    """Now, in the stored UTC text format."""
    return datetime.now(UTC).strftime(UTC_FORMAT)


def utc_text(moment: datetime) -> str:
    """An aware datetime in the stored UTC text format."""
    return moment.astimezone(UTC).strftime(UTC_FORMAT)


def local_iso(stored: str | None) -> str | None:
    """Stored UTC text -> ``2024-01-08T09:00:00-05:00`` (account offset); None stays None."""
    if stored is None:
        return None
    moment = datetime.strptime(stored, UTC_FORMAT).replace(tzinfo=UTC)
    return moment.astimezone(ACCOUNT_TZ).isoformat(timespec="seconds")
