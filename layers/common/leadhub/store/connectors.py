"""Projects and connectors of an account, in the connectors table.

Layout: partition `ACCOUNT#<account>`; sort key `PROJECT#<project>` or
`CONNECTOR#<project>#<connector>`, so one query lists an account's projects or a project's
connectors. `item_id` (GSI `by_item_id`) finds a connector by id alone, as the scheduler must.
An active connector carries `schedule_vendor`, which puts it in the sparse `by_schedule` index
each vendor's scheduled extraction reads; an inactive one does not.
The table's stream (NEW_AND_OLD_IMAGES) is what triggers backfill on a settings change.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from leadhub.models.connector import Connector, Project
from leadhub.settings import get_settings
from leadhub.store import errors
from leadhub.store.items import from_item
from leadhub.store.tables import VersionedTable

#: Attributes of the item schema only: never part of the domain objects.
_SCHEMA = ("pk", "sk", "item_id", "schedule_vendor")


def account_pk(account_id: str) -> str:
    return f"ACCOUNT#{account_id}"


def project_sk(project_id: str) -> str:
    return f"PROJECT#{project_id}"


def connector_sk(project_id: str, connector_id: str) -> str:
    return f"CONNECTOR#{project_id}#{connector_id}"


def _domain(item: dict[str, Any]) -> dict[str, Any]:
    return {"id": item["item_id"], **{key: value for key, value in item.items() if key not in _SCHEMA}}


def _project(item: dict[str, Any]) -> Project:
    return Project.model_validate(_domain(item))


def _connector(item: dict[str, Any]) -> Connector:
    return Connector.model_validate(_domain(item))


def connector_from_image(image: dict[str, Any] | None) -> Connector | None:
    """The connector a stream record's image holds (already deserialised), or None when the image is
    absent or another kind of item (a project)."""
    if not image or not str(image.get("sk", "")).startswith("CONNECTOR#"):
        return None
    return _connector(from_item(image))


def _project_item(account_id: str, project: Project) -> dict[str, Any]:
    attributes = project.model_dump(mode="json", exclude={"id"}, exclude_none=True)
    keys = {"pk": account_pk(account_id), "sk": project_sk(project.id), "item_id": project.id}
    return {**attributes, **keys, "version": project.version}


def _connector_item(connector: Connector) -> dict[str, Any]:
    attributes = connector.model_dump(mode="json", exclude={"id"}, exclude_none=True)
    keys = {
        "pk": account_pk(connector.account_id),
        "sk": connector_sk(connector.project_id, connector.id),
        "item_id": connector.id,
    }
    schedule = {"schedule_vendor": connector.vendor.value} if connector.active else {}
    return {**attributes, **keys, **schedule}


class ConnectorStore:
    def __init__(self, table_name: str | None = None) -> None:
        self.table = VersionedTable(table_name or get_settings().connectors_table, ("pk", "sk"))

    # projects
    def create_project(self, account_id: str, project: Project) -> Project:
        return _project(self.table.create(_project_item(account_id, project)))

    def get_project(self, account_id: str, project_id: str) -> Project:
        """The project, or NotFound — also when it belongs to another account."""
        return _project(self.table.require({"pk": account_pk(account_id), "sk": project_sk(project_id)}))

    def list_projects(self, account_id: str) -> Iterator[Project]:
        for item in self.table.query("pk", account_pk(account_id), sort_prefix="PROJECT#"):
            yield _project(item)

    def save_project(self, account_id: str, project: Project) -> Project:
        """Write back a project read earlier; VersionConflict if it changed meanwhile."""
        return _project(self.table.update(_project_item(account_id, project)))

    # connectors
    def create_connector(self, connector: Connector) -> Connector:
        return _connector(self.table.create(_connector_item(connector)))

    def list_connectors(self, account_id: str, project_id: str) -> Iterator[Connector]:
        for item in self.table.query("pk", account_pk(account_id), sort_prefix=f"CONNECTOR#{project_id}#"):
            yield _connector(item)

    def find_connector(self, connector_id: str) -> Connector:
        """A connector by id alone (eventually consistent: the index lags writes slightly)."""
        for item in self.table.query("item_id", connector_id, index="by_item_id"):
            if item["sk"].startswith("CONNECTOR#"):
                return _connector(self.table.require(item))
        raise errors.NotFound(f"connector {connector_id}")

    def scheduled(self, vendor: str) -> list[str]:
        """Ids of the active connectors of a vendor: the sparse `by_schedule` index."""
        return [item["item_id"] for item in self.table.query("schedule_vendor", vendor, index="by_schedule")]

    def get_connector(self, account_id: str, connector_id: str) -> Connector:
        """The connector of this account, or NotFound (another account's id looks absent)."""
        connector = self.find_connector(connector_id)
        if connector.account_id != account_id:
            raise errors.NotFound(f"connector {connector_id}")
        return connector

    def save(self, connector: Connector) -> Connector:
        """Write back a connector read earlier; VersionConflict if it changed meanwhile."""
        return _connector(self.table.update(_connector_item(connector)))

    def delete(self, connector: Connector) -> None:
        item = _connector_item(connector)
        self.table.delete(item, expected_version=connector.version)
