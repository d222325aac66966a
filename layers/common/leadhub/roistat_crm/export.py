"""`export` and `export_clients`: the protocol pages, over a snapshot fixed by an export's first request.

Roistat's requests carry no export id: the first has `date` and no `limit`, the following ones
the same `date` with `offset` / `limit` from the first answer's pagination, and "totalCount must be
the same for all pages". So the first request fixes the export: the records updated after `date`
and up to that moment, in (update time, id) order, are written once to a snapshot object (one
serialised record a line) with the byte offset of every page; the following requests with the
same action, format and `date` read their page from it with one ranged GET. A record changed while
Roistat pages appears exactly once, as it was when the export began; its change has a later update
time, so the next export brings it again. Memory holds one upload part or one page, whatever the
number of records, and a page costs the same at offset 0 and at offset 99 000.

The page size adapts: the project's largest record (noted at every write) decides how many fit
under `ROISTAT_CRM_MAX_PAGE_BYTES` beside the envelope; if a record turns out larger than noted
(written during the scan), the page offsets are recounted for a smaller limit before answering.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from leadhub.roistat_crm import shapes
from leadhub.roistat_crm.config import CrmSettings, crm_settings
from leadhub.roistat_crm.protocol import PageRequest
from leadhub.store.crm import CrmStore
from leadhub.store.crm_exports import SnapshotObjects, snapshot_key

#: Room for the envelope's own bytes (brackets, pagination, the XML declaration).
ENVELOPE_BYTES = 1024


@dataclass(frozen=True)
class Listing:
    """What an action exports: the stored kind, the answer's list, how a record is shaped."""

    kind: str
    name: str
    values: Callable[[dict[str, Any], str], dict[str, Any]]


LISTINGS = {
    "export": Listing("DEAL", "orders", shapes.order_values),
    "export_clients": Listing("CLIENT", "clients", lambda record, fmt: shapes.client_values(record)),
}


@dataclass(frozen=True)
class Snapshot:
    key: str
    total: int
    limit: int
    #: Byte offset where each page starts, and the end of the last one.
    offsets: list[int]

    def lines(self, objects: SnapshotObjects, offset: int, count: int) -> list[bytes]:
        """Records [offset, offset + count) of the snapshot, from the pages that hold them."""
        end = min(self.total, offset + count)
        if offset >= end:
            return []
        first, last = offset // self.limit, (end - 1) // self.limit
        data = objects.read_range(self.key, self.offsets[first], self.offsets[last + 1])
        skip = offset - first * self.limit
        return data.split(b"\n")[skip : skip + end - offset]


class Exports:
    def __init__(
        self, store: CrmStore | None = None, settings: CrmSettings | None = None, objects: SnapshotObjects | None = None
    ) -> None:
        self.store = store or CrmStore()
        self.settings = settings or crm_settings()
        self.objects = objects or SnapshotObjects()

    def answer(self, project_id: str, request: PageRequest, fmt: str) -> bytes:
        action, date, offset, limit = request.action, request.date, request.offset, request.limit
        listing = LISTINGS[action]
        scheme = self._scheme(project_id, fmt) if action == "export" else []
        name = f"{action}#{fmt}#{date}"
        # a request without `limit`, or at offset 0, starts an export: it never reuses an older snapshot
        snapshot = None if limit is None or offset == 0 else self._stored(project_id, name)
        if snapshot is None:
            envelope = sum(len(line) + 1 for _, lines in scheme for line in lines) + ENVELOPE_BYTES
            snapshot = self.build(project_id, listing, fmt, date, envelope)
            expires = int(time.time()) + self.settings.snapshot_seconds
            self.store.save_snapshot(project_id, name, asdict(snapshot), expires)
        served = min(limit or snapshot.limit, snapshot.limit)
        page = shapes.Page(fmt)
        for kind, lines in scheme:
            page.records(kind, lines)
        page.records(listing.name, snapshot.lines(self.objects, offset, served))
        settings = self.settings
        page.section(settings.pagination_key, {settings.total_key: snapshot.total, settings.limit_key: served})
        return page.body()

    def _scheme(self, project_id: str, fmt: str) -> list[tuple[str, list[bytes]]]:
        return [
            (
                kind,
                [
                    shapes.record_line(shapes.plain_values(record), kind, fmt)
                    for record in self.store.all(store_kind, project_id)
                ],
            )
            for kind, store_kind in (("statuses", "STATUS"), ("fields", "FIELD"))
        ]

    def _stored(self, project_id: str, name: str) -> Snapshot | None:
        item = self.store.snapshot(project_id, name)
        if item is None:
            return None
        return Snapshot(key=item["key"], total=item["total"], limit=item["limit"], offsets=list(item["offsets"]))

    def _limit(self, largest: int, envelope: int) -> int:
        budget = self.settings.max_page_bytes - envelope
        return max(1, min(self.settings.page_limit, budget // max(1, largest + 1)))

    def build(self, project_id: str, listing: Listing, fmt: str, date: int, envelope: int = ENVELOPE_BYTES) -> Snapshot:
        """Write the records updated after `date` (up to now) to a new snapshot object."""
        until_us = time.time_ns() // 1000
        limit = self._limit(self.store.largest(project_id, listing.kind), envelope)
        writer = self.objects.writer(snapshot_key(project_id, uuid.uuid4().hex))
        offsets, total, longest = [0], 0, 0
        try:
            for line in self._lines(project_id, listing, fmt, date, until_us):
                writer.append(line)
                total += 1
                longest = max(longest, len(line))
                if total % limit == 0:
                    offsets.append(writer.written)
            writer.close()
        except BaseException:
            writer.abort()
            raise
        if total % limit:
            offsets.append(writer.written)
        if self._limit(longest, envelope) < limit:
            limit = self._limit(longest, envelope)
            offsets = line_offsets(self.objects.chunks(writer.key), limit)
        return Snapshot(key=writer.key, total=total, limit=limit, offsets=offsets)

    def _lines(self, project_id: str, listing: Listing, fmt: str, date: int, until_us: int) -> Iterator[bytes]:
        for record in self.store.changed(listing.kind, project_id, date * 1_000_000, until_us):
            yield shapes.record_line(listing.values(record, fmt), listing.name, fmt)


def line_offsets(chunks: Iterable[bytes], every: int) -> list[int]:
    """Byte offsets of every `every`-th line start of a snapshot and of its end, read as a stream."""
    offsets, lines, position = [0], 0, 0
    for chunk in chunks:
        start = 0
        while (newline := chunk.find(b"\n", start)) >= 0:
            lines += 1
            if lines % every == 0:
                offsets.append(position + newline + 1)
            start = newline + 1
        position += len(chunk)
    if lines % every:
        offsets.append(position)
    return offsets
