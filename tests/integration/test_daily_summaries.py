"""Daily summaries on the embedded S3 (issue 14): a report reads one summary per day and stream, lists only
the days asked for, and never counts a summary of another version of the day than the stored one."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
import pytest

from leadhub.models.conversion import Conversion, Kind, conversion_json
from leadhub.models.measures import summarise
from leadhub.reports.conversions import ReportQuery, conversion_report
from leadhub.store.daily import SOURCE_ETAG, DailySummaries, summary_key
from leadhub.store.objects import ObjectStore
from leadhub.store.partitions import CONVERSIONS, Partition, PartitionStore

pytestmark = pytest.mark.usefixtures("aws")

DAY = date(2026, 11, 3)
STATUS_TYPES = ["progress", "paid", "canceled", "not_counted", None]


def conversion(number: int, chooser: random.Random, day: date = DAY) -> Conversion:
    kind = chooser.choice(list(Kind))
    deal = kind is Kind.ORDER
    status_type = chooser.choice(STATUS_TYPES) if deal else None
    amount = round(chooser.uniform(0, 5000), 2) if deal else None
    return Conversion(
        vendor="roistat",
        stream="orders" if deal else "calls",
        vendor_id=str(number),
        vendor_account_id="acc",
        kind=kind,
        occurred_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
        local_date=day,
        source=chooser.choice(["google", "yandex", "direct"]),
        traffic_type=chooser.choice(["cpc", "organic"]),
        campaign=chooser.choice(["brand", "sale", "Неизвестная кампания (Undefined)"]),
        content=chooser.choice([None, "ad-1"]),
        keyword=chooser.choice([None, "sofa"]),
        inquiry=not deal and chooser.random() > 0.2,
        status_type=status_type,
        revenue=(amount if status_type == "paid" else 0.0) if deal else None,
        forecast_revenue=(amount if status_type in ("progress", "paid") else 0.0) if deal else None,
    )


def stored(conversions: list[Conversion]) -> list[dict[str, Any]]:
    return [orjson.loads(conversion_json(item)) for item in conversions]


def query(start: date, end: date, group_by: str = "source,kind") -> ReportQuery:
    return ReportQuery.model_validate({"from": start.isoformat(), "to": end.isoformat(), "group_by": group_by})


def partition(day: date = DAY, stream: str = "calls") -> Partition:
    return Partition(CONVERSIONS, "p1", "c1", stream, day)


def test_conversions_as_normalised_and_as_stored_summarise_alike() -> None:
    chooser = random.Random(14)
    conversions = [conversion(number, chooser) for number in range(3000)]
    cells = summarise(conversions)
    assert cells == summarise(stored(conversions))
    assert sum(cell["conversions"] for cell in cells) == 3000
    combinations = len(Kind) * 3 * 2 * 3 * 2 * 2  # kinds × sources × types × campaigns × contents × keywords
    assert len(cells) <= combinations  # a day's summary is its combinations, not its conversions


def test_a_day_stored_before_summaries_existed_is_summarised_on_first_read_and_kept() -> None:
    rows = stored([conversion(number, random.Random(number)) for number in range(200)])
    partitions = PartitionStore()
    partitions.replace(partition(), rows)
    objects = ObjectStore()
    assert not objects.exists(summary_key(partition()))

    report = conversion_report("p1", query(DAY, DAY))

    _, metadata = objects.get_with_metadata(summary_key(partition()))
    assert metadata[SOURCE_ETAG] == objects.etag(partition().key).strip('"')
    expected_inquiries = sum(1 for row in rows if row["kind"] != "order" and row["inquiry"])
    assert report.totals.inquiries == expected_inquiries
    assert report.totals.deals.total == sum(1 for row in rows if row["kind"] == "order")


def test_a_summary_of_another_version_of_the_day_is_never_counted() -> None:
    chooser = random.Random(3)
    first = [conversion(number, chooser) for number in range(100)]
    partitions, summaries = PartitionStore(), DailySummaries()
    partitions.replace(partition(), stored(first))
    summaries.record(partition(), first)
    # the day rewritten and the run killed before its summary: the summary describes the old day
    second = [conversion(number, chooser) for number in range(40)]
    partitions.replace(partition(), stored(second))

    report = conversion_report("p1", query(DAY, DAY))

    assert report.totals.inquiries == sum(1 for item in second if item.kind is not Kind.ORDER and item.inquiry)
    assert report.totals.deals.total == sum(1 for item in second if item.kind is Kind.ORDER)


def test_a_report_lists_and_reads_only_the_days_asked_for() -> None:
    chooser = random.Random(5)
    partitions = PartitionStore()
    days = [DAY + timedelta(days=offset) for offset in range(10)]
    for day in days:
        partitions.replace(partition(day), stored([conversion(1, chooser, day)]))
    partitions.replace(partition(DAY, "orders"), stored([conversion(2, chooser, DAY)]))

    read = list(DailySummaries().cells("p1", start=days[3], end=days[5], pairs=[("c1", "calls")]))

    assert [(found.stream, found.day) for found, _ in read] == [("calls", day) for day in days[3:6]]
    objects = ObjectStore()
    assert [objects.exists(summary_key(partition(day))) for day in days] == [False] * 3 + [True] * 3 + [False] * 4


def test_a_report_of_every_stream_finds_the_streams_itself() -> None:
    chooser = random.Random(6)
    partitions = PartitionStore()
    calls, orders = [conversion(1, chooser)], [conversion(2, chooser)]
    partitions.replace(partition(DAY, "calls"), stored(calls))
    partitions.replace(partition(DAY, "orders"), stored(orders))

    read = list(DailySummaries().cells("p1", start=DAY, end=DAY))

    assert [(found.stream, cells) for found, cells in read] == [
        ("calls", summarise(calls)),
        ("orders", summarise(orders)),
    ]


def test_whole_months_are_read_as_one_summary_each_and_follow_a_rewritten_day() -> None:
    chooser = random.Random(7)
    partitions = PartitionStore()
    first, last = date(2026, 8, 30), date(2026, 11, 2)
    days = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    for day in days:
        partitions.replace(partition(day), stored([conversion(number, chooser, day) for number in range(5)]))
    by_date = conversion_report("p1", query(first, last, "date,source"))

    undated = conversion_report("p1", query(first, last, "source"))

    objects = ObjectStore()
    assert sorted(objects.keys("daily/project=p1/connector=c1/stream=calls/month=")) == [
        f"daily/project=p1/connector=c1/stream=calls/month={month}/summary.jsonl" for month in ("2026-09", "2026-10")
    ]
    assert undated.totals == by_date.totals
    rewritten = [conversion(number, chooser, date(2026, 9, 15)) for number in range(50)]
    partitions.replace(partition(date(2026, 9, 15)), stored(rewritten))
    assert (
        conversion_report("p1", query(first, last, "source")).totals
        == conversion_report("p1", query(first, last, "date,source")).totals
        != by_date.totals
    )
