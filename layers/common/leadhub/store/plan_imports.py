"""Calltouch plan imports: the import record, its content-hash marker, and its files in S3.

Layout (plan-imports table, key `pk`):
- `IMPORT#<import id>` — the record: state, chunks, progress, lease (one sender at a time);
- `HASH#<connector id>#<sha256 of the rows>` — the first import of those rows, so the same file or
  body submitted again finds it instead of importing twice.
S3: `plan-imports/<account>/<connector>/<import id>/items.json` (the rows as submitted, with their
sheet rows), and the result XLSX under `exports/…` (exports.links).
"""

from __future__ import annotations

import json
import time
from typing import Any

from leadhub.settings import get_settings
from leadhub.store import errors
from leadhub.store.objects import ObjectStore
from leadhub.store.tables import VersionedTable

#: A sparse index: only imports that have not finished carry the attribute, so it lists the work left.
UNFINISHED_INDEX = "by_unfinished"
UNFINISHED = "unfinished"
UNFINISHED_MARK = "yes"
#: Finished imports and their markers are forgotten after this long (the table's TTL).
KEEP_SECONDS = 90 * 86400


def _import_key(import_id: str) -> dict[str, str]:
    return {"pk": f"IMPORT#{import_id}"}


def _hash_key(connector_id: str, content_hash: str) -> dict[str, str]:
    return {"pk": f"HASH#{connector_id}#{content_hash}"}


def _record(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key not in ("pk", "expires_at", UNFINISHED)}


def _item(record: dict[str, Any], finished: bool) -> dict[str, Any]:
    item = {**record, **_import_key(record["id"]), "expires_at": int(time.time()) + KEEP_SECONDS}
    if not finished:
        item[UNFINISHED] = UNFINISHED_MARK
    return item


def items_key(account_id: str, connector_id: str, import_id: str) -> str:
    return f"plan-imports/{account_id}/{connector_id}/{import_id}/items.json"


class PlanImportStore:
    def __init__(self, table_name: str | None = None, objects: ObjectStore | None = None) -> None:
        self.table = VersionedTable(table_name or get_settings().plan_imports_table, ("pk",))
        self.objects = objects or ObjectStore()

    def claim_hash(self, connector_id: str, content_hash: str, import_id: str) -> str:
        """Mark these rows as imported by `import_id`; answers the import that holds the mark (an
        earlier one, when the same rows came before)."""
        try:
            self.table.create(
                {
                    **_hash_key(connector_id, content_hash),
                    "import_id": import_id,
                    "expires_at": int(time.time()) + KEEP_SECONDS,
                }
            )
        except errors.AlreadyExists:
            return str(self.table.require(_hash_key(connector_id, content_hash))["import_id"])
        return import_id

    def create(self, record: dict[str, Any], rows: dict[str, Any]) -> dict[str, Any]:
        """Store the rows first, then the record that points at them."""
        key = items_key(record["account_id"], record["connector_id"], record["id"])
        self.objects.put(key, json.dumps(rows, ensure_ascii=False).encode(), content_type="application/json")
        return _record(self.table.create(_item(record, finished=False)))

    def get(self, import_id: str) -> dict[str, Any]:
        return _record(self.table.require(_import_key(import_id)))

    def save(self, record: dict[str, Any], *, finished: bool) -> dict[str, Any]:
        """Write back a record read at `record["version"]`; VersionConflict if it changed meanwhile."""
        return _record(self.table.update(_item(record, finished)))

    def rows(self, record: dict[str, Any]) -> dict[str, Any]:
        key = items_key(record["account_id"], record["connector_id"], record["id"])
        loaded: dict[str, Any] = json.loads(self.objects.get(key))
        return loaded

    def acquire_lease(self, import_id: str, owner: str, *, now: float, seconds: float) -> None:
        """Raises LeaseHeld while another sender holds an unexpired lease on this import."""
        self.table.claim(_import_key(import_id), owner=owner, now=now, until=now + seconds)

    def release_lease(self, import_id: str, owner: str) -> None:
        self.table.release(_import_key(import_id), owner=owner)

    def waiting(self) -> list[str]:
        """Imports that stopped before their end (the daily API points ran out, or a sender died)."""
        found = self.table.query(UNFINISHED, UNFINISHED_MARK, index=UNFINISHED_INDEX)
        return [str(item["pk"]).removeprefix("IMPORT#") for item in found]
