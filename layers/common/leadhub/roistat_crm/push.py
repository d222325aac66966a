"""The push API: a batch upsert of one kind of record, with an answer per refused item.

Idempotent: a record sent again unchanged keeps its update time (its content digest is compared),
so a re-sent batch exports nothing again; any change (a status, a price, a field) gives it a new
update time, which is what Roistat's `date` filters on.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import orjson
from pydantic import Field, ValidationError

from leadhub.models.base import DeferredModel
from leadhub.roistat_crm import shapes
from leadhub.roistat_crm.records import KINDS, stored
from leadhub.store.connectors import ConnectorStore
from leadhub.store.crm import CrmStore


class ItemProblem(DeferredModel):
    field: str = Field(description="The item's field that was refused (`item` for the item as a whole).")
    problem: str = Field(description="What is wrong with it (the refused value is never echoed).")


class RefusedItem(DeferredModel):
    index: int = Field(description="The item's position in `items`, from 0.")
    id: str | None = Field(None, description="The item's id, when it had a readable one.")
    problems: list[ItemProblem]


class PushResult(DeferredModel):
    received: int = Field(description="Items in the request.")
    created: int = Field(description="Items stored for the first time.")
    updated: int = Field(description="Items whose content changed: exported again from now on.")
    unchanged: int = Field(description="Items identical to what is stored: nothing changes, not even the update time.")
    refused: list[RefusedItem] = Field(description="Items not stored, each with its problems; the others are stored.")


def digest(record: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(record, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


def largest_line(kind: str, record: dict[str, Any]) -> int:
    """The bytes a record takes on an export page, in the larger of the two formats."""
    if kind == "DEAL":
        return max(len(shapes.record_line(shapes.order_values(record, fmt), "orders", fmt)) for fmt in shapes.FORMATS)
    if kind == "CLIENT":
        values = shapes.client_values(record)
        return max(len(shapes.record_line(values, "clients", fmt)) for fmt in shapes.FORMATS)
    return 0


def _problems(error: ValidationError) -> list[ItemProblem]:
    return [
        ItemProblem(field=".".join(str(part) for part in problem["loc"]) or "item", problem=problem["msg"])
        for problem in error.errors()
    ]


class Records:
    def __init__(self, store: CrmStore | None = None) -> None:
        self.store = store or CrmStore()

    def push(self, account_id: str, project_id: str, kind_name: str, items: list[Any]) -> PushResult:
        """The push API: only into a project of the caller's account (another's is not found)."""
        ConnectorStore().get_project(account_id, project_id)
        return self.upsert(kind_name, project_id, items)

    def upsert(self, kind_name: str, project_id: str, items: list[Any], *, now_us: int | None = None) -> PushResult:
        kind, model = KINDS[kind_name]
        refused: list[RefusedItem] = []
        accepted: dict[str, dict[str, Any]] = {}
        for index, item in enumerate(items):
            item_id = item.get("id") if isinstance(item, dict) and isinstance(item.get("id"), str) else None
            try:
                record = stored(model.model_validate(item))
            except ValidationError as error:
                refused.append(RefusedItem(index=index, id=item_id, problems=_problems(error)))
                continue
            if record["id"] in accepted:
                problem = ItemProblem(field="id", problem="the same id is sent twice in this batch; send it once")
                refused.append(RefusedItem(index=index, id=record["id"], problems=[problem]))
                continue
            accepted[record["id"]] = record
        known = self.store.digests(kind, project_id, accepted)
        updated_us = now_us if now_us is not None else time.time_ns() // 1000
        changed = []
        for record_id, record in accepted.items():
            content = digest(record)
            if known.get(record_id) != content:
                changed.append((record, content, updated_us))
        self.store.write(kind, project_id, changed)
        largest = max((largest_line(kind, record) for record, _, _ in changed), default=0)
        if largest:
            self.store.note_largest(project_id, kind, largest)
        created = sum(1 for record, _, _ in changed if record["id"] not in known)
        return PushResult(
            received=len(items),
            created=created,
            updated=len(changed) - created,
            unchanged=len(accepted) - len(changed),
            refused=refused,
        )
