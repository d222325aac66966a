"""Per connector × stream × vendor account extraction state, with a lease so that only one run
works a connector at a time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from leadhub.settings import get_settings
from leadhub.store.tables import VersionedTable


def state_key(connector_id: str, stream: str, vendor_account: str) -> dict[str, str]:
    return {"pk": f"CONNECTOR#{connector_id}", "sk": f"STREAM#{stream}#{vendor_account}"}


def lease_key(connector_id: str) -> dict[str, str]:
    return {"pk": f"CONNECTOR#{connector_id}", "sk": "LEASE"}


class SyncStateStore:
    def __init__(self, table_name: str | None = None) -> None:
        self.table = VersionedTable(table_name or get_settings().sync_state_table, ("pk", "sk"))

    def get(self, connector_id: str, stream: str, vendor_account: str) -> dict[str, Any] | None:
        return self.table.get(state_key(connector_id, stream, vendor_account))

    def save(self, connector_id: str, stream: str, vendor_account: str, state: dict[str, Any]) -> dict[str, Any]:
        """Create the state, or update it at the version it was read (optimistic locking)."""
        item = {**state, **state_key(connector_id, stream, vendor_account)}
        if "version" in state:
            return self.table.update(item)
        return self.table.create(item)

    def list(self, connector_id: str) -> Iterator[dict[str, Any]]:
        return self.table.query("pk", f"CONNECTOR#{connector_id}", sort_prefix="STREAM#")

    def acquire_lease(self, connector_id: str, owner: str, *, now: float, seconds: float) -> None:
        """Raises LeaseHeld while another run holds an unexpired lease on this connector."""
        self.table.claim(lease_key(connector_id), owner=owner, now=now, until=now + seconds)

    def release_lease(self, connector_id: str, owner: str) -> None:
        self.table.release(lease_key(connector_id), owner=owner)

    def delete_all(self, connector_id: str) -> None:
        for item in list(self.table.query("pk", f"CONNECTOR#{connector_id}")):
            self.table.delete(item)
