"""The audit trail: who changed the console's configuration, when, from where, and what.

One row per change in ``audit_events``: the kind of change, its subject (a prompt's name, an
account's host), a one-line ``summary`` computed from the state before and after (e.g.
``name: “Newsletter” → “Newsletter v2”; Accept actions: 2 → 3; timeout: 0 → 30 s``), and both
states as JSON so a reader can see the whole difference.

An API key is never stored: account events carry the API URL, its host and the masked key
(last four characters) only, and ``record`` masks once more whatever it is given under a
key-like name (``api_key``, ``token``…) and every occurrence of the ``secrets`` it is told
about, so a careless caller can't write one either.

``Console`` records the changes it makes (``save_account``, ``save_prompt``…); pages and the CLI
call those methods, never the stores directly.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from connector.core.models import Interaction, PromptType
from connector.core.records import utc_now
from connector.store.db import Database
from connector.store.settings import mask_key

__all__ = ["AuditEvent", "AuditKind", "AuditLog", "account_snapshot", "summarize"]


class AuditKind(StrEnum):
    ACCOUNT_SAVED = "account_saved"
    ACCOUNT_SWITCHED = "account_switched"  # to the sandbox (the saved account kept) or back
    ACCOUNT_REMOVED = "account_removed"  # the saved account and its key deleted
    PROMPT_CREATED = "prompt_created"
    PROMPT_EDITED = "prompt_edited"
    PROMPT_DELETED = "prompt_deleted"
    SANDBOX_RESET = "sandbox_reset"
    LOG_RETENTION = "log_retention"  # old action-log rows deleted

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


@dataclass(frozen=True)
class AuditEvent:
    id: int
    at: str  # ISO 8601 UTC with milliseconds and a Z
    operator: str
    source: str  # where the change was made: setup, prompts, cli…
    kind: str  # an ``AuditKind`` when this version knows it
    subject: str
    summary: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at,
            "operator": self.operator,
            "source": self.source,
            "kind": str(self.kind),
            "subject": self.subject,
            "summary": self.summary,
            "before": self.before,
            "after": self.after,
        }


def account_snapshot(api_url: str, api_key: str) -> dict[str, str]:
    """What the audit trail keeps of an account: its URL, host and masked key, never the key."""
    return {"api_url": api_url, "host": urlsplit(api_url).netloc, "masked_key": mask_key(api_key)}


class AuditLog:
    """Configuration changes in the console database. Thread-safe."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record(
        self,
        kind: AuditKind,
        subject: str,
        *,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        operator: str = "",
        source: str = "",
        secrets: tuple[str, ...] = (),
    ) -> AuditEvent:
        """Write one event and return it. ``secrets`` (an API key in play) are masked wherever
        they appear, as are values under key-like names."""
        hidden = tuple(s for s in secrets if s)
        before, after = _redact(before, hidden), _redact(after, hidden)
        subject = _redact(subject, hidden)
        summary = _redact(summarize(kind, subject, before, after), hidden)
        at = utc_now()
        with self._db.write() as conn:
            cursor = conn.execute(
                "INSERT INTO audit_events (at, operator, source, kind, subject, summary, before, "
                "after) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [at, operator, source, str(kind), subject, summary, _json(before), _json(after)],
            )
            event_id = int(cursor.lastrowid or 0)
        return AuditEvent(event_id, at, operator, source, kind, subject, summary, before, after)

    def page(
        self, *, limit: int = 50, before_id: int | None = None, kinds: tuple[str, ...] = ()
    ) -> list[AuditEvent]:
        """Up to ``limit`` events, newest first; the next page starts ``before_id`` the last
        one's id. ``kinds`` keeps only those kinds."""
        if limit < 1:
            return []
        where: list[str] = []
        params: list[object] = []
        if before_id is not None:
            where.append("id < ?")
            params.append(before_id)
        if kinds:
            where.append(f"kind IN ({', '.join('?' * len(kinds))})")
            params.extend(str(k) for k in kinds)
        with self._db.read() as conn:
            rows = list(
                conn.table("audit_events").rows_where(
                    " AND ".join(where) or None, params, order_by="id DESC", limit=limit
                )
            )
        return [_event(row) for row in rows]


# -- storage ------------------------------------------------------------------------------------

_SECRET_NAME = re.compile(r"(^|_)(api_?key|key|token|secret|password)$", re.IGNORECASE)


def _redact(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        return {
            k: mask_key(str(v)) if v and _SECRET_NAME.search(str(k)) else _redact(v, secrets)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact(v, secrets) for v in value]
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, mask_key(secret))
    return value


def _json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _event(row: dict[str, Any]) -> AuditEvent:
    kind = row["kind"]
    return AuditEvent(
        id=row["id"],
        at=row["at"],
        operator=row["operator"] or "",
        source=row["source"] or "",
        kind=AuditKind(kind) if kind in AuditKind._value2member_map_ else kind,
        subject=row["subject"] or "",
        summary=row["summary"] or "",
        before=json.loads(row["before"]) if row["before"] else None,
        after=json.loads(row["after"]) if row["after"] else None,
    )


# -- summaries ----------------------------------------------------------------------------------


def summarize(
    kind: str, subject: str, before: dict[str, Any] | None, after: dict[str, Any] | None
) -> str:
    """One line saying what changed, for people: the fields that differ, ``a → b`` each."""
    if kind in (AuditKind.PROMPT_CREATED, AuditKind.PROMPT_EDITED, AuditKind.PROMPT_DELETED):
        return _prompt_summary(kind, before, after)
    if kind == AuditKind.ACCOUNT_SAVED:
        return _account_summary(before, after)
    if kind == AuditKind.ACCOUNT_SWITCHED:
        if subject != "sandbox":
            key = (after or {}).get("masked_key", "?")
            return f"Switched back to the saved account {subject} (key {key})."
        if not before:
            return "Switched to the sandbox (no account was saved)."
        return (
            f"Switched to the sandbox; the saved account {before.get('host', '?')} "
            f"(key {before.get('masked_key', '?')}) is kept for switching back."
        )
    if kind == AuditKind.ACCOUNT_REMOVED:
        return (
            f"Removed the saved account {(before or {}).get('host', '?')} "
            f"(key {(before or {}).get('masked_key', '?')}); the sandbox is in use."
        )
    if kind == AuditKind.SANDBOX_RESET:
        return "Reset the sandbox to its seeded demo account; its contacts and changes were erased."
    changes = _changes(before, after)
    label = AuditKind(kind).label if kind in AuditKind._value2member_map_ else str(kind)
    return f"{label}: {changes}" if changes else label


def _changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    """``key: a → b`` for every key that differs (a key on one side only: its value)."""
    old, new = before or {}, after or {}
    if not old or not new:
        return ", ".join(f"{k}: {_shown(v)}" for k, v in (old or new).items())
    parts = []
    for key in dict.fromkeys([*old, *new]):
        if old.get(key) != new.get(key):
            parts.append(f"{key}: {_shown(old.get(key))} → {_shown(new.get(key))}")
    return "; ".join(parts)


def _shown(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return f"{value:,}"
    if isinstance(value, str):
        return _quoted(value)
    if isinstance(value, list | dict):
        return f"{len(value)} item{'' if len(value) == 1 else 's'}"
    return str(value)


def _quoted(text: str, width: int = 40) -> str:
    text = " ".join(text.split())
    if not text:
        return "empty"
    return f"“{text[: width - 1]}…”" if len(text) > width else f"“{text}”"


def _account_summary(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    new = after or {}
    if not before:
        return f"Saved account {new.get('host', '?')}, key {new.get('masked_key', '?')}."
    parts = [
        f"{label}: {before.get(key, '?')} → {new.get(key, '?')}"
        for key, label in (("api_url", "API URL"), ("masked_key", "key"))
        if before.get(key) != new.get(key)
    ]
    if not parts:
        return f"Saved account {new.get('host', '?')} again (same URL and key)."
    return "; ".join(parts)


_BUTTONS = (
    ("accept_label", "Accept button"),
    ("secondary_label", "Secondary button"),
    ("decline_label", "Decline button"),
)


def _type_label(value: Any) -> str:
    return PromptType(value).label if value in PromptType._value2member_map_ else str(value)


def _count(items: Any, one: str, many: str) -> str:
    n = len(items or [])
    return f"{n} {one if n == 1 else many}"


def _prompt_summary(kind: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    if kind == AuditKind.PROMPT_EDITED and before and after:
        return _prompt_diff(before, after) or "Saved with no changes."
    prompt = after if kind != AuditKind.PROMPT_DELETED else before
    verb = {"prompt_created": "Created", "prompt_deleted": "Deleted"}.get(str(kind), "Saved")
    if not prompt:
        return f"{verb} a prompt."
    actions = prompt.get("actions") or {}
    parts = [_type_label(prompt.get("prompt_type"))]
    if prompt.get("inputs"):
        parts.append(_count(prompt["inputs"], "form input", "form inputs"))
    parts += [f"{_interaction(i)} actions: {len(c)}" for i, c in actions.items() if c]
    return f"{verb} {_quoted(str(prompt.get('name', '')), 80)} ({'; '.join(parts)})."


def _interaction(value: str) -> str:
    return Interaction(value).label if value in Interaction._value2member_map_ else value


def _prompt_diff(old: dict[str, Any], new: dict[str, Any]) -> str:
    parts = []
    for key, label in (("name", "name"), ("headline", "headline"), ("body", "body")):
        if old.get(key) != new.get(key):
            parts.append(f"{label}: {_quoted(old.get(key) or '')} → {_quoted(new.get(key) or '')}")
    if old.get("prompt_type") != new.get("prompt_type"):
        parts.append(
            f"type: {_type_label(old.get('prompt_type'))} → {_type_label(new.get('prompt_type'))}"
        )
    for key, label in _BUTTONS:
        if old.get(key) != new.get(key):
            parts.append(f"{label}: {_quoted(old.get(key) or '')} → {_quoted(new.get(key) or '')}")
    for key, label in (("inputs", "form inputs"), ("mappings", "contact fields")):
        parts += _list_change(label, old.get(key) or [], new.get(key) or [])
    old_actions, new_actions = old.get("actions") or {}, new.get("actions") or {}
    for interaction in dict.fromkeys([*(i.value for i in Interaction), *old_actions, *new_actions]):
        parts += _list_change(
            f"{_interaction(interaction)} actions",
            old_actions.get(interaction) or [],
            new_actions.get(interaction) or [],
        )
    if old.get("timeout_seconds") != new.get("timeout_seconds"):
        parts.append(
            f"timeout: {old.get('timeout_seconds') or 0} → {new.get('timeout_seconds') or 0} s"
        )
    return "; ".join(parts)


def _list_change(label: str, old: list[Any], new: list[Any]) -> list[str]:
    if len(old) != len(new):
        return [f"{label}: {len(old)} → {len(new)}"]
    return [f"{label} changed"] if old != new else []
