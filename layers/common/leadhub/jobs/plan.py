"""The backfill plan: from the old and the new settings, only the work the change needs (pure).

- What attribution reads (tags, static channels, the KPI mode, «Не учитывается», …: every setting
  but those below) → re-attribute the whole archive from its stored raw rows, no vendor calls.
- A stream switched on → read its missing days (the history window less what is stored) as a
  range job, and re-attribute what it had stored before it was switched off.
- The history start moved earlier (`history_days` grew) → read the new days as range jobs; the
  cursor is untouched.
- The vendor account's zone changed → its days are cut elsewhere: the history is read again.
- A stream switched off, a lookback, the history start moved later → nothing: the report stops
  showing a switched-off stream (its raw rows stay, so switching it back is a re-attribution).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from leadhub.connectors.spec import StreamSpec
from leadhub.models.job import JobKind

DEFAULT_HISTORY_DAYS = 30
#: Settings attribution does not read: changing them re-attributes nothing.
NOT_ATTRIBUTION = frozenset({"streams", "history_days", "lookback_days", "client_report", "vendor_timezone", "vendor"})

DayRange = tuple[date, date]


@dataclass(frozen=True)
class PlannedJob:
    kind: JobKind
    streams: tuple[str, ...] | None = None
    range_start: date | None = None
    range_end: date | None = None
    #: The id of the older job whose rest this is.
    carries: str | None = None


def attribution_changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    fields = (set(old) | set(new)) - NOT_ATTRIBUTION
    return any(old.get(name) != new.get(name) for name in fields)


def archive_outdated(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether days built with the old settings no longer reflect the new ones."""
    return attribution_changed(old, new) or old.get("vendor_timezone") != new.get("vendor_timezone")


def history_start(settings: Mapping[str, Any], today: date) -> date:
    return today - timedelta(days=int(settings.get("history_days") or DEFAULT_HISTORY_DAYS) - 1)


def gaps(window: DayRange, stored: Sequence[DayRange]) -> list[DayRange]:
    """The days of `window` (closed) that no stored range covers."""
    missing, start = [], window[0]
    for first, last in sorted(stored):
        if last < start:
            continue
        if first > window[1]:
            break
        if first > start:
            missing.append((start, first - timedelta(days=1)))
        start = max(start, last + timedelta(days=1))
    if start <= window[1]:
        missing.append((start, window[1]))
    return missing


def plan(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    streams: Sequence[StreamSpec],
    *,
    today: date,
    stored: Mapping[str, Sequence[DayRange]],
) -> list[PlannedJob]:
    """The jobs a settings change needs; `stored` holds each stream's stored day ranges."""
    day_streams = [stream for stream in streams if not stream.snapshot and stream.enabled(new)]
    jobs: list[PlannedJob] = []
    if attribution_changed(old, new):
        jobs.append(PlannedJob(JobKind.REATTRIBUTE))
    window = (history_start(new, today), today)
    if old.get("vendor_timezone") != new.get("vendor_timezone"):
        names = tuple(stream.name for stream in day_streams)
        return [*jobs, PlannedJob(JobKind.RANGE, names, *window)] if names else jobs
    switched_on = [stream.name for stream in day_streams if not stream.enabled(old)]
    revived = tuple(name for name in switched_on if stored.get(name))
    if revived and not jobs:
        jobs.append(PlannedJob(JobKind.REATTRIBUTE, revived))
    for name in switched_on:
        jobs.extend(PlannedJob(JobKind.RANGE, (name,), *gap) for gap in gaps(window, stored.get(name, [])))
    earlier = history_start(new, today) < history_start(old, today)
    if earlier:
        old_start = history_start(old, today)
        for stream in day_streams:
            if stream.name in switched_on:
                continue
            extra = (window[0], old_start - timedelta(days=1))
            jobs.extend(
                PlannedJob(JobKind.RANGE, (stream.name,), *gap) for gap in gaps(extra, stored.get(stream.name, []))
            )
    return jobs
