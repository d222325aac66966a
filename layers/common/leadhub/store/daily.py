"""Daily summaries: one small object per conversion partition, its measures per cell (`models/measures`).

`daily/project=…/connector=…/stream=…/date=…/summary.jsonl` sits beside its partition
(`conversions/…/date=…/part-0000.jsonl.gz`), one JSON line per cell, and records in its metadata the
ETag of the partition it summarises. A summary counts only while that ETag is the partition's
current one: a day rewritten by any writer (extraction, backfill, re-attribution), a run killed
between the partition and its summary, or a day written before summaries existed is summarised
again from the partition the first time a report reads it, and stored, so nothing is ever counted
from a stale summary nor lost.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, timedelta
from functools import partial
from itertools import groupby
from typing import Any

import orjson

from leadhub.models.conversion import Conversion
from leadhub.models.measures import summarise, undated
from leadhub.store import errors
from leadhub.store.objects import ObjectStore
from leadhub.store.partitions import CONVERSIONS, Partition, PartitionStore, connector_prefix

DAILY = "daily"
SUMMARY = "summary.jsonl"
#: The user metadata naming the partition version a summary was made from.
SOURCE_ETAG = "source-etag"
#: A month summary's first and last conversion date (the project's zone).
FIRST_DATE, LAST_DATE = "first-date", "last-date"
#: Summaries read at once: a report is a few hundred small GETs, each mostly waiting on the network.
READERS = 16

Cells = list[dict[str, Any]]


def summary_key(partition: Partition) -> str:
    prefix = connector_prefix(DAILY, partition.project_id, partition.connector_id)
    return f"{prefix}stream={partition.stream}/date={partition.day.isoformat()}/{SUMMARY}"


def month_key(named: Partition) -> str:
    """A month's summary: beside its days', outside the Glue table's `date=` projection."""
    prefix = connector_prefix(DAILY, named.project_id, named.connector_id)
    return f"{prefix}stream={named.stream}/month={named.day:%Y-%m}/{SUMMARY}"


def _inside(first: date, within: tuple[date, date]) -> bool:
    """Whether the month starting `first` lies inside the days (its summary still says whether all its
    conversions do: a partition's may carry the day before or after in the project's zone)."""
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return within[0] <= first and last <= within[1]


def _fingerprint(days: list[tuple[Partition, str]]) -> str:
    """Which versions of which days a month summary was made from."""
    versions = "\n".join(":".join((partition.day.isoformat(), etag.strip('"'))) for partition, etag in days)
    return hashlib.sha256(versions.encode()).hexdigest()[:40]


def _lines(cells: Cells) -> bytes:
    return b"".join(orjson.dumps(cell) + b"\n" for cell in cells)


def _cells_of(body: bytes) -> Cells:
    """A summary's JSON lines parsed in one call, as one array."""
    lines = body.rstrip(b"\n")
    return orjson.loads(b"[" + lines.replace(b"\n", b",") + b"]") if lines else []


def summaries_prefix(project_id: str, connector_id: str) -> str:
    """Where a connector's summaries live (removed with its data)."""
    return connector_prefix(DAILY, project_id, connector_id)


def _value_of(prefix: str, folder: str) -> str:
    """'…/connector=abc/' → 'abc'."""
    return folder[len(prefix) :].rstrip("/").split("=", 1)[1]


class DailySummaries:
    def __init__(self, objects: ObjectStore | None = None) -> None:
        self.objects = objects or ObjectStore()
        self.partitions = PartitionStore(self.objects)

    def record(self, partition: Partition, conversions: Iterable[Conversion | dict[str, Any]]) -> None:
        """Summarise the conversions just written as `partition` (call it after the partition is stored)."""
        self._put(partition, summarise(conversions), self.objects.etag(partition.key))

    def _put(self, partition: Partition, cells: Cells, source_etag: str) -> Cells:
        metadata = {SOURCE_ETAG: source_etag.strip('"')}
        self.objects.put(summary_key(partition), _lines(cells), content_type="application/x-ndjson", metadata=metadata)
        return cells

    def cells(
        self,
        project_id: str,
        *,
        start: date,
        end: date,
        pairs: Iterable[tuple[str, str]] | None = None,
        undated_within: tuple[date, date] | None = None,
    ) -> Iterator[tuple[Partition, Cells]]:
        """The conversion partitions of the project in [start, end] (of the (connector, stream) `pairs`, or
        of all) with their cells, in key order. Lists only the days asked for, one listing per pair.

        `undated_within`: the days a report counts whole, when it does not group by date. A calendar month
        inside them is then read as one month summary (its cells without their date, named by the month's
        first day): a year is a dozen objects and the edges' days, not 365."""
        units: list[tuple[Partition, Callable[[], Cells]]] = []
        for connector, stream in self._pairs(project_id) if pairs is None else sorted(pairs):
            listed = self._days(project_id, connector, stream, start, end)
            for first, days in groupby(listed, key=lambda found: found[0].day.replace(day=1)):
                month = list(days)
                if undated_within is not None and _inside(first, undated_within):
                    named = replace(month[0][0], day=first)
                    units.append((named, partial(self._month, named, month, undated_within)))
                else:
                    units.extend((found[0], partial(self._current, found)) for found in month)
        if not units:
            return
        with ThreadPoolExecutor(max_workers=min(READERS, len(units))) as pool:
            yield from zip((named for named, _ in units), pool.map(lambda unit: unit[1](), units), strict=True)

    def _month(self, named: Partition, days: list[tuple[Partition, str]], within: tuple[date, date]) -> Cells:
        """The month's undated cells when its summary describes these very days and every conversion's date
        is within the report's days; else the days' own (dated) cells, as a report filters them."""
        versions = _fingerprint(days)
        try:
            body, metadata = self.objects.get_with_metadata(month_key(named))
        except errors.NotFound:
            body, metadata = b"", {}
        if metadata.get(SOURCE_ETAG) != versions:
            dated = [cell for found in days for cell in self._current(found)]
            span = sorted({cell["local_date"] for cell in dated})
            metadata = {SOURCE_ETAG: versions, FIRST_DATE: span[0] if span else "", LAST_DATE: span[-1] if span else ""}
            body = _lines(undated(dated))
            self.objects.put(month_key(named), body, content_type="application/x-ndjson", metadata=metadata)
        first, last = within[0].isoformat(), within[1].isoformat()
        if first <= metadata[FIRST_DATE] and metadata[LAST_DATE] <= last:
            return _cells_of(body)
        return [cell for found in days for cell in self._current(found)]

    def _pairs(self, project_id: str) -> list[tuple[str, str]]:
        project = f"{CONVERSIONS}/project={project_id}/"
        return [
            (_value_of(project, connector), _value_of(connector, stream))
            for connector in self.objects.folders(project)
            for stream in self.objects.folders(connector)
        ]

    def _days(
        self, project_id: str, connector: str, stream: str, start: date, end: date
    ) -> list[tuple[Partition, str]]:
        prefix = f"{connector_prefix(CONVERSIONS, project_id, connector)}stream={stream}/"
        found = []
        # every key of the first day sorts after "…/date=<first day>", those of the day before it do not
        for key, etag in self.objects.listed(prefix, start_after=f"{prefix}date={start.isoformat()}"):
            partition = Partition.from_key(key)
            if partition is None:
                continue
            if partition.day > end:
                break
            found.append((partition, etag))
        return found

    def _current(self, listed: tuple[Partition, str]) -> Cells:
        """The partition's cells: its summary when it describes this version, else summarised now."""
        partition, etag = listed
        try:
            body, metadata = self.objects.get_with_metadata(summary_key(partition))
        except errors.NotFound:
            body, metadata = b"", {}
        if metadata.get(SOURCE_ETAG) == etag.strip('"'):
            return _cells_of(body)
        return self._put(partition, summarise(self.partitions.read(partition)), etag)
