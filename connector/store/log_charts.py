"""What the log page's charts draw, over the filtered set: actions over time, success per
action type, latency per action type, the most frequent errors. Each is a pandas DataFrame.

The filter is ``LogQuery(filters, now).actions()``, the very SQL the page's rows and counts
use, so every filter applies and none is written twice; each chart adds its own columns,
grouping and conditions to it.

**Speed at a million rows.** A log row is about 7 KB (request, answer, every try), and a row
read by id costs ~20 µs, so a chart that reads rows spends seconds. Each chart reads one index
alone instead (``db.m012_chart_indexes``); each index holds every column a chart groups on and
every column a broad filter names (time, status, action type, prompt, interaction, account,
operator, source), so the rows themselves are never read:

* ``idx_action_log_chart_day`` — ``(substr(created_at, 1, 10), action_type, status,
  created_at, attempts, duration_ms, …filters)``: **actions over time** and **success by
  action**. Grouped by day, action type and status in the index's own order, a GROUP BY streams
  with no sort (all time, 1M rows: ~115 ms; the same GROUP BY with a sort: ~500 ms). A time
  range also bounds the day (``substr(created_at, 1, 10) >= …``, implied by the range), so
  "last 7 days" reads 7 days of the index (~10 ms). Hour buckets (ranges of 2 days or less)
  sort the few rows of the range. Also the rows for **latency** over a time range.
* ``idx_action_log_chart_latency`` — ``(action_type, duration_ms, …)``, partial: only rows
  sent and finished (``attempts > 0``, not pending or interrupted). Durations in order per
  action type, so an exact percentile is one walk to its rank (``ORDER BY duration_ms LIMIT 1
  OFFSET k``; p95 walks from the slow end), with no time range (all time: ~100 ms). With a
  time range the range's durations are read from the day index and ranked here.
* ``idx_action_log_chart_errors`` — ``(status, created_at, error, …filters)``, partial: only
  failed, unknown and interrupted rows (a few percent of the log): **top errors**.

What they cost: three more index entries per row (~220 MB at a million rows); writing an
action's row and finalising it went from 0.69 to ~0.76 ms (p50, 1M rows), and building them
on an existing million-row log (migration m012) takes 5–20 s, once.

The query planner is told which index to use (``INDEXED BY``): with sampled statistics and no
idea that a row is 7 KB, it prefers a filter's own ``(column, created_at)`` index and a row
read per match (account filter, all time: 1.05 s instead of 0.11 s). Filters that pick few rows
by their own index (an email, a run, a replay job, replayable rows, search text) are left to
the planner: those rows are few, and reading them is cheap.

Percentiles are **nearest-rank**: the p-th percentile of n durations is the ⌈p/100 · n⌉-th
smallest, always a duration that was measured.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd

from connector.store.db import Database
from connector.store.log_query import CHART_DAY_INDEX, DAY, EVERYTHING, LogFilter, LogQuery

__all__ = [
    "FAILED_STATUSES",
    "HOURLY_UP_TO",
    "actions_over_time",
    "latency_by_action",
    "success_by_action",
    "top_errors",
]

FAILED_STATUSES = ("failed", "unknown", "interrupted")
HOURLY_UP_TO = timedelta(days=2)  # a range this long or shorter is drawn by the hour

_DAY_INDEX = CHART_DAY_INDEX
_LATENCY_INDEX = "idx_action_log_chart_latency"
_ERRORS_INDEX = "idx_action_log_chart_errors"
# The partial indexes' conditions, as m012 wrote them: SQLite uses a partial index only for a
# query that states its condition (tests check that these plans use them).
_SENT = "a.attempts > 0 AND a.status NOT IN ('pending', 'interrupted')"
_FAILED = "a.status IN ('failed', 'unknown', 'interrupted')"
_DAY = DAY
_HOUR = "substr(a.created_at, 1, 13)"


def actions_over_time(
    db: Database, filters: LogFilter = EVERYTHING, now: datetime | None = None
) -> pd.DataFrame:
    """Matching rows per time bucket and status: columns ``bucket`` (UTC), ``status``,
    ``count``; only buckets with rows, oldest first. The bucket is an hour when the filter's
    range is 2 days or less (for all time: when the matching rows span 2 days or less), else
    a day; ``frame.attrs["bucket"]`` says which ("hour" or "day")."""
    now = now or datetime.now(UTC)
    db.keep_statistics()
    since, until = filters.time.bounds(now)
    hourly = False
    if since is not None:
        hourly = (_instant(until) if until else now) - _instant(since) <= HOURLY_UP_TO
    rows: list[Any] = []
    with db.read() as conn:
        if not hourly:
            query = LogQuery(filters, now).over_index(_DAY_INDEX)
            rows = conn.execute(
                "SELECT bucket, status, sum(n) FROM ("
                f"SELECT {_DAY} AS bucket, a.action_type, a.status, count(*) AS n "
                f"FROM {query.source} WHERE {query.clause()} GROUP BY 1, 2, 3) "
                "GROUP BY bucket, status ORDER BY bucket, status",
                query.args,
            ).fetchall()
            if since is None and rows and _days_between(rows[0][0], rows[-1][0]) <= 2:
                # All time, and the rows fit in 3 calendar days: their exact span decides.
                # (Asked only then: min and max in the pass above would double its cost.)
                query = LogQuery(filters, now).over_index(_DAY_INDEX, since=rows[0][0])
                first, last = conn.execute(
                    f"SELECT min(a.created_at), max(a.created_at) FROM {query.source} "
                    f"WHERE {query.clause()}",
                    query.args,
                ).fetchone()
                if _instant(last) - _instant(first) <= HOURLY_UP_TO:
                    hourly, since = True, first
        if hourly:
            query = LogQuery(filters, now).over_index(_DAY_INDEX, since=since)
            rows = conn.execute(
                f"SELECT {_HOUR} AS bucket, a.status, count(*) FROM {query.source} "
                f"WHERE {query.clause()} GROUP BY 1, 2 ORDER BY 1, 2",
                query.args,
            ).fetchall()
    frame = pd.DataFrame(
        {
            "bucket": pd.to_datetime(
                [r[0] for r in rows], format="%Y-%m-%dT%H" if hourly else "%Y-%m-%d", utc=True
            ),
            "status": pd.Series([r[1] for r in rows], dtype=object),
            "count": pd.Series([int(r[2]) for r in rows], dtype="int64"),
        }
    )
    frame.attrs["bucket"] = "hour" if hourly else "day"
    return frame


def success_by_action(
    db: Database, filters: LogFilter = EVERYTHING, now: datetime | None = None
) -> pd.DataFrame:
    """Outcomes per action type: ``action_type``, ``total``, ``succeeded``, ``failed``
    (failed, unknown or interrupted), ``skipped``, ``dry_run``, ``pending`` (planned or in
    flight: not decided yet) and
    ``success_rate`` = succeeded / (total − skipped − dry_run − pending), NaN when nothing was
    decided; most frequent action type first."""
    now = now or datetime.now(UTC)
    db.keep_statistics()
    query = LogQuery(filters, now).over_index(_DAY_INDEX)
    with db.read() as conn:
        rows = conn.execute(
            "SELECT action_type, status, sum(n) FROM ("
            f"SELECT {_DAY}, a.action_type, a.status, count(*) AS n FROM {query.source} "
            f"WHERE {query.clause()} GROUP BY 1, 2, 3) GROUP BY action_type, status",
            query.args,
        ).fetchall()
    counts: dict[str, dict[str, int]] = {}
    for action_type, status, n in rows:
        by_status = counts.setdefault(action_type, {})
        by_status[status] = by_status.get(status, 0) + int(n)
    records = []
    for action_type, by_status in counts.items():
        total = sum(by_status.values())
        succeeded = by_status.get("succeeded", 0)
        failed = sum(by_status.get(s, 0) for s in FAILED_STATUSES)
        skipped = by_status.get("skipped", 0)
        dry_run = by_status.get("dry_run", 0)
        pending = by_status.get("pending", 0) + by_status.get("planned", 0)  # not decided yet
        decided = total - skipped - dry_run - pending
        records.append(
            (
                action_type,
                total,
                succeeded,
                failed,
                skipped,
                dry_run,
                pending,
                succeeded / decided if decided else math.nan,
            )
        )
    records.sort(key=lambda r: (-r[1], r[0]))
    columns = ["action_type", "total", "succeeded", "failed", "skipped", "dry_run", "pending"]
    frame = pd.DataFrame(records, columns=[*columns, "success_rate"])
    return frame.astype({c: "int64" for c in columns[1:]} | {"success_rate": "float64"})


def latency_by_action(
    db: Database, filters: LogFilter = EVERYTHING, now: datetime | None = None
) -> pd.DataFrame:
    """How long the actions that were sent took, per action type: ``action_type``, ``n``,
    ``p50_ms``, ``p95_ms``, over the rows sent (``attempts > 0``) and finished (not pending or
    interrupted). Exact nearest-rank percentiles: the ⌈p/100 · n⌉-th smallest duration. Most
    frequent action type first."""
    now = now or datetime.now(UTC)
    db.keep_statistics()
    since, _ = filters.time.bounds(now)
    records: list[tuple[str, int, float, float]] = []
    with db.read() as conn:
        query = LogQuery(filters, now).over_index(
            _LATENCY_INDEX, extra=[_SENT, "a.duration_ms IS NOT NULL"]
        )
        if since is None and query.indexed:
            # Walk the latency index to each rank: all time, no sort, no durations in Python.
            counted = conn.execute(
                f"SELECT a.action_type, count(*) FROM {query.source} WHERE {query.clause()} "
                "GROUP BY a.action_type",
                query.args,
            ).fetchall()
            rank = (
                f"SELECT a.duration_ms FROM {query.source} WHERE {query.clause()} "
                "AND a.action_type = ? ORDER BY a.duration_ms {order} LIMIT 1 OFFSET ?"
            )
            for action_type, n in counted:
                picked = []
                for order, offset in (
                    ("ASC", _rank(50, n) - 1),
                    ("DESC", n - _rank(95, n)),  # from the slow end: a short walk
                ):
                    (value,) = conn.execute(
                        rank.format(order=order), [*query.args, action_type, offset]
                    ).fetchone()
                    picked.append(float(value))
                records.append((action_type, int(n), picked[0], picked[1]))
        else:
            query = LogQuery(filters, now).over_index(
                _DAY_INDEX, extra=[_SENT, "a.duration_ms IS NOT NULL"]
            )
            durations: dict[str, list[float]] = {}
            for action_type, duration in conn.execute(
                f"SELECT a.action_type, a.duration_ms FROM {query.source} WHERE {query.clause()}",
                query.args,
            ):
                durations.setdefault(action_type, []).append(duration)
            for action_type, values in durations.items():
                values.sort()
                n = len(values)
                records.append(
                    (
                        action_type,
                        n,
                        float(values[_rank(50, n) - 1]),
                        float(values[_rank(95, n) - 1]),
                    )
                )
    records.sort(key=lambda r: (-r[1], r[0]))
    frame = pd.DataFrame(records, columns=["action_type", "n", "p50_ms", "p95_ms"])
    return frame.astype({"n": "int64", "p50_ms": "float64", "p95_ms": "float64"})


def top_errors(
    db: Database,
    filters: LogFilter = EVERYTHING,
    now: datetime | None = None,
    limit: int = 10,
) -> pd.DataFrame:
    """The ``limit`` most frequent error sentences of failed, unknown and interrupted rows:
    ``error``, ``count``, ``last_seen`` (UTC); most frequent first, then the most recent."""
    now = now or datetime.now(UTC)
    db.keep_statistics()
    query = LogQuery(filters, now).over_index(_ERRORS_INDEX, extra=[_FAILED])
    with db.read() as conn:
        rows = conn.execute(
            "SELECT coalesce(a.error, '') AS sentence, count(*) AS n, "
            f"max(a.created_at) AS last FROM {query.source} WHERE {query.clause()} "
            "GROUP BY sentence ORDER BY n DESC, last DESC LIMIT ?",
            [*query.args, limit],
        ).fetchall()
    return pd.DataFrame(
        {
            "error": pd.Series([r[0] for r in rows], dtype=object),
            "count": pd.Series([int(r[1]) for r in rows], dtype="int64"),
            "last_seen": pd.to_datetime([r[2] for r in rows], format="ISO8601", utc=True),
        }
    )


def _rank(percent: int, n: int) -> int:
    """The 1-based nearest rank of the ``percent``-th percentile of ``n`` values."""
    return max(1, -(-percent * n // 100))


def _days_between(first: str, last: str) -> int:
    return (date.fromisoformat(last) - date.fromisoformat(first)).days


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
