"""What the engine needs to know of one stream: how to read a day and how to normalise it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from leadhub.attribution.rules import AttributionRules
from leadhub.models.connector import Connector
from leadhub.models.conversion import Conversion
from leadhub.vendors.ratelimit import RateLimiter

DayReader = Callable[[date, datetime, datetime], Iterable[dict[str, Any]]]
#: A day's raw rows (and the day) → its conversions, or the fields they are made of (`stored_rows`).
Normaliser = Callable[[list[dict[str, Any]], date], Iterable[Conversion] | Iterable[dict[str, Any]]]


@dataclass(frozen=True)
class StreamReader:
    name: str
    #: Days re-read before the cursor on every run.
    lookback_days: int
    read_day: DayReader
    #: None for streams kept raw only (e.g. the client report).
    normalise: Normaliser | None
    #: Read as one snapshot dated today, not day by day (dictionaries, the client report).
    snapshot: bool = False


@dataclass(frozen=True)
class ExtractionInputs:
    """What a vendor's stream readers are built from."""

    connector: Connector
    #: The stored credentials.
    secret: Mapping[str, Any]
    rules: AttributionRules
    #: The project's time zone.
    zone: str
    #: The order-status dictionary when it is known already (re-attribution), else None.
    statuses: list[dict[str, Any]] | None = None
    #: The limit the vendor counts per source IP, shared with every other sender (leadhub.egress); None
    #: where the vendor's limits are per key, kept by the client's own limiter.
    limiter: RateLimiter | None = None


#: Per stream name: how to read one day, and how to normalise its rows (None: kept raw only).
StreamReaders = dict[str, tuple[DayReader, Normaliser | None]]
StreamBuilder = Callable[[ExtractionInputs], StreamReaders]
