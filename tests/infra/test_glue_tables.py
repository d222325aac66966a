"""The Glue tables of the template read what the store writes (issue 14): the conversion partitions'
columns are the conversion's fields, the daily summaries' columns are a cell's, and both tables project
the partitions' Hive-style keys."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import orjson
import pytest

from devstack import template
from leadhub.connectors.registry import SPECS
from leadhub.models.conversion import Conversion, Kind, conversion_json
from leadhub.models.measures import summarise
from leadhub.store.daily import summary_key
from leadhub.store.partitions import CONVERSIONS, Partition

#: Written but not columns: `stream` is the partition key of the same name, `extra` is free-form.
NOT_COLUMNS = {"stream", "extra"}


def table(name: str) -> dict[str, Any]:
    found: dict[str, Any] = template.load(template.TEMPLATE)["Resources"][name]["Properties"]["TableInput"]
    return found


def columns(name: str) -> list[str]:
    return [column["Name"] for column in table(name)["StorageDescriptor"]["Columns"]]


def deal() -> Conversion:
    return Conversion(
        vendor="roistat",
        stream="orders",
        vendor_id="1",
        vendor_account_id="a",
        kind=Kind.ORDER,
        occurred_at=datetime(2026, 11, 3, 12, tzinfo=UTC),
        local_date=date(2026, 11, 3),
        source="google",
        traffic_type="cpc",
        campaign="brand",
        status_type="paid",
        revenue=10.0,
        forecast_revenue=10.0,
    )


def test_the_conversions_table_has_a_column_for_every_field_written() -> None:
    written = set(orjson.loads(conversion_json(deal())))
    assert set(columns("ConversionsTable")) == written - NOT_COLUMNS


def test_the_daily_table_has_a_column_for_every_field_of_a_cell() -> None:
    cells = summarise([deal()])
    assert columns("ConversionsDailyTable") == list(cells[0])


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("ConversionsTable", Partition(CONVERSIONS, "p", "c", "calls", date(2026, 11, 3)).key),
        ("ConversionsDailyTable", summary_key(Partition(CONVERSIONS, "p", "c", "calls", date(2026, 11, 3)))),
    ],
)
def test_a_table_projects_the_keys_the_store_writes(name: str, key: str) -> None:
    location = table(name)["Parameters"]["storage.location.template"]["Fn::Sub"]
    values = {"project": "p", "connector": "c", "stream": "calls", "date": "2026-11-03"}
    folder = location.replace("s3://${DataBucket}/", "")
    for partition_key, value in values.items():
        folder = folder.replace(f"${{!{partition_key}}}", value)
    assert key.startswith(folder)
    assert [column["Name"] for column in table(name)["PartitionKeys"]] == list(values)


@pytest.mark.parametrize("name", ["ConversionsTable", "ConversionsDailyTable"])
def test_a_table_projects_every_stream_a_vendor_extracts(name: str) -> None:
    projected = set(table(name)["Parameters"]["projection.stream.values"].split(","))
    extracted = {stream.name for spec in SPECS.values() for stream in spec.streams if stream.kpi_kind is not None}
    assert extracted <= projected, f"Athena would not see {sorted(extracted - projected)}"
