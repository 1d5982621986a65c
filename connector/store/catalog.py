"""The account's lists, automations, custom fields and tags, cached in SQLite.

Fetching the whole catalog costs ``ceil(n / 100)`` requests per collection against a budget of 5
per second, so pages read the cache and only the refresh button (or the CLI) goes to the API.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from connector.ac.client import AcClient
from connector.core.errors import ApiError
from connector.core.models import AcList, Automation, CatalogKind, Field, Tag
from connector.store.db import Database

__all__ = ["CATALOG_MODELS", "Catalog", "CatalogItem", "RefreshProgress"]

CatalogItem = AcList | Automation | Field | Tag
CATALOG_MODELS: dict[CatalogKind, type[CatalogItem]] = {
    CatalogKind.LISTS: AcList,
    CatalogKind.AUTOMATIONS: Automation,
    CatalogKind.FIELDS: Field,
    CatalogKind.TAGS: Tag,
}
RefreshProgress = Callable[[CatalogKind, int, int], None]  # kind, pages fetched, pages in all


def _fetch(client: AcClient, kind: CatalogKind, progress: Callable[[int, int], None]) -> list[Any]:
    fetchers: dict[CatalogKind, Callable[..., list[Any]]] = {
        CatalogKind.LISTS: client.lists,
        CatalogKind.AUTOMATIONS: client.automations,
        CatalogKind.FIELDS: client.fields,
        CatalogKind.TAGS: client.tags,
    }
    return list(fetchers[kind](on_progress=progress))


class Catalog:
    """Cached catalog per account. Thread-safe."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def refresh(
        self,
        client: AcClient,
        account: str,
        kinds: tuple[CatalogKind, ...] = tuple(CatalogKind),
        on_progress: RefreshProgress | None = None,
    ) -> dict[CatalogKind, int]:
        """Fetch ``kinds`` in full and replace the cache; returns item counts.

        Each kind is fetched completely before its cache is replaced, so a failure half-way
        (raised as a ``ConnectorError``) leaves the previous cache intact."""
        counts: dict[CatalogKind, int] = {}
        for kind in kinds:

            def report(done: int, total: int, kind: CatalogKind = kind) -> None:
                if on_progress:
                    on_progress(kind, done, total)

            try:
                items = _fetch(client, kind, report)
            except ApiError as exc:
                raise self._kept(exc, account, kind) from exc
            self._store(account, kind, items)
            counts[kind] = len(items)
        return counts

    def _kept(self, error: ApiError, account: str, kind: CatalogKind) -> ApiError:
        """The same error, saying that the cache of ``kind`` is as it was."""
        stamp = self.refreshed_at(account, kind)
        kept = (
            f"The cached {kind.value} from {stamp[:16].replace('T', ' ')} UTC are kept unchanged."
            if stamp
            else f"No {kind.value} were cached before, so none are shown."
        )
        return type(error)(
            f"Refreshing the {kind.value} failed: {error.message} {kept}",
            error.detail,
            status=error.status,
            body=error.body,
            exchange=error.exchange,
            retry_after=error.retry_after,
        )

    def _store(self, account: str, kind: CatalogKind, items: list[CatalogItem]) -> None:
        # Milliseconds: the dashboard's cache of the catalog is keyed on this stamp.
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        # By id: pages are fetched concurrently by offset, so an item that moved between two
        # pages while the account changed comes back twice. The later page's copy wins.
        rows = list(
            {
                item.id: {
                    "account": account,
                    "kind": kind.value,
                    "id": item.id,
                    "name": item.name,
                    "data": json.dumps(asdict(item)),
                }
                for item in items
            }.values()
        )
        with self._db.write() as conn:
            conn.execute(
                "DELETE FROM catalog WHERE account = ? AND kind = ?", [account, kind.value]
            )
            conn.table("catalog").insert_all(rows, batch_size=1000)
            conn.table("catalog_refresh").upsert(
                {"account": account, "kind": kind.value, "refreshed_at": now, "total": len(rows)},
                pk=("account", "kind"),
            )

    def items(self, account: str, kind: CatalogKind) -> list[Any]:
        """Cached items, ordered by name (case-insensitive) then numeric id."""
        model = CATALOG_MODELS[kind]
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT data FROM catalog WHERE account = ? AND kind = ? "
                "ORDER BY name COLLATE NOCASE, CAST(id AS INTEGER)",
                [account, kind.value],
            ).fetchall()
        return [model(**_revived(data)) for (data,) in rows]

    def refreshed_at(self, account: str, kind: CatalogKind) -> str | None:
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT refreshed_at FROM catalog_refresh WHERE account = ? AND kind = ?",
                [account, kind.value],
            ).fetchone()
        return row[0] if row else None

    def clear(self, account: str) -> None:
        with self._db.write() as conn:
            conn.execute("DELETE FROM catalog WHERE account = ?", [account])
            conn.execute("DELETE FROM catalog_refresh WHERE account = ?", [account])


def _revived(data: str) -> dict[str, Any]:
    """A cached item's fields; JSON has no tuples, so a field's options come back as a list."""
    fields: dict[str, Any] = json.loads(data)
    return {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}
