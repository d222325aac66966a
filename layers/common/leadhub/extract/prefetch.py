"""Read a rate-limited stream a month at a time and serve it day by day.

Roistat allows 10 order lists a minute with visits; re-reading 30 days of orders one request per
day would spend three minutes of every run on waiting. A `RangePrefetch` asks once for the whole
span from the first day it is asked for, then hands each day the rows created inside its window.
Days stay the engine's unit of storage, so checkpoints and whole-day replacement are unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

Fetch = Callable[[datetime, datetime], Iterable[dict[str, Any]]]
Moment = Callable[[dict[str, Any]], datetime | None]


class RangePrefetch:
    def __init__(self, fetch: Fetch, moment: Moment, *, span: timedelta = timedelta(days=31)) -> None:
        self._fetch = fetch
        self._moment = moment
        self._span = span
        self._window: tuple[datetime, datetime] | None = None
        self._rows: list[tuple[datetime | None, dict[str, Any]]] = []

    def read(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """The rows of [start, end). A row whose time cannot be read goes to the first day of its
        fetch (kept, never dropped: the vendor filtered it into that span)."""
        if self._window is None or not (self._window[0] <= start and end <= self._window[1]):
            fetched_until = max(end, start + self._span)
            self._rows = [(self._moment(row), row) for row in self._fetch(start, fetched_until)]
            self._window = (start, fetched_until)
            first_day = True
        else:
            first_day = False
        return [row for moment, row in self._rows if (start <= moment < end if moment else first_day)]


def iso_moment(field: str) -> Moment:
    """A reader of an ISO-8601 timestamp field with an offset (Roistat's `…+0000`)."""

    def moment(row: dict[str, Any]) -> datetime | None:
        value = row.get(field)
        if not isinstance(value, str):
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo is not None else None

    return moment
