"""One normalised conversion, whatever vendor and stream it came from."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

UNDEFINED_CAMPAIGN = "Неизвестная кампания (Undefined)"


class Kind(StrEnum):
    CALL = "call"
    FORM = "form"
    CHAT = "chat"
    ORDER = "order"
    OFFLINE = "offline"


class Conversion(BaseModel):
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
    status: str | None = None
    status_type: str | None = None
    revenue: float | None = None
    visit_id: str | None = None
    ga_client_id: str | None = None
    #: Free-form vendor extras that reports may want (duration, disposition…), kept small.
    extra: dict[str, str | int | float | bool | None] = Field(default_factory=dict)


_serializer = Conversion.__pydantic_serializer__


def conversion_json(conversion: Conversion) -> bytes:
    """One conversion as a compact JSON document (pydantic's Rust serializer: the hot path)."""
    return _serializer.to_json(conversion)
