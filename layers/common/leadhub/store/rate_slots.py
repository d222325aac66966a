"""Request slots shared by every process that calls one vendor from one source IP.

Calltouch allows 5 requests a second per IP (seed 004), whatever process sends them: two plan
imports running in two Lambdas must share one budget. Each scope (an egress IP) is one item holding
the start of its next free slot, in microseconds. While the scope is busy a reservation is one atomic
add (the next slot moves on by one spacing, the caller gets the old value); when it is idle, a
conditional put starts it at now. Two processes never get the same slot, and the slots of a scope are
always at least `spacing` apart — at most 1/spacing requests in any second, however many senders.
A slot reserved by a process that then dies is simply lost; nothing has to clean up after it.
"""

from __future__ import annotations

import threading
from typing import Any

from boto3.dynamodb.conditions import Attr

from leadhub.settings import get_settings
from leadhub.store import aws, errors
from leadhub.store.translate import translated

_MICROS = 1_000_000
#: Races on an idle scope retried before giving up (each loser finds it busy at the next try).
MAX_TRIES = 50
#: An idle scope's item outlives its last slot by this much (the table's TTL), then disappears.
KEEP_SECONDS = 86400
#: DynamoDB makes each conditional write atomic against concurrent ones; moto (the local stack, where
#: every sender is a thread of one process) does not, and two threads can be handed one slot. Senders
#: of one process take turns; across processes DynamoDB's guarantee is what holds.
_IN_PROCESS = threading.Lock()


class RateSlots:
    def __init__(self, table_name: str | None = None) -> None:
        self.name = table_name or get_settings().rate_slots_table

    @property
    def _table(self) -> Any:
        return aws.dynamodb().Table(self.name)

    def reserve(self, scope: str, *, spacing: float, now: float) -> float:
        """The start (epoch seconds) of the next free slot of `scope` at or after `now`, now taken."""
        step, now_us = max(1, round(spacing * _MICROS)), round(now * _MICROS)
        with _IN_PROCESS:
            return self._reserve(scope, step, now_us)

    def _reserve(self, scope: str, step: int, now_us: int) -> float:
        for _ in range(MAX_TRIES):
            try:
                with translated(f"reserve a busy slot in {self.name}"):
                    answer = self._table.update_item(
                        Key={"scope": scope},
                        UpdateExpression="SET next_us = next_us + :step",
                        ConditionExpression=Attr("next_us").gt(now_us),
                        ExpressionAttributeValues={":step": step},
                        ReturnValues="UPDATED_OLD",
                    )
                return int(answer["Attributes"]["next_us"]) / _MICROS
            except errors.VersionConflict:
                pass  # idle (or new): the slot starts now, unless another sender starts it first
            try:
                with translated(f"reserve an idle slot in {self.name}"):
                    self._table.put_item(
                        Item={"scope": scope, "next_us": now_us + step, "expires_at": now_us // _MICROS + KEEP_SECONDS},
                        ConditionExpression=Attr("next_us").not_exists() | Attr("next_us").lte(now_us),
                    )
                return now_us / _MICROS
            except errors.VersionConflict:
                continue
        raise errors.StoreUnavailable(f"{self.name}: no slot of {scope} after {MAX_TRIES} contended tries")

    def delay(self, scope: str, *, seconds: float) -> None:
        """Move every slot not yet handed out later by `seconds` (a sender used its slot late)."""
        with _IN_PROCESS, translated(f"delay slots in {self.name}"):
            self._table.update_item(
                Key={"scope": scope},
                UpdateExpression="SET next_us = next_us + :late",
                ConditionExpression=Attr("next_us").exists(),
                ExpressionAttributeValues={":late": max(1, round(seconds * _MICROS))},
            )
