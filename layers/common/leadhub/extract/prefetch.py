"""Read a rate-limited stream a month at a time and serve it day by day.

Roistat allows 5 order lists a minute with visits (1 000 rows a page); re-reading 30 days of orders
one request per day would spend minutes of every run on waiting. A `RangePrefetch` asks once for the
whole span from the first day it is asked for, then hands each day the rows created inside its window.

The span is read lazily, page by page, only as far as the day asked for: the vendor sorts by the
time read (`sort` asc), so a page reaching past a day's end completes that day. A big shop's month
is therefore never one long read: the engine checks its time and checkpoints between days, and a
run stopped half-way continues (job continuation) from the next day. Days stay the engine's unit of
storage, so checkpoints and whole-day replacement are unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
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
        self._pending: Iterator[dict[str, Any]] = iter(())
        #: Rows read so far, each with its time (a row whose time cannot be read: the start of the
        #: day whose read reached it, so it is served once, never dropped).
        self._rows: list[tuple[datetime, dict[str, Any]]] = []
        #: The latest time read so far: every row before it has been read (the vendor sorts by time).
        self._reached: datetime | None = None

    def read(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """The rows of [start, end)."""
        if self._window is None or not (self._window[0] <= start and end <= self._window[1]):
            fetched_until = max(end, start + self._span)
            self._pending = iter(self._fetch(start, fetched_until))
            self._window = (start, fetched_until)
            self._rows, self._reached = [], None
        self._read_through(start, end)
        return [row for moment, row in self._rows if start <= moment < end]

    def _read_through(self, start: datetime, end: datetime) -> None:
        """Read on until a row at or after `end` (or the end of the span)."""
        if self._reached is not None and self._reached >= end:
            return
        for row in self._pending:
            moment = self._moment(row)
            if moment is None:
                self._rows.append((start, row))
                continue
            self._rows.append((moment, row))
            self._reached = moment if self._reached is None else max(self._reached, moment)
            if moment >= end:
                return
        self._reached = self._window[1] if self._window else end


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
