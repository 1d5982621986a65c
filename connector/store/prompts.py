"""Storage of prompt definitions: one JSON definition per row, names unique whatever their case.

Definitions are stored as JSON in the ``prompts`` table so that adding a property never needs a
migration; ``Prompt.from_dict`` reads every older shape.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

from sqlite_utils.db import NotFoundError

from connector.core.errors import InputError, clip
from connector.engage.prompts import Prompt, name_key
from connector.store.db import Database

__all__ = ["PromptStore"]


class PromptStore:
    """Prompts in the console database. Thread-safe."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def all(self) -> list[Prompt]:
        with self._db.read() as conn:
            rows = list(conn.table("prompts").rows_where(order_by="name collate nocase"))
        return [self._from_row(r) for r in rows]

    def get(self, prompt_id: int) -> Prompt | None:
        with self._db.read() as conn:
            rows = list(conn.table("prompts").rows_where("id = ?", [prompt_id]))
        return self._from_row(rows[0]) if rows else None

    def save(self, prompt: Prompt) -> Prompt:
        """Insert or update after validation; returns the prompt with its id. A refusal
        (``InputError``) leaves the store as it was."""
        row = self._row(prompt)
        try:
            with self._db.write() as conn:
                if prompt.id is None:
                    new_id = self._insert(conn, row)
                else:
                    conn.table("prompts").update(prompt.id, row)
        except NotFoundError:
            raise InputError(
                "This prompt no longer exists: it was deleted, perhaps in another window. "
                "Nothing was saved; create it again or duplicate another one.",
                field="id",
            ) from None
        except sqlite3.IntegrityError:
            with self._db.read() as conn:
                found = conn.execute(
                    "SELECT name FROM prompts WHERE name_key = ?", [row["name_key"]]
                ).fetchone()
            same = f"“{clip(found[0] if found else row['name'], 61)}”"
            raise InputError(
                f"A prompt named {same} already exists (names are compared without case or "
                "extra spaces). Choose another name.",
                field="name",
            ) from None
        if prompt.id is None:
            prompt.id = new_id
        prompt.name = row["name"]
        return prompt

    def seed_once(self, prompts: list[Prompt], marker: str) -> bool:
        """Store ``prompts`` unless ``marker`` is set in the settings or a prompt exists, and set
        ``marker``: one transaction, so processes starting together seed once. Returns whether
        this call stored them."""
        rows = [self._row(prompt) for prompt in prompts]
        with self._db.write() as conn:
            now = datetime.now(UTC).isoformat(timespec="seconds")
            marked = conn.execute(
                "INSERT OR IGNORE INTO settings (key, value, updated_at) VALUES (?, '1', ?)",
                [marker, now],
            ).rowcount
            if not marked or conn.execute("SELECT count(*) FROM prompts").fetchone()[0]:
                return False
            for prompt, row in zip(prompts, rows, strict=True):
                prompt.id = self._insert(conn, row)
        return True

    @staticmethod
    def _row(prompt: Prompt) -> dict[str, Any]:
        prompt.validate()
        data = prompt.to_dict()
        data.pop("id", None)
        data["name"] = prompt.name.strip()
        return {
            "name": prompt.name.strip(),
            "name_key": name_key(prompt.name),
            "prompt_type": prompt.prompt_type.value,
            "definition": json.dumps(data),
            "updated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }

    @staticmethod
    def _insert(conn: Any, row: dict[str, Any]) -> int:
        row = {**row, "created_at": row["updated_at"]}
        cursor = conn.execute(
            f"INSERT INTO prompts ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            list(row.values()),
        )
        return int(cursor.lastrowid or 0)

    def delete(self, prompt_id: int) -> None:
        with self._db.write() as conn:
            conn.execute("DELETE FROM prompts WHERE id = ?", [prompt_id])

    def duplicate(self, prompt_id: int) -> Prompt:
        original = self.get(prompt_id)
        if original is None:
            raise InputError("That prompt no longer exists.", field="id")
        taken = {name_key(p.name) for p in self.all()}
        copy = Prompt.from_dict({**original.to_dict(), "id": None})
        copy.name = next(
            name
            for n in range(1, 1000)
            if name_key(name := f"{original.name} (copy{'' if n == 1 else f' {n}'})") not in taken
        )
        return self.save(copy)

    @staticmethod
    def _from_row(row: dict[str, Any]) -> Prompt:
        # The column is the name's truth: a migration may have renamed it.
        return Prompt.from_dict(
            {**json.loads(row["definition"]), "id": row["id"], "name": row["name"]}
        )
