"""One normalised conversion, whatever vendor and stream it came from."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import orjson
from pydantic import ConfigDict, Field

from leadhub.models.base import DeferredModel

#: Roistat's label for conversions with no campaign (seed 000); each vendor declares its own
#: (`VendorSpec.undefined_campaign`: Ringostat's, seed 001, is «Неизвестная кампания»).
UNDEFINED_CAMPAIGN = "Неизвестная кампания (Undefined)"

#: Deal status groups (Roistat A6.4 and seed 003): «В работе», «Оплаченные», «Отмененные», and the
#: implicit fourth, «Не учитывается».
PROGRESS = "progress"
PAID = "paid"
CANCELED = "canceled"
NOT_COUNTED = "not_counted"
STATUS_GROUPS = (PROGRESS, PAID, CANCELED)
#: Revenue is the paid deals; forecast revenue adds the deals still in progress.
REVENUE_GROUPS = frozenset({PAID})
FORECAST_GROUPS = frozenset({PROGRESS, PAID})


class Kind(StrEnum):
    CALL = "call"
    FORM = "form"
    CHAT = "chat"
    ORDER = "order"
    OFFLINE = "offline"


class Conversion(DeferredModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    vendor: str
    stream: str
    #: The vendor's id of the row (the dedupe key within vendor + stream).
    vendor_id: str
    vendor_account_id: str
    kind: Kind
    occurred_at: datetime  # UTC, aware
    #: The date in the project's time zone: what reports group by.
    local_date: date
    source: str
    traffic_type: str
    campaign: str
    content: str | None = None
    keyword: str | None = None
    tags: tuple[str, ...] = ()
    #: A first contact (not a repeat caller / returning client).
    unique: bool = True
    #: True when a static-channel rule set source / type / campaign.
    static_channel: bool = False
    #: An inquiry (обращение) counted once: a call or a genuine form / chat; not a deal, not a proxy
    #: lead Roistat created for a CRM deal that had no inquiry.
    inquiry: bool = True
    status: str | None = None
    #: A deal's status group: `progress`, `paid`, `canceled` or `not_counted`.
    status_type: str | None = None
    #: A deal's amount when it is paid, else 0 (None for what is not a deal).
    revenue: float | None = None
    #: A deal's amount when it is in progress or paid, else 0 (None for what is not a deal).
    forecast_revenue: float | None = None
    visit_id: str | None = None
    ga_client_id: str | None = None
    #: Free-form vendor extras that reports may want (duration, disposition…), kept small.
    extra: dict[str, str | int | float | bool | None] = Field(default_factory=dict)


def deal_revenues(amount: float | None, status_group: str | None) -> tuple[float, float]:
    """(revenue, forecast revenue) of a deal of this amount in this status group."""
    value = amount or 0.0
    return (
        value if status_group in REVENUE_GROUPS else 0.0,
        value if status_group in FORECAST_GROUPS else 0.0,
    )


def conversion_json(conversion: Conversion) -> bytes:
    """One conversion as a compact JSON document (pydantic's Rust serializer: the hot path). The
    serializer is looked up per call: taking it at import would build the model in every handler."""
    return Conversion.__pydantic_serializer__.to_json(conversion)


def _fields_as_dumped(conversion: Conversion) -> dict[str, Any]:
    return conversion.__dict__


def _fields_as_json(conversion: Conversion) -> dict[str, Any]:
    return conversion.model_dump(mode="json")


def _fields_serialise_alike() -> bool:
    """Guards against a pydantic or orjson upgrade: a model's fields as orjson writes them (datetimes in
    UTC as "Z", the kind by value, tags as a list) must be the bytes pydantic writes."""
    sample = Conversion(
        vendor="v", stream="calls", vendor_id="1", vendor_account_id="1", kind=Kind.CALL,
        occurred_at=datetime(2024, 1, 1, 12, 30, 5, tzinfo=UTC), local_date=date(2024, 1, 1), source="s",
        traffic_type="t", campaign="c", tags=("a",), revenue=1.5, extra={"n": 1, "f": 0.0, "b": True},
    )  # fmt: skip
    return orjson.dumps(sample.__dict__, option=orjson.OPT_UTC_Z) == conversion_json(sample)


@functools.cache
def _fields_reader() -> Callable[[Conversion], dict[str, Any]]:
    """Decided on first use, not at import: the check builds the model, which no handler should pay
    for before it needs a conversion."""
    return _fields_as_dumped if _fields_serialise_alike() else _fields_as_json


def conversion_fields(conversion: Conversion) -> dict[str, Any]:
    """A conversion's fields for a serialiser of many at once (`store.partitions.json_lines`): the
    model's own dict, no per-row serialisation, when that writes the same bytes as pydantic."""
    return _fields_reader()(conversion)


def stored_rows(conversions: Iterable[Conversion | dict[str, Any]]) -> list[dict[str, Any]]:
    """Conversions as a partition stores them (`conversion_fields`). A normaliser's hot path may yield
    the fields a conversion is made of (`attribution.rules.conversion_values`) instead of the model:
    those are stored as they are when the model's own dict is what is stored, else through the model."""
    rows = list(conversions)
    fields_of = _fields_reader()
    if fields_of is _fields_as_dumped and set(map(type, rows)) <= {dict}:
        return rows  # type: ignore[return-value]  # all dicts: a conversion's fields, as stored
    return [fields_of(Conversion.model_construct(**row) if isinstance(row, dict) else row) for row in rows]
