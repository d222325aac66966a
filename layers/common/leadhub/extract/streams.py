"""What the engine needs to know of one stream: how to read a day and how to normalise it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from leadhub.models.conversion import Conversion

DayReader = Callable[[date, datetime, datetime], Iterable[dict[str, Any]]]
#: A day's raw rows (and the day) → its conversions.
Normaliser = Callable[[list[dict[str, Any]], date], Iterable[Conversion]]


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


DEFAULT_LOOKBACK = {"calls": 3, "orders": 30, "proxyleads": 3, "clients": 0, "statuses": 0}
