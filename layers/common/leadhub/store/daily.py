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

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import orjson

from leadhub.models.conversion import Conversion
from leadhub.models.measures import summarise
from leadhub.store import errors
from leadhub.store.objects import ObjectStore
from leadhub.store.partitions import CONVERSIONS, Partition, PartitionStore, connector_prefix

DAILY = "daily"
SUMMARY = "summary.jsonl"
#: The user metadata naming the partition version a summary was made from.
SOURCE_ETAG = "source-etag"
#: Summaries read at once: a report is a few hundred small GETs, each mostly waiting on the network.
READERS = 16

Cells = list[dict[str, Any]]


def summary_key(partition: Partition) -> str:
    prefix = connector_prefix(DAILY, partition.project_id, partition.connector_id)
    return f"{prefix}stream={partition.stream}/date={partition.day.isoformat()}/{SUMMARY}"


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
        body = b"".join(orjson.dumps(cell) + b"\n" for cell in cells)
        metadata = {SOURCE_ETAG: source_etag.strip('"')}
        self.objects.put(summary_key(partition), body, content_type="application/x-ndjson", metadata=metadata)
        return cells

    def cells(
        self, project_id: str, *, start: date, end: date, pairs: Iterable[tuple[str, str]] | None = None
    ) -> Iterator[tuple[Partition, Cells]]:
        """Every conversion partition of the project in [start, end] (of the (connector, stream) `pairs`, or
        of all) with its cells, in key order. Lists only the days asked for, one listing per pair."""
        found = [
            found
            for connector, stream in (self._pairs(project_id) if pairs is None else sorted(pairs))
            for found in self._days(project_id, connector, stream, start, end)
        ]
        if not found:
            return
        with ThreadPoolExecutor(max_workers=min(READERS, len(found))) as pool:
            yield from zip((partition for partition, _ in found), pool.map(self._current, found), strict=True)

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
            return [orjson.loads(line) for line in body.splitlines() if line]
        return self._put(partition, summarise(self.partitions.read(partition)), etag)
