"""Per connector × stream × vendor account extraction state (the connector's lease is in the jobs
table: `store/jobs.py`)."""

from __future__ import annotations

from typing import Any

from leadhub.settings import get_settings
from leadhub.store.tables import VersionedTable


def state_key(connector_id: str, stream: str, vendor_account: str) -> dict[str, str]:
    return {"pk": f"CONNECTOR#{connector_id}", "sk": f"STREAM#{stream}#{vendor_account}"}


def _state(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key not in ("pk", "sk")}


class SyncStateStore:
    def __init__(self, table_name: str | None = None) -> None:
        self.table = VersionedTable(table_name or get_settings().sync_state_table, ("pk", "sk"))

    def get(self, connector_id: str, stream: str, vendor_account: str) -> dict[str, Any] | None:
        item = self.table.get(state_key(connector_id, stream, vendor_account))
        return _state(item) if item is not None else None

    def save(self, connector_id: str, stream: str, vendor_account: str, state: dict[str, Any]) -> dict[str, Any]:
        """Create the state, or update it at the version it was read (optimistic locking)."""
        item = {**state, **state_key(connector_id, stream, vendor_account)}
        if "version" in state:
            return _state(self.table.update(item))
        return _state(self.table.create(item))

    def by_stream(self, connector_id: str) -> dict[str, dict[str, Any]]:
        """The connector's stored states by stream name."""
        return {
            item["sk"].split("#")[1]: _state(item)
            for item in self.table.query("pk", f"CONNECTOR#{connector_id}", sort_prefix="STREAM#")
        }

    def delete_all(self, connector_id: str) -> None:
        for item in list(self.table.query("pk", f"CONNECTOR#{connector_id}")):
            self.table.delete(item)
