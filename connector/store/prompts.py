"""Storage of prompt definitions: one JSON definition per row, names unique whatever their case.

Definitions are stored as JSON in the ``prompts`` table so that adding a property never needs a
migration; ``Prompt.from_dict`` reads every older shape.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlite_utils.db import NotFoundError

from connector.core.errors import InputError, clip
from connector.core.models import Interaction
from connector.engage.prompts import Prompt, check_runnable, name_key
from connector.store.db import Database

__all__ = ["BrokenPrompt", "PromptStore"]


class PromptStore:
    """Prompts in the console database. Thread-safe."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def all(self) -> list[Prompt]:
        """Every prompt whose stored definition can be read, by name. One that can't is left
        out (``broken`` says why), so one bad row never hides the others. A readable prompt the
        editor's validation refuses is kept: the editor opens it to fix it, ``broken`` names it,
        and ``check_runnable`` refuses to run it."""
        prompts = []
        for row in self._rows():
            try:
                prompts.append(self._from_row(row))
            except InputError:
                continue
        return prompts

    def broken(self) -> list[BrokenPrompt]:
        """The stored prompts that can't be used, by name, each with a sentence naming the
        prompt and the field: definitions that can't be read (not JSON, not an object, a part of
        the wrong kind) and those the editor's validation refuses."""
        found = []
        for row in self._rows():
            ident, name = int(row["id"]), str(row["name"])
            try:
                prompt = self._from_row(row)
            except InputError as error:
                found.append(BrokenPrompt(ident, name, _named(row, error.message), error.field))
                continue
            try:
                for interaction in Interaction:
                    check_runnable(prompt, interaction)  # names the prompt itself
            except InputError as error:
                found.append(BrokenPrompt(ident, name, error.message, error.field, readable=True))
        return found

    def get(self, prompt_id: int) -> Prompt | None:
        """The prompt, or None when there is none with this id; ``InputError`` (its sentence
        names the prompt) when its stored definition can't be read."""
        with self._db.read() as conn:
            rows = list(conn.table("prompts").rows_where("id = ?", [prompt_id]))
        if not rows:
            return None
        try:
            return self._from_row(rows[0])
        except InputError as error:
            raise InputError(_named(rows[0], error.message), field=error.field) from None

    def _rows(self) -> list[dict[str, Any]]:
        with self._db.read() as conn:
            return list(conn.table("prompts").rows_where(order_by="name collate nocase, id"))

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
        taken = {str(row["name_key"]) for row in self._rows()}  # unreadable ones' too
        copy = Prompt.from_dict({**original.to_dict(), "id": None})
        copy.name = next(
            name
            for n in range(1, 1000)
            if name_key(name := f"{original.name} (copy{'' if n == 1 else f' {n}'})") not in taken
        )
        return self.save(copy)

    @staticmethod
    def _from_row(row: dict[str, Any]) -> Prompt:
        """The stored prompt; ``InputError`` when its definition can't be read."""
        try:
            data = json.loads(row["definition"] or "")
        except (TypeError, ValueError):
            raise InputError(
                "The prompt definition can't be read: it is not JSON. Build the prompt again in "
                "the editor, or import its definition with python -m connector prompts import.",
                field="definition",
            ) from None
        if data is None:  # ``from_dict`` reads a missing part as empty: not a whole definition
            raise InputError(
                "The prompt definition can't be read: The definition is null, not an object. "
                "Fix it, or build the prompt again in the editor.",
                field="definition",
            )
        if not isinstance(data, dict):
            return Prompt.from_dict(data)  # refused, saying what it is instead
        # The column is the name's truth: a migration may have renamed it.
        return Prompt.from_dict({**data, "id": row["id"], "name": row["name"]})


@dataclass(frozen=True)
class BrokenPrompt:
    """A stored prompt that can't be used: ``problem`` says why, naming it and the field;
    ``readable`` when the editor can still open it to fix it."""

    id: int
    name: str
    problem: str
    field: str = ""
    readable: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _named(row: dict[str, Any], sentence: str) -> str:
    name = clip(str(row.get("name") or "").strip(), 61) or f"#{row.get('id')}"
    return f"Prompt “{name}”: {sentence}"
