"""A DynamoDB table with conditional writes and optimistic locking on a `version` attribute.

Every write is conditional: `create` only when the key is new, `update` only when the stored
version is the one the caller read. Two writers racing on one item cannot both win; the loser
gets VersionConflict and re-reads.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from leadhub.store import aws, errors
from leadhub.store.items import from_item, to_item
from leadhub.store.translate import translated

VERSION = "version"


class VersionedTable:
    def __init__(self, name: str, key_names: tuple[str, ...]) -> None:
        self.name = name
        self.key_names = key_names

    @property
    def _table(self) -> Any:
        return aws.dynamodb().Table(self.name)

    def _key(self, item: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return {name: item[name] for name in self.key_names}
        except KeyError as missing:
            raise ValueError(f"{self.name}: key attribute {missing} missing") from None

    def get(self, key: Mapping[str, Any], *, consistent: bool = True) -> dict[str, Any] | None:
        with translated(f"get from {self.name}"):
            answer = self._table.get_item(Key=self._key(key), ConsistentRead=consistent)
        item = answer.get("Item")
        return from_item(item) if item is not None else None

    def require(self, key: Mapping[str, Any]) -> dict[str, Any]:
        item = self.get(key)
        if item is None:
            raise errors.NotFound(f"{self.name}: {self._key(key)}")
        return item

    def create(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """Insert a new item at version 1; AlreadyExists if the key is taken."""
        stored = {**item, VERSION: 1}
        with translated(f"create in {self.name}", on_condition=errors.AlreadyExists):
            self._table.put_item(Item=to_item(stored), ConditionExpression=Attr(self.key_names[0]).not_exists())
        return stored

    def update(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """Replace an item read at `item["version"]`; VersionConflict if it changed since."""
        expected = item.get(VERSION)
        if expected is None:
            raise ValueError(f"{self.name}: update needs the version that was read")
        stored = {**item, VERSION: int(expected) + 1}
        with translated(f"update in {self.name}"):
            self._table.put_item(Item=to_item(stored), ConditionExpression=Attr(VERSION).eq(expected))
        return stored

    def put(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """Unconditional write, for items whose every write is a full idempotent replacement."""
        with translated(f"put in {self.name}"):
            self._table.put_item(Item=to_item(dict(item)))
        return dict(item)

    def delete(self, key: Mapping[str, Any], *, expected_version: int | None = None) -> None:
        kwargs: dict[str, Any] = {"Key": self._key(key)}
        if expected_version is not None:
            kwargs["ConditionExpression"] = Attr(VERSION).eq(expected_version)
        with translated(f"delete from {self.name}"):
            self._table.delete_item(**kwargs)

    def claim(self, key: Mapping[str, Any], *, owner: str, now: float, until: float, attribute: str = "lease") -> None:
        """Take a time-bound lease on an item (creating it if needed); LeaseHeld if another
        owner's lease has not expired. The same owner may renew its own lease."""
        condition = (
            Attr(f"{attribute}_until").not_exists()
            | Attr(f"{attribute}_until").lt(to_item(float(now)))
            | Attr(f"{attribute}_owner").eq(owner)
        )
        with translated(f"lease on {self.name}", on_condition=errors.LeaseHeld):
            self._table.update_item(
                Key=self._key(key),
                UpdateExpression="SET #owner = :owner, #until = :until",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#owner": f"{attribute}_owner", "#until": f"{attribute}_until"},
                ExpressionAttributeValues={":owner": owner, ":until": to_item(float(until))},
            )

    def release(self, key: Mapping[str, Any], *, owner: str, attribute: str = "lease") -> None:
        """Drop a lease this owner holds; a lease taken over by someone else is left alone."""
        try:
            with translated(f"release on {self.name}", on_condition=errors.LeaseHeld):
                self._table.update_item(
                    Key=self._key(key),
                    UpdateExpression="REMOVE #owner, #until",
                    ConditionExpression=Attr(f"{attribute}_owner").eq(owner),
                    ExpressionAttributeNames={"#owner": f"{attribute}_owner", "#until": f"{attribute}_until"},
                )
        except errors.LeaseHeld:
            return

    def query(
        self,
        partition: str,
        value: str,
        *,
        sort_prefix: str | None = None,
        sort_key: str | None = None,
        index: str | None = None,
        consistent: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """Every item of one partition (optionally one index, one sort-key prefix), all pages."""
        condition = Key(partition).eq(value)
        if sort_prefix is not None:
            condition = condition & Key(sort_key or self.key_names[1]).begins_with(sort_prefix)
        kwargs: dict[str, Any] = {"KeyConditionExpression": condition}
        if consistent:
            kwargs["ConsistentRead"] = True
        if index is not None:
            kwargs["IndexName"] = index
        while True:
            with translated(f"query {self.name}"):
                page = self._table.query(**kwargs)
            for item in page.get("Items", []):
                yield from_item(item)
            last = page.get("LastEvaluatedKey")
            if last is None:
                return
            kwargs["ExclusiveStartKey"] = last
