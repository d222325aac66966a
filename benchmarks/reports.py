"""The conversions report over 30 / 90 / 365 days at 5 000 conversions a day, against the embedded S3.

The embedded AWS (moto's server) runs in a process of its own, as it does beside a Lambda: the report's
process pays for the requests, not for serving them. Each day's conversion partition is written as the
engine writes it, with its daily summary (`store/daily`); the report is `conversion_report` as the API
calls it. The floor, measured in the same run: GETting as many tiny objects as the report reads
summaries, through the same client and the same number of threads — what any design reading one
object per day and stream costs at least. Flatness: the 365-day report again at a fifth of the rows.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from leadhub.models.conversion import UNDEFINED_CAMPAIGN, Conversion, Kind
from leadhub.reports.conversions import ReportQuery, conversion_report
from leadhub.store.daily import READERS, DailySummaries
from leadhub.store.objects import ObjectStore
from leadhub.store.partitions import CONVERSIONS, Partition, PartitionStore

#: Not a month's end: a range ending there has partial months at both edges, as a "last N days" report has.
LAST_DAY = date(2026, 11, 20)
RANGES = (30, 90, 365)
_SERVER = """
import sys, time
from devstack.aws import EmbeddedAws
server = EmbeddedAws()
print(server.start(), flush=True)
sys.stdin.read()
"""


@contextmanager
def embedded_s3() -> Iterator[str]:
    """moto's server in a child process, the template's bucket provisioned; yields its endpoint."""
    from devstack.aws import LOCAL_AWS_ENV, provision_from_template, use_endpoint

    child = subprocess.Popen([sys.executable, "-c", _SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        endpoint = child.stdout.readline().strip()
        for name, value in LOCAL_AWS_ENV.items():
            os.environ[name] = value
        use_endpoint(endpoint)
        provision_from_template()
        yield endpoint
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)


def day_of_conversions(count: int, day: date, chooser: random.Random) -> list[Conversion]:
    """A day as a shop's ads bring it: a few sources, campaigns, ads and keywords, most traffic on the
    first ones; calls and forms, a fifth of them with a deal."""
    rows = []
    for number in range(count):
        deal = chooser.random() < 0.2
        status = chooser.choice(["progress", "paid", "canceled", "not_counted"]) if deal else None
        amount = round(chooser.uniform(500, 50_000), 2) if deal else None
        rank = min(int(chooser.expovariate(0.5)), 9)
        rows.append(
            Conversion(
                vendor="ringostat",
                stream="calls",
                vendor_id=f"{day}-{number}",
                vendor_account_id="bench",
                kind=Kind.ORDER if deal else chooser.choice([Kind.CALL, Kind.CALL, Kind.FORM]),
                occurred_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
                local_date=day,
                source=["google", "yandex", "facebook", "(direct)"][rank % 4],
                traffic_type="cpc" if rank < 8 else "organic",
                campaign=UNDEFINED_CAMPAIGN if rank == 9 else f"campaign-{rank}",
                content=f"ad-{min(int(chooser.expovariate(0.4)), 9)}",
                keyword=f"keyword-{min(int(chooser.expovariate(0.4)), 9)}",
                status_type=status,
                revenue=(amount if status == "paid" else 0.0) if deal else None,
                forecast_revenue=(amount if status in ("progress", "paid") else 0.0) if deal else None,
                inquiry=not deal,
            )
        )
    return rows


@dataclass
class Project:
    project_id: str
    days: int
    per_day: int
    cells: int = 0


def stored_project(project_id: str, days: int, per_day: int) -> Project:
    """`days` conversion partitions of `per_day` conversions each, with their summaries, written as the
    engine writes them (one template day, re-dated: generating 1.8 M models would dominate the run)."""
    chooser = random.Random(14)
    template = day_of_conversions(per_day, LAST_DAY, chooser)
    partitions, summaries = PartitionStore(), DailySummaries()
    project = Project(project_id, days, per_day)
    for offset in range(days):
        day = LAST_DAY - timedelta(days=offset)
        conversions = [item.model_copy(update={"local_date": day}) for item in template]
        partition = Partition(CONVERSIONS, project_id, "c1", "calls", day)
        partitions.replace(partition, (item.model_dump(mode="json") for item in conversions))
        summaries.record(partition, conversions)
    project.cells = sum(len(cells) for _, cells in summaries.cells(project_id, start=LAST_DAY, end=LAST_DAY))
    return project


def report_seconds(project: Project, days: int, group_by: str = "source,traffic_type,campaign") -> tuple[float, float]:
    """The first report over these days (it makes the month summaries it needs), then the best of five."""
    start = LAST_DAY - timedelta(days=days - 1)
    query = ReportQuery.model_validate({"from": start.isoformat(), "to": LAST_DAY.isoformat(), "group_by": group_by})
    visible = frozenset({("c1", "calls")})
    first = best_of(1, lambda: conversion_report(project.project_id, query, visible=visible))
    return first, best_of(5, lambda: conversion_report(project.project_id, query, visible=visible))


def decode_days(project: Project, days: int) -> int:
    """Every conversion of the last `days` days read and decoded: what a report cost before summaries."""
    partitions = PartitionStore()
    first = LAST_DAY - timedelta(days=days)
    found = partitions.partitions(CONVERSIONS, project.project_id, start=first, end=LAST_DAY + timedelta(days=1))
    return sum(1 for partition in found for _ in partitions.read(partition))


def floor_seconds(objects: int, repeat: int = 5) -> float:
    """GET `objects` tiny objects with the report's thread count: the cost of one object per day."""
    store = ObjectStore()
    keys = [f"floor/object-{number:04d}" for number in range(objects)]
    for key in keys:
        store.put(key, b'{"inquiries": 1}\n')

    def read_all() -> None:
        with ThreadPoolExecutor(max_workers=min(READERS, objects)) as pool:
            list(pool.map(store.get_with_metadata, keys))

    return best_of(repeat, read_all)


def best_of(repeat: int, run: Callable[[], Any]) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def main_section(stamp: Callable[[], str], per_day: int = 5000) -> str:
    with embedded_s3():
        year = max(RANGES)
        print(f"reports: writing {year} days × {per_day:,} conversions with their summaries", flush=True)
        project = stored_project("bench", year, per_day)
        light = stored_project("bench-light", year, per_day // 5)
        rows = []
        for days in RANGES:
            # a report reads its days and one more on each side (the project's zone against the vendor's)
            (first, seconds), floor = report_seconds(project, days), floor_seconds(days + 2)
            rows.append((days, first, seconds, floor))
            print(f"reports: {days} days {seconds:.3f} s (first {first:.3f} s), floor {floor:.3f} s", flush=True)
        _, by_date = report_seconds(project, year, "date,source")
        _, lighter = report_seconds(light, year)
        decoding = best_of(1, lambda: decode_days(project, 30))
    table = "\n".join(
        f"| {days} | {days * per_day:,} | {first:.3f} | {seconds:.3f} | {floor:.3f} | {seconds / floor:.1f}× |"
        for days, first, seconds, floor in rows
    )
    year_seconds = rows[-1][2]
    return f"""## The conversions report: 30 / 90 / 365 days at {per_day:,} conversions a day

{stamp()}
`GET /projects/{{id}}/conversions` as the API computes it (`conversion_report`, grouped by source / traffic
type / campaign) over one connector's calls stored as the engine stores them: each day's conversion
partition (gzip JSON Lines) with its daily summary, {project.cells} cells a day here (a cell per date × kind ×
source × traffic type × campaign × ad × keyword that occurred). The embedded S3 (moto's server) runs in its
own process. A report lists the days asked for and reads one summary per day ({READERS} at a time), or one
per calendar month wholly inside the range when it does not group by date; it never reads a conversion.
The first report over a range makes the month summaries it lacks (from the days' summaries) and stores
them; "then" is the best of five after it. The floor: GETting one tiny object per day of the range (and
one each side), the same way, in the same run — what reading one object per day costs at least.

| days | conversions | first report, s | then, s | floor, s | then ÷ floor |
|---:|---:|---:|---:|---:|---:|
{table}

**A 365-day report takes {year_seconds:.2f} s** (goal ≤ 1 s; before the summaries: 19.5 s, every
conversion decoded, measured on another day). Grouped by date as well (one summary per day,
{project.cells} cells each): {by_date:.2f} s. Flat in rows per day: the same 365 days at
{per_day // 5:,} conversions a day ({light.cells} cells a day) take {lighter:.2f} s
({lighter / year_seconds:.2f}× the {per_day:,} figure): the time follows the cells, the combinations
that occur, which stop growing once a day has seen its ads and keywords. A day stored before summaries
existed (or rewritten without one) costs one partition read the first time a report touches it, then
is summarised for good: reading and decoding 30 days of conversions, as every report did before,
takes {decoding:.2f} s in this run.
"""
