"""The action log as files: CSV and JSON Lines, streamed row by row.

Both read the log in keyset chunks (``ActionLog.iter_rows``) and write as they go, so an
export of a million rows runs in constant memory. In CSV, a cell a spreadsheet would execute
(starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets a leading ``'``, as
OWASP recommends against CSV injection: a prompt named ``=HYPERLINK(…)`` stays text.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import IO, Any

__all__ = ["EXPORT_COLUMNS", "ExportFormat", "csv_lines", "jsonl_lines", "neutralised", "write"]

EXPORT_COLUMNS = (
    "id",
    "created_at",
    "finished_at",
    "run_id",
    "retry_of",
    "job_id",
    "prompt_id",
    "prompt_name",
    "interaction",
    "position",
    "action_type",
    "target_id",
    "target_name",
    "contact_email",
    "contact_id",
    "status",
    "reason_code",
    "http_status",
    "attempts",
    "duration_ms",
    "error",
    "last_error",
    "operator",
    "source",
    "account",
    "request",
    "response",
)
_JSON_COLUMNS = ("request", "response")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ExportFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"

    @property
    def mime(self) -> str:
        return "text/csv" if self is ExportFormat.CSV else "application/x-ndjson"


def neutralised(value: Any) -> Any:
    """``value`` safe for a spreadsheet: text that would run as a formula gets a leading '."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


class _Line:
    """A file-like sink that hands back what ``csv.writer`` wrote for one row."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text = text
        return len(text)


def csv_lines(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The header, then one CSV line per row; request and response as JSON text."""
    line = _Line()
    writer = csv.writer(line)
    writer.writerow(EXPORT_COLUMNS)
    yield line.text
    for row in rows:
        writer.writerow([neutralised("" if row.get(k) is None else row[k]) for k in EXPORT_COLUMNS])
        yield line.text


def jsonl_lines(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """One JSON object per row; request and response as nested JSON, not strings."""
    for row in rows:
        record = {k: row.get(k) for k in EXPORT_COLUMNS}
        for key in _JSON_COLUMNS:
            text = record[key]
            if isinstance(text, str) and text:
                record[key] = json.loads(text)
        yield json.dumps(record, ensure_ascii=False) + "\n"


def write(rows: Iterable[dict[str, Any]], fmt: ExportFormat, out: IO[str]) -> int:
    """Write ``rows`` to ``out`` as ``fmt``; returns how many rows were written."""
    written = 0

    def counted() -> Iterator[dict[str, Any]]:
        nonlocal written
        for row in rows:
            written += 1
            yield row

    lines = csv_lines(counted()) if fmt is ExportFormat.CSV else jsonl_lines(counted())
    for line in lines:
        out.write(line)
    return written
