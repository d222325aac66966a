"""A project's CRM records (deals, clients, statuses, fields, managers), the Roistat export page of
the project, and its export snapshots, in the CRM table.

Layout: partition `<KIND>#<project>` (KIND one of DEAL, CLIENT, STATUS, FIELD, MANAGER), sort key
the record's id. Every record carries `change` = `<µs since epoch, 16 digits>#<id>`: the GSI
`by_change` (partition, change) is the update-time index Roistat's `date` filters on; the id in it
makes the order total, so a snapshot has one fixed order. `digest` (of the record's content) makes
a re-sent record a no-op that keeps its update time. A record's content is one JSON string, `body`:
an export's first request reads every record changed since its date, and boto3 decoding a map
attribute by attribute cost ~120 µs a deal (12 CPU seconds for 100 000, inside API Gateway's 29 s),
where one string and one `orjson.loads` cost a few. The page is `PAGE#<project>` / `PAGE`; an
export snapshot `EXPORT#<project>` / `<action>#<format>#<date>`; a throttle window
`THROTTLE#<project>` / `<window>`. Snapshots and windows expire by TTL (`expires_at`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import orjson
from boto3.dynamodb.conditions import Attr, Key

from leadhub.settings import get_settings
from leadhub.store import aws, errors
from leadhub.store.items import from_item, to_item
from leadhub.store.translate import translated

KINDS = ("DEAL", "CLIENT", "STATUS", "FIELD", "MANAGER")
_SCHEMA = ("pk", "sk", "change", "digest", "expires_at")
BODY = "body"
#: DynamoDB's batch sizes.
_BATCH_GET = 100
_BATCH_WRITE = 25


def change_key(updated_us: int, record_id: str) -> str:
    return f"{updated_us:016d}#{record_id}"


def _record(item: Mapping[str, Any]) -> dict[str, Any]:
    if BODY in item:
        record: dict[str, Any] = orjson.loads(item[BODY])
        return record
    # the page, sizes and snapshots are attributes of their item
    return {key: value for key, value in from_item(dict(item)).items() if key not in _SCHEMA}


def _body(record: Mapping[str, Any]) -> str:
    """The record as a map attribute would give it back (no empty values, whole floats as ints), as JSON."""
    return orjson.dumps(from_item(to_item(dict(record)))).decode()


class CrmStore:
    def __init__(self, table_name: str | None = None) -> None:
        self.name = table_name or get_settings().crm_table

    @property
    def _table(self) -> Any:
        return aws.dynamodb().Table(self.name)

    # records
    def digests(self, kind: str, project_id: str, ids: Iterable[str]) -> dict[str, str]:
        """The stored content digest of each of these records that exists."""
        wanted = list(dict.fromkeys(ids))
        found: dict[str, str] = {}
        for start in range(0, len(wanted), _BATCH_GET):
            keys = [{"pk": f"{kind}#{project_id}", "sk": record_id} for record_id in wanted[start : start + _BATCH_GET]]
            request: dict[str, Any] = {self.name: {"Keys": keys, "ProjectionExpression": "sk, digest"}}
            while request:
                with translated(f"batch get from {self.name}"):
                    answer = aws.dynamodb().batch_get_item(RequestItems=request)
                for item in answer.get("Responses", {}).get(self.name, []):
                    found[item["sk"]] = str(item.get("digest", ""))
                request = answer.get("UnprocessedKeys") or {}
        return found

    def write(self, kind: str, project_id: str, records: Iterable[tuple[dict[str, Any], str, int]]) -> None:
        """Store (record, digest, update time in µs) triples; each replaces the record of its id."""
        with translated(f"batch write to {self.name}"), self._table.batch_writer() as batch:
            for record, digest, updated_us in records:
                keys = {
                    "pk": f"{kind}#{project_id}",
                    "sk": record["id"],
                    "change": change_key(updated_us, record["id"]),
                }
                batch.put_item(Item={**keys, "digest": digest, BODY: _body(record)})

    def get(self, kind: str, project_id: str, record_id: str) -> dict[str, Any] | None:
        with translated(f"get from {self.name}"):
            item = self._table.get_item(Key={"pk": f"{kind}#{project_id}", "sk": record_id}).get("Item")
        return _record(item) if item else None

    def all(self, kind: str, project_id: str) -> Iterator[dict[str, Any]]:
        """Every record of a kind, by id."""
        yield from self._records({"KeyConditionExpression": Key("pk").eq(f"{kind}#{project_id}")})

    def changed(self, kind: str, project_id: str, after_us: int, until_us: int) -> Iterator[dict[str, Any]]:
        """Records updated in (after, until], in (update time, id) order, a query page at a time."""
        condition = Key("pk").eq(f"{kind}#{project_id}") & Key("change").between(
            # the bounds hold no id: every key of (after, until] sorts between them, whatever its id
            change_key(after_us + 1, ""),
            change_key(until_us + 1, ""),
        )
        yield from self._records({"KeyConditionExpression": condition, "IndexName": "by_change"})

    def count(self, kind: str, project_id: str) -> int:
        kwargs: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq(f"{kind}#{project_id}"), "Select": "COUNT"}
        total = 0
        while True:
            with translated(f"count in {self.name}"):
                page = self._table.query(**kwargs)
            total += int(page.get("Count", 0))
            if "LastEvaluatedKey" not in page:
                return total
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _records(self, kwargs: dict[str, Any]) -> Iterator[dict[str, Any]]:
        # the body alone: botocore parses every attribute of every item, a fifth of the work per deal
        kwargs = {**kwargs, "ProjectionExpression": "#body", "ExpressionAttributeNames": {"#body": BODY}}
        while True:
            with translated(f"query {self.name}"):
                page = self._table.query(**kwargs)
            for item in page.get("Items", []):
                yield _record(item)
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # the export page of a project
    def page(self, project_id: str) -> dict[str, Any] | None:
        with translated(f"get page from {self.name}"):
            item = self._table.get_item(Key={"pk": f"PAGE#{project_id}", "sk": "PAGE"}).get("Item")
        return _record(item) if item else None

    def save_page(self, project_id: str, page: Mapping[str, Any]) -> None:
        with translated(f"put page in {self.name}"):
            self._table.put_item(Item=to_item({**page, "pk": f"PAGE#{project_id}", "sk": "PAGE"}))

    def note_pull(self, project_id: str, action: str, at: str) -> None:
        with translated(f"note pull in {self.name}"):
            self._table.update_item(
                Key={"pk": f"PAGE#{project_id}", "sk": "PAGE"},
                UpdateExpression="SET last_pull_at = :at, last_pull_action = :action",
                ConditionExpression=Attr("pk").exists(),
                ExpressionAttributeValues={":at": at, ":action": action},
            )

    def note_largest(self, project_id: str, kind: str, size: int) -> None:
        """Raise the project's largest-record mark of a kind to `size` (page sizes follow it)."""
        attribute = f"largest_{kind.lower()}"
        try:
            with translated(f"note size in {self.name}", on_condition=errors.VersionConflict):
                self._table.update_item(
                    Key={"pk": f"SIZES#{project_id}", "sk": "SIZES"},
                    UpdateExpression="SET #largest = :size",
                    ConditionExpression=Attr(attribute).not_exists() | Attr(attribute).lt(size),
                    ExpressionAttributeNames={"#largest": attribute},
                    ExpressionAttributeValues={":size": size},
                )
        except errors.VersionConflict:
            return  # a larger record was seen before

    def largest(self, project_id: str, kind: str) -> int:
        with translated(f"get sizes from {self.name}"):
            item = self._table.get_item(Key={"pk": f"SIZES#{project_id}", "sk": "SIZES"}).get("Item") or {}
        return int(item.get(f"largest_{kind.lower()}", 0))

    # export snapshots
    def snapshot(self, project_id: str, name: str) -> dict[str, Any] | None:
        with translated(f"get snapshot from {self.name}"):
            item = self._table.get_item(Key={"pk": f"EXPORT#{project_id}", "sk": name}, ConsistentRead=True).get("Item")
        return _record(item) if item else None

    def save_snapshot(self, project_id: str, name: str, snapshot: Mapping[str, Any], expires_at: int) -> None:
        item = {**snapshot, "pk": f"EXPORT#{project_id}", "sk": name, "expires_at": expires_at}
        with translated(f"put snapshot in {self.name}"):
            self._table.put_item(Item=to_item(item))

    # throttling
    def take_slot(self, project_id: str, window: int, limit: int, expires_at: int) -> bool:
        """Count one request in the project's window; False when the window already holds `limit`."""
        try:
            with translated(f"throttle in {self.name}", on_condition=errors.LeaseHeld):
                self._table.update_item(
                    Key={"pk": f"THROTTLE#{project_id}", "sk": str(window)},
                    UpdateExpression="ADD requests :one SET expires_at = :expires",
                    ConditionExpression=Attr("requests").not_exists() | Attr("requests").lt(limit),
                    ExpressionAttributeValues={":one": 1, ":expires": expires_at},
                )
        except errors.LeaseHeld:
            return False
        return True
