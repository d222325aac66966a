"""Projects and connectors of an account, in the connectors table.

Layout: partition `ACCOUNT#<account>`; sort key `PROJECT#<project>` or
`CONNECTOR#<project>#<connector>`, so one query lists an account's projects or a project's
connectors. `item_id` (GSI `by_item_id`) finds a connector by id alone, as the scheduler must.
The table's stream (NEW_AND_OLD_IMAGES) is what triggers backfill on a settings change.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from leadhub.settings import get_settings
from leadhub.store import errors
from leadhub.store.tables import VersionedTable


def account_pk(account_id: str) -> str:
    return f"ACCOUNT#{account_id}"


def project_sk(project_id: str) -> str:
    return f"PROJECT#{project_id}"


def connector_sk(project_id: str, connector_id: str) -> str:
    return f"CONNECTOR#{project_id}#{connector_id}"


class ConnectorStore:
    def __init__(self, table_name: str | None = None) -> None:
        self.table = VersionedTable(table_name or get_settings().connectors_table, ("pk", "sk"))

    # projects
    def create_project(self, account_id: str, project_id: str, attributes: dict[str, Any]) -> dict[str, Any]:
        return self.table.create(
            {**attributes, "pk": account_pk(account_id), "sk": project_sk(project_id), "item_id": project_id}
        )

    def get_project(self, account_id: str, project_id: str) -> dict[str, Any]:
        """The project, or NotFound — also when it belongs to another account."""
        return self.table.require({"pk": account_pk(account_id), "sk": project_sk(project_id)})

    def list_projects(self, account_id: str) -> Iterator[dict[str, Any]]:
        return self.table.query("pk", account_pk(account_id), sort_prefix="PROJECT#")

    # connectors
    def create_connector(
        self, account_id: str, project_id: str, connector_id: str, attributes: dict[str, Any]
    ) -> dict[str, Any]:
        return self.table.create(
            {
                **attributes,
                "pk": account_pk(account_id),
                "sk": connector_sk(project_id, connector_id),
                "item_id": connector_id,
                "account_id": account_id,
                "project_id": project_id,
            }
        )

    def list_connectors(self, account_id: str, project_id: str) -> Iterator[dict[str, Any]]:
        return self.table.query("pk", account_pk(account_id), sort_prefix=f"CONNECTOR#{project_id}#")

    def find_connector(self, connector_id: str) -> dict[str, Any]:
        """A connector by id alone (eventually consistent: the index lags writes slightly)."""
        for item in self.table.query("item_id", connector_id, index="by_item_id"):
            if item["sk"].startswith("CONNECTOR#"):
                return self.table.require(item)
        raise errors.NotFound(f"connector {connector_id}")

    def scheduled(self, vendor: str) -> list[str]:
        """Ids of the active connectors of a vendor: the sparse `by_schedule` index."""
        return [item["item_id"] for item in self.table.query("schedule_vendor", vendor, index="by_schedule")]

    def get_connector(self, account_id: str, connector_id: str) -> dict[str, Any]:
        """The connector of this account, or NotFound (another account's id looks absent)."""
        connector = self.find_connector(connector_id)
        if connector["account_id"] != account_id:
            raise errors.NotFound(f"connector {connector_id}")
        return connector

    def save(self, item: dict[str, Any]) -> dict[str, Any]:
        """Write back an item read earlier; VersionConflict if it changed meanwhile."""
        return self.table.update(item)

    def delete(self, item: dict[str, Any]) -> None:
        self.table.delete(item, expected_version=item.get("version"))
