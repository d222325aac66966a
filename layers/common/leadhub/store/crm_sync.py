"""The amoCRM lead sync's state, in the CRM-sync table.

Layout: partition `SYNC#<amoCRM connector>`; sort key `INQUIRY#<inquiry id>` holds one inquiry's state
(its data, per entity the amoCRM id and what was done, the fingerprint last sent, the window's end),
`ACCOUNT` the connector's state (a config error such as a revoked token, the rate-limit cool-down, the
last errors, the ids of the fields Leadhub created). An inquiry still waiting (a re-check due) carries
`waiting` and `due_at`, which put it in the sparse `by_due` index the re-check schedule reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from boto3.dynamodb.conditions import Key

from leadhub.settings import get_settings
from leadhub.store import aws
from leadhub.store.items import from_item, to_item
from leadhub.store.tables import VersionedTable
from leadhub.store.translate import translated

WAITING = "waiting"
#: BatchGetItem takes at most 100 keys.
_BATCH_GET = 100
_SCHEMA = ("pk", "sk", WAITING, "due_at", "version")


def _pk(connector_id: str) -> str:
    return f"SYNC#{connector_id}"


def _inquiry_sk(inquiry_id: str) -> str:
    return f"INQUIRY#{inquiry_id}"


class CrmSyncStore:
    def __init__(self, table_name: str | None = None) -> None:
        self.table = VersionedTable(table_name or get_settings().crm_sync_table, ("pk", "sk"))

    # --- inquiries ------------------------------------------------------------------------------
    def get_inquiry(self, connector_id: str, inquiry_id: str) -> dict[str, Any] | None:
        return self.table.get({"pk": _pk(connector_id), "sk": _inquiry_sk(inquiry_id)})

    def get_inquiries(self, connector_id: str, inquiry_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The states of these inquiries that exist, by inquiry id (BatchGetItem, 100 keys a call)."""
        found: dict[str, dict[str, Any]] = {}
        resource = aws.dynamodb()
        unique = list(dict.fromkeys(inquiry_ids))
        for start in range(0, len(unique), _BATCH_GET):
            keys = [
                {"pk": _pk(connector_id), "sk": _inquiry_sk(inquiry_id)}
                for inquiry_id in unique[start : start + _BATCH_GET]
            ]
            request: dict[str, Any] = {self.table.name: {"Keys": keys, "ConsistentRead": True}}
            while request:
                with translated(f"batch get from {self.table.name}"):
                    answer = resource.batch_get_item(RequestItems=request)
                for raw in answer.get("Responses", {}).get(self.table.name, []):
                    item = from_item(raw)
                    found[str(item["sk"]).removeprefix("INQUIRY#")] = item
                request = answer.get("UnprocessedKeys") or {}
        return found

    def save_inquiry(self, connector_id: str, state: dict[str, Any], *, due_at: float | None) -> dict[str, Any]:
        """Create (no `version`) or update (the `version` read) an inquiry's state; VersionConflict /
        AlreadyExists when another worker wrote it first. `due_at`: when to look again; None: settled."""
        item = {key: value for key, value in state.items() if key not in (WAITING, "due_at")}
        item.update({"pk": _pk(connector_id), "sk": _inquiry_sk(state["inquiry"]["id"])})
        if due_at is not None:
            item.update({WAITING: "1", "due_at": float(due_at)})
        if item.get("version") is None:
            item.pop("version", None)
            return self.table.create(item)
        return self.table.update(item)

    def inquiries(self, connector_id: str) -> Iterator[dict[str, Any]]:
        yield from self.table.query("pk", _pk(connector_id), sort_prefix="INQUIRY#")

    def due(self, now: float) -> dict[str, list[str]]:
        """Per connector, the inquiries whose re-check is due (the `by_due` index)."""
        found: dict[str, list[str]] = {}
        kwargs: dict[str, Any] = {
            "IndexName": "by_due",
            "KeyConditionExpression": Key(WAITING).eq("1") & Key("due_at").lte(to_item(float(now))),
        }
        table = aws.dynamodb().Table(self.table.name)
        while True:
            with translated(f"query {self.table.name} by_due"):
                page = table.query(**kwargs)
            for raw in page.get("Items", []):
                item = from_item(raw)
                found.setdefault(str(item["pk"]).removeprefix("SYNC#"), []).append(
                    str(item["sk"]).removeprefix("INQUIRY#")
                )
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # --- the connector's own state ---------------------------------------------------------------
    def account(self, connector_id: str) -> dict[str, Any]:
        return self.table.get({"pk": _pk(connector_id), "sk": "ACCOUNT"}) or {}

    def save_account(self, connector_id: str, state: dict[str, Any]) -> dict[str, Any]:
        item = {**state, "pk": _pk(connector_id), "sk": "ACCOUNT"}
        if item.get("version") is None:
            item.pop("version", None)
            return self.table.create(item)
        return self.table.update(item)


def domain(item: dict[str, Any]) -> dict[str, Any]:
    """An item without the table's schema attributes."""
    return {key: value for key, value in item.items() if key not in ("pk", "sk", WAITING)}
