"""Day slices in the vendor account's time zone, as half-open UTC windows [start, end)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from leadhub.models.connector import Connector


def account_zone(connector: Connector, project_zone: str) -> ZoneInfo:
    """The zone the vendor account cuts its days in."""
    return ZoneInfo(connector.settings.get("vendor_timezone") or project_zone)


def day_window(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants where `day` starts and the next day starts, in `zone` (DST-safe)."""
    start = datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    return start, end


def local_today(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date()


def days_to_read(*, today: date, cursor: date | None, lookback_days: int, initial_days: int) -> Iterator[date]:
    """The days a run reads, oldest first: from the lookback before the cursor (or the initial
    history on a first run) through today. Today is read again on every run: it is not over."""
    if cursor is None:
        first = today - timedelta(days=initial_days - 1)
    else:
        first = min(cursor, today) - timedelta(days=lookback_days)
    day = first
    while day <= today:
        yield day
        day += timedelta(days=1)


def merge_ranges(ranges: list[tuple[date, date]], day: date) -> list[tuple[date, date]]:
    """Closed date ranges with `day` added, merged where they touch."""
    merged: list[tuple[date, date]] = []
    for start, end in sorted([*ranges, (day, day)]):
        if merged and start <= merged[-1][1] + timedelta(days=1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
