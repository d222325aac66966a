"""Day partitions in the data bucket: JSON Lines, gzip, one object per
project × connector × stream × day, replaced whole on every write.

Replacing the whole day is what makes re-reading idempotent: a day read twice, or read again
after a crash half-way, ends as exactly one copy of that day. The layout is Hive-style so the
Glue table of the template reads it with partition projection.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from leadhub.store.objects import ObjectStore

CONVERSIONS = "conversions"
RAW = "raw"
FILE = "part-0000.jsonl.gz"


@dataclass(frozen=True)
class Partition:
    dataset: str
    project_id: str
    connector_id: str
    stream: str
    day: date

    @property
    def key(self) -> str:
        return (
            f"{self.dataset}/project={self.project_id}/connector={self.connector_id}/"
            f"stream={self.stream}/date={self.day.isoformat()}/{FILE}"
        )

    @classmethod
    def from_key(cls, key: str) -> Partition | None:
        parts = key.split("/")
        if len(parts) != 6 or parts[5] != FILE:
            return None
        try:
            fields = dict(part.split("=", 1) for part in parts[1:5])
            return cls(
                parts[0], fields["project"], fields["connector"], fields["stream"], date.fromisoformat(fields["date"])
            )
        except (KeyError, ValueError):
            return None


def encode(rows: Iterable[dict[str, Any]]) -> tuple[bytes, int]:
    """Rows as gzip JSON Lines, and how many there were."""
    buffer = io.BytesIO()
    count = 0
    # mtime=0: the same rows give the same bytes
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=5, mtime=0) as archive:
        for row in rows:
            archive.write(json.dumps(row, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8"))
            archive.write(b"\n")
            count += 1
    return buffer.getvalue(), count


def decode(data: bytes) -> Iterator[dict[str, Any]]:
    for line in gzip.decompress(data).splitlines():
        if line:
            yield json.loads(line)


class PartitionStore:
    def __init__(self, objects: ObjectStore | None = None) -> None:
        self.objects = objects or ObjectStore()

    def replace(self, partition: Partition, rows: Iterable[dict[str, Any]]) -> int:
        data, count = encode(rows)
        self.objects.put(partition.key, data, content_type="application/x-ndjson")
        return count

    def read(self, partition: Partition) -> Iterator[dict[str, Any]]:
        return decode(self.objects.get(partition.key))

    def partitions(self, dataset: str, project_id: str, *, start: date, end: date) -> Iterator[Partition]:
        """The project's partitions whose day is in [start, end]."""
        for key in self.objects.keys(f"{dataset}/project={project_id}/"):
            partition = Partition.from_key(key)
            if partition is not None and start <= partition.day <= end:
                yield partition
