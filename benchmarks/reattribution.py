"""Re-attributing a year of stored raw rows (what the backfill does after a settings change):
`leadhub.extract.reattribute.rebuild_day` over every day — read the raw partition, normalise and
attribute, write the conversion partition — against the floor of the same bytes: gunzip + parse +
serialise + gzip with no attribution, in the same run.

The raw days hold one real Ringostat `calls/list` page (rendered by the simulator), stored as the
engine stores it; the bucket is a local directory, so storage round trips are not what is measured.
"""

from __future__ import annotations

import gc
import shutil
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import orjson

from benchmarks.pipeline import rules
from leadhub.attribution import ringostat as attribution
from leadhub.extract.reattribute import rebuild_day
from leadhub.store.partitions import CONVERSIONS, RAW, Partition, PartitionStore, decode, encode_lines, json_line

FIRST_DAY = date(2025, 12, 1)


class DirectoryObjects:
    """The bucket as a local directory: put / get / keys / etag, as `ObjectStore` offers them."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, key: str, body: bytes, **_options: object) -> None:
        """`ObjectStore.put`: a directory has no content type nor metadata to keep."""
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)

    def etag(self, key: str) -> str:
        """What tells one version of the object from another (a daily summary records its partition's)."""
        stat = (self.root / key).stat()
        return f"{stat.st_mtime_ns}-{stat.st_size}"

    def get(self, key: str) -> bytes:
        return (self.root / key).read_bytes()

    def keys(self, prefix: str) -> Iterator[str]:
        for path in sorted((self.root / prefix).rglob("*")):
            if path.is_file():
                yield str(path.relative_to(self.root))


@dataclass
class Archive:
    root: Path
    days: int
    rows: int
    raw_bytes: int

    @property
    def partitions(self) -> PartitionStore:
        return PartitionStore(DirectoryObjects(self.root))  # type: ignore[arg-type]

    def raw_days(self) -> list[Partition]:
        return [Partition(RAW, "bench", "c1", "calls", FIRST_DAY + timedelta(days=index)) for index in range(self.days)]


def stored_archive(page: bytes, days: int) -> Archive:
    """`days` raw day partitions, each the page's rows, written as the engine writes them."""
    root = Path(tempfile.mkdtemp(prefix="bench-archive-"))
    rows = orjson.loads(page)
    archive = Archive(root, days, 0, 0)
    store = archive.partitions
    for partition in archive.raw_days():
        archive.rows += store.replace(partition, rows)
        archive.raw_bytes += (root / partition.key).stat().st_size
    return archive


def reattribute_archive(archive: Archive) -> int:
    attribution_rules = rules()

    def normalise(rows: list[dict[str, object]], day: date) -> Iterator[object]:
        return iter(attribution.normalise_calls(rows, attribution_rules, "11111"))

    store = archive.partitions
    return sum(rebuild_day(store, partition, normalise) for partition in archive.raw_days())  # type: ignore[arg-type]


def floor_archive(archive: Archive) -> int:
    """The same bytes gunzipped, parsed, serialised and gzipped again: no attribution."""
    objects = DirectoryObjects(archive.root)
    total = 0
    for partition in archive.raw_days():
        target = Partition(CONVERSIONS, "floor", "c1", "calls", partition.day)
        data, count = encode_lines(json_line(row) for row in decode(objects.get(partition.key)))
        objects.put(target.key, data)
        total += count
    return total


def timed(run: Callable[[Archive], int], archive: Archive) -> float:
    gc.collect()
    started = time.perf_counter()
    run(archive)
    return time.perf_counter() - started


def peak_mib(run: Callable[[Archive], int], archive: Archive) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        run(archive)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def remove(archive: Archive) -> None:
    shutil.rmtree(archive.root, ignore_errors=True)
