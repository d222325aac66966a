"""Request slots shared by every process that calls one vendor from one source IP.

Calltouch allows 5 requests a second per IP (seed 004), whatever process sends them: two plan
imports running in two Lambdas must share one budget. Each scope (an egress IP) is one item holding
the start of its next free slot, in microseconds; a reservation moves it on by one slot with a
compare-and-swap, so two processes never get the same slot and the slots of a scope are always at
least `spacing` apart — at most 1/spacing requests in any second, however many senders there are.
A slot reserved by a process that then dies is simply lost; nothing has to clean up after it.
"""

from __future__ import annotations

from boto3.dynamodb.conditions import Attr

from leadhub.settings import get_settings
from leadhub.store import aws, errors
from leadhub.store.translate import translated

_MICROS = 1_000_000
#: Contended swaps retried before giving up (each loser re-reads; two senders settle in one or two).
MAX_SWAPS = 50


class RateSlots:
    def __init__(self, table_name: str | None = None) -> None:
        self.name = table_name or get_settings().rate_slots_table

    def reserve(self, scope: str, *, spacing: float, now: float) -> float:
        """The start (epoch seconds) of the next free slot of `scope` at or after `now`, now taken."""
        step = max(1, round(spacing * _MICROS))
        now_us = round(now * _MICROS)
        table = aws.dynamodb().Table(self.name)
        for _ in range(MAX_SWAPS):
            with translated(f"read slots {self.name}"):
                stored = table.get_item(Key={"scope": scope}, ConsistentRead=True).get("Item")
            previous = int(stored["next_us"]) if stored else None
            start = max(previous or 0, now_us)
            condition = Attr("next_us").not_exists() if previous is None else Attr("next_us").eq(previous)
            try:
                with translated(f"reserve slot {self.name}"):
                    table.put_item(
                        Item={"scope": scope, "next_us": start + step, "expires_at": start // _MICROS + 86400},
                        ConditionExpression=condition,
                    )
            except errors.VersionConflict:
                continue
            return start / _MICROS
        raise errors.StoreUnavailable(f"{self.name}: no slot of {scope} after {MAX_SWAPS} contended tries")
