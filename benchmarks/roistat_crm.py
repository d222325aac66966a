"""The Roistat custom-CRM export of 100 000 deals, pulled page by page as Roistat's server pulls it:
the first request without `limit`, then `offset` / `limit` from the answer's pagination, each through
`ExportPage.answer` (token check, per-project throttle, snapshot, page). The floor, in the same run:
serialising the same deals into the same pages from memory, nothing read or written.

Storage is local, as in the re-attribution benchmark: the CRM table is a SQLite file read through a
streaming cursor (moto's DynamoDB answers a 1 MB query page in seconds, so over moto the figure would
measure moto), the bucket a directory. What is measured is Leadhub's own work: the update-time scan,
serialising, the snapshot write, the page reads and assembly.

Peak memory is the Python heap (tracemalloc) of a child process that only pulls, for the full export
and for a tenth of it: it should not follow the number of deals.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import sqlite3
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from leadhub.roistat_crm import shapes
from leadhub.roistat_crm.config import CrmSettings
from leadhub.roistat_crm.page import ExportPage
from leadhub.roistat_crm.push import Records
from leadhub.store.crm import CrmStore, change_key
from leadhub.store.crm_exports import SnapshotObjects
from leadhub.store.secrets import SecretStore

DEALS = int(os.environ.get("BENCH_CRM_DEALS", "100000"))
#: The pass through production's stores over moto (whose DynamoDB is slow: seconds per query page).
MOTO_DEALS = int(os.environ.get("BENCH_CRM_MOTO_DEALS", "20000"))
PROJECT = "bench-project"
LOGIN, PASSWORD = "roistat-bench", "bench-password"
SETTINGS = CrmSettings.model_validate({"ROISTAT_CRM_REQUESTS_PER_MINUTE": "1000000"})


class SqliteCrmStore(CrmStore):
    """The CRM table's operations over one SQLite file, rows streamed from a cursor as DynamoDB pages."""

    def __init__(self, path: Path) -> None:
        self.name = str(path)
        self.db = sqlite3.connect(path)
        # a table service's write, not a disk flush, is what each page's bookkeeping costs in AWS
        self.db.execute("PRAGMA synchronous = OFF")
        columns = "pk TEXT, sk TEXT, change TEXT, digest TEXT, body TEXT, PRIMARY KEY (pk, sk)"
        self.db.execute(f"CREATE TABLE IF NOT EXISTS records ({columns})")
        self.db.execute("CREATE INDEX IF NOT EXISTS by_change ON records (pk, change)")
        self.db.execute("CREATE TABLE IF NOT EXISTS items (pk TEXT, sk TEXT, body TEXT, PRIMARY KEY (pk, sk))")

    def digests(self, kind: str, project_id: str, ids: Iterable[str]) -> dict[str, str]:
        rows = self.db.execute(
            f"SELECT sk, digest FROM records WHERE pk = ? AND sk IN ({','.join('?' * len(list(ids)))})",
            [f"{kind}#{project_id}", *ids],
        )
        return dict(rows.fetchall())

    def write(self, kind: str, project_id: str, records: Iterable[tuple[dict[str, Any], str, int]]) -> None:
        rows = [
            (f"{kind}#{project_id}", r["id"], change_key(us, r["id"]), digest, json.dumps(r))
            for r, digest, us in records
        ]
        self.db.executemany("INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, ?)", rows)
        self.db.commit()

    def all(self, kind: str, project_id: str) -> Iterator[dict[str, Any]]:
        for (body,) in self.db.execute("SELECT body FROM records WHERE pk = ? ORDER BY sk", [f"{kind}#{project_id}"]):
            yield orjson.loads(body)

    def changed(self, kind: str, project_id: str, after_us: int, until_us: int) -> Iterator[dict[str, Any]]:
        query = "SELECT body FROM records WHERE pk = ? AND change BETWEEN ? AND ? ORDER BY change"
        bounds = [f"{kind}#{project_id}", change_key(after_us + 1, ""), change_key(until_us + 1, "")]
        for (body,) in self.db.execute(query, bounds):
            yield orjson.loads(body)

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT body FROM items WHERE pk = ? AND sk = ?", [pk, sk]).fetchone()
        return json.loads(row[0]) if row else None

    def _put(self, pk: str, sk: str, item: Mapping[str, Any]) -> None:
        self.db.execute("INSERT OR REPLACE INTO items VALUES (?, ?, ?)", [pk, sk, json.dumps(dict(item))])
        self.db.commit()

    def page(self, project_id: str) -> dict[str, Any] | None:
        return self._get(f"PAGE#{project_id}", "PAGE")

    def save_page(self, project_id: str, page: Mapping[str, Any]) -> None:
        self._put(f"PAGE#{project_id}", "PAGE", page)

    def note_pull(self, project_id: str, action: str, at: str) -> None:
        self.save_page(project_id, {**(self.page(project_id) or {}), "last_pull_at": at, "last_pull_action": action})

    def note_largest(self, project_id: str, kind: str, size: int) -> None:
        sizes = self._get(f"SIZES#{project_id}", "SIZES") or {}
        sizes[kind] = max(size, sizes.get(kind, 0))
        self._put(f"SIZES#{project_id}", "SIZES", sizes)

    def largest(self, project_id: str, kind: str) -> int:
        return int((self._get(f"SIZES#{project_id}", "SIZES") or {}).get(kind, 0))

    def snapshot(self, project_id: str, name: str) -> dict[str, Any] | None:
        return self._get(f"EXPORT#{project_id}", name)

    def save_snapshot(self, project_id: str, name: str, snapshot: Mapping[str, Any], expires_at: int) -> None:
        self._put(f"EXPORT#{project_id}", name, snapshot)

    def take_slot(self, project_id: str, window: int, limit: int, expires_at: int) -> bool:
        return True


class FileWriter:
    """`SnapshotWriter`'s interface over a local file."""

    def __init__(self, path: Path, key: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.key = key
        self.written = 0
        self._file = path.open("wb")

    def append(self, line: bytes) -> int:
        start = self.written
        self._file.write(line + b"\n")
        self.written += len(line) + 1
        return start

    def close(self) -> None:
        self._file.close()

    def abort(self) -> None:
        self._file.close()


class DirectorySnapshots(SnapshotObjects):
    def __init__(self, root: Path) -> None:
        self.root = root

    def writer(self, key: str) -> FileWriter:  # type: ignore[override]
        return FileWriter(self.root / key, key)

    def read_range(self, key: str, start: int, end: int) -> bytes:
        with (self.root / key).open("rb") as handle:
            handle.seek(start)
            return handle.read(end - start)

    def chunks(self, key: str) -> Iterator[bytes]:
        with (self.root / key).open("rb") as handle:
            yield from iter(lambda: handle.read(1024 * 1024), b"")


class KnownSecrets(SecretStore):
    def __init__(self) -> None:
        self.prefix = "bench"

    def get(self, connector_id: str) -> dict[str, Any]:
        return {"login": LOGIN, "password": PASSWORD}


def deal(number: int) -> dict[str, Any]:
    return {
        "id": f"order-{number:07d}",
        "name": f"Заказ №{number} с сайта",
        "date_create": 1_760_000_000 + number,
        "status": ("new", "work", "paid", "rejected")[number % 4],
        "price": round(1000 + number * 1.37, 2),
        "cost": round(600 + number * 0.81, 2),
        "roistat": str(400000 + number),
        "client_id": f"client-{number % 5000}",
        "manager_id": f"m{number % 7}",
        "fields": {"Способ доставки": ("Курьер", "Самовывоз")[number % 2], "Источник": "сайт"},
    }


def seed(root: Path, deals: int) -> Path:
    path = root / f"crm-{deals}.sqlite"
    seed_records(SqliteCrmStore(path), deals)
    return path


def pull(database: Path, bucket: Path) -> tuple[int, int, int, float]:
    """Every page of one export from the local stand-ins (see `pull_pages`)."""
    return pull_pages(ExportPage(SqliteCrmStore(database), KnownSecrets(), SETTINGS, DirectorySnapshots(bucket)))


def pull_pages(page: ExportPage) -> tuple[int, int, int, float]:
    """Every page of one export as Roistat requests them: (pages, deals, bytes of the largest page,
    seconds of the first request, which writes the snapshot)."""
    token = hashlib.md5(f"{LOGIN}{PASSWORD}".encode(), usedforsecurity=False).hexdigest()
    base = {"action": "export", "user": LOGIN, "token": token, "date": "1"}
    pages = deals = largest = offset = 0
    started, first = time.perf_counter(), 0.0
    limit: int | None = None
    total: int | None = None
    while total is None or offset < total:
        params = {**base, **({"offset": str(offset), "limit": str(limit)} if limit else {})}
        answer = page.answer(PROJECT, params)
        assert answer.status == 200, answer.body[:300]
        pagination = json.loads(b"{" + answer.body[answer.body.rindex(b'"pagination"') :])["pagination"]
        total, limit = int(pagination["totalCount"]), int(pagination["limit"])
        deals += answer.body.count(b'"date_create"')
        largest = max(largest, len(answer.body))
        pages += 1
        offset += limit
        first = first or time.perf_counter() - started
    assert deals == total, (deals, total)
    return pages, deals, largest, first


def seed_records(store: CrmStore, deals: int) -> None:
    records = Records(store)
    records.upsert(
        "statuses", PROJECT, [{"id": key, "name": key.title()} for key in ("new", "work", "paid", "rejected")]
    )
    for start in range(0, deals, 1000):
        records.upsert("deals", PROJECT, [deal(number) for number in range(start, min(deals, start + 1000))])
    store.save_page(PROJECT, {"login": LOGIN, "format": "json", "rotated_at": "bench", "created_at": "bench"})


def production_pass(deals: int) -> tuple[int, float, float]:
    """The same export through production's stores: the CRM table in DynamoDB, the page's password in
    Secrets Manager, the snapshot in S3 — moto's server in a process of its own, so this process's CPU
    time is Leadhub's work alone. (pages, wall seconds, CPU seconds of this process) for the pull."""
    from benchmarks.pipeline import _MOTO, Child
    from devstack.aws import LOCAL_AWS_ENV, provision_from_template, use_endpoint
    from leadhub.roistat_crm.management import page_secret
    from leadhub.store import aws as store_aws

    for name, value in LOCAL_AWS_ENV.items():
        os.environ.setdefault(name, value)
    moto = Child(_MOTO)
    try:
        use_endpoint(moto.url)
        provision_from_template()
        store_aws.reset()
        store = CrmStore()
        seed_records(store, deals)
        SecretStore().put(page_secret(PROJECT), {"login": LOGIN, "password": PASSWORD})
        wall, cpu = time.perf_counter(), time.process_time()
        pages, pulled, _, _ = pull_pages(ExportPage(store, SecretStore(), SETTINGS, SnapshotObjects()))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        assert pulled == deals, (pulled, deals)
        return pages, wall, cpu
    finally:
        moto.stop()
        os.environ.pop("AWS_ENDPOINT_URL", None)
        store_aws.reset()


def floor(deals: int, limit: int) -> float:
    """Seconds to serialise the same deals into pages of the same size, from memory."""
    records = [deal(number) for number in range(deals)]
    started = time.perf_counter()
    for start in range(0, deals, limit):
        lines = [
            shapes.record_line(shapes.order_values(record, shapes.JSON), "orders", shapes.JSON)
            for record in records[start : start + limit]
        ]
        page = shapes.Page(shapes.JSON).records("orders", lines)
        page.section("pagination", {"totalCount": deals, "limit": limit}).body()
    return time.perf_counter() - started


def _child(database: Path, bucket: Path, results: Any) -> None:
    tracemalloc.start()
    pull(database, bucket)
    results.put(tracemalloc.get_traced_memory()[1] / 2**20)


def peak_mib(database: Path, bucket: Path) -> float:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    child = context.Process(target=_child, args=(database, bucket, results))
    child.start()
    peak = float(results.get(timeout=3600))
    child.join()
    return peak


def main_section(stamp: Callable[[], str]) -> str:
    root = Path(tempfile.mkdtemp(prefix="bench-roistat-crm-"))
    try:
        full, small = seed(root, DEALS), seed(root, max(1, DEALS // 10))
        started = time.perf_counter()
        pages, deals, largest, first = pull(full, root / "bucket")
        seconds = time.perf_counter() - started
        floor_seconds = floor(DEALS, -(-DEALS // pages))
        print(
            f"roistat_crm: {deals:,} deals in {pages} pages, {seconds:.1f} s; floor {floor_seconds:.1f} s", flush=True
        )
        memory_full, memory_small = peak_mib(full, root / "bucket"), peak_mib(small, root / "bucket")
        moto_pages, moto_wall, moto_cpu = production_pass(MOTO_DEALS)
        moto_floor = floor(MOTO_DEALS, -(-MOTO_DEALS // moto_pages))
        print(f"roistat_crm over moto: {MOTO_DEALS:,} deals, {moto_wall:.1f} s, {moto_cpu:.2f} CPU s", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    return f"""## Roistat custom-CRM export pulled page by page, as Roistat pulls it

{stamp()}
{DEALS:,} deals (Cyrillic names and fields, float prices) stored through `Records.upsert`, then one export
pulled as Roistat's server pulls it: `action=export&date=1` without `limit`, then `offset`/`limit` from
the answer's `pagination` until `totalCount`, each request through `ExportPage.answer` (token check,
throttle, snapshot, page). The first request writes the export's snapshot (the update-time scan, one
serialised deal a line); each page reads its byte range back. Storage is local (the CRM table a SQLite
file streamed through a cursor, the bucket a directory), so Leadhub's own work is what is timed; the pass
through production's stores follows the table. The floor serialises the same deals into the same pages from memory.

| pass | deals | pages | seconds | deals/s |
|---|---:|---:|---:|---:|
| export pulled page by page | {deals:,} | {pages} | {seconds:.1f} | {deals / seconds:,.0f} |
| serialising only (floor) | {DEALS:,} | {pages} | {floor_seconds:.1f} | {DEALS / floor_seconds:,.0f} |

**The pull takes {seconds / floor_seconds:.1f}× the floor**; the first request (the snapshot) {first:.1f} s, the
other {pages - 1} pages {(seconds - first) / max(1, pages - 1) * 1000:.0f} ms each. Largest page
{largest / 2**20:.2f} MiB (Lambda's response limit is 6 MB). Peak Python heap of the pulling process
(tracemalloc, separate runs):
{memory_full:.1f} MiB for {DEALS:,} deals, {memory_small:.1f} MiB for {DEALS // 10:,}. In AWS the scan reads
~{DEALS * 0.45 / 1024:.0f} MB of DynamoDB query pages on the first request and each page is one ranged S3 GET.

**Through production's stores** (the same pull, `ExportPage` with the CRM table in DynamoDB, the password in
Secrets Manager and the snapshot in S3, all moto's server in a process of its own; {MOTO_DEALS:,} deals, as
moto's DynamoDB answers a query page in seconds): {moto_pages} pages in {moto_wall:.1f} s of wall time, most of
it moto's; this process's CPU {moto_cpu:.2f} s = {moto_cpu / moto_floor:.0f}× the serialise-only floor for
the same deals ({moto_floor:.2f} s) — decoding DynamoDB's answers (boto3) and the requests themselves are
what the local stand-ins above leave out.
"""
