"""Conversions of a project, counted by the dimensions a marketer groups by.

The partitions are cut by the vendor account's day; a report groups by the conversion's date in
the project's time zone, so it reads one day more on each side and filters on `local_date`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from leadhub.models.conversion import Kind
from leadhub.store.partitions import CONVERSIONS, PartitionStore

DIMENSIONS = {
    "date": "Дата",
    "source": "Источник трафика",
    "traffic_type": "Тип трафика",
    "campaign": "Кампания",
    "content": "Объявление",
    "keyword": "Ключевое слово",
    "kind": "Тип конверсии",
    "vendor": "Система",
    "connector": "Коннектор",
    "stream": "Поток",
}
MAX_DAYS = 366


class ReportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    date_from: date = Field(alias="from")
    date_to: date = Field(alias="to")
    group_by: list[str] = Field(default_factory=lambda: ["source", "traffic_type", "campaign"])
    kind: Kind | None = None

    @field_validator("group_by", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("group_by")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in DIMENSIONS]
        if unknown:
            raise ValueError(f"cannot group by {unknown}; choose from {sorted(DIMENSIONS)}")
        if not value or len(set(value)) != len(value):
            raise ValueError("group_by needs one or more distinct dimensions")
        return value

    @model_validator(mode="after")
    def _range(self) -> ReportQuery:
        if self.date_to < self.date_from:
            raise ValueError("'to' is before 'from'")
        if (self.date_to - self.date_from).days >= MAX_DAYS:
            raise ValueError(f"a report covers at most {MAX_DAYS} days")
        return self


class ReportRow(BaseModel):
    dimensions: dict[str, str]
    conversions: int
    revenue: float


class Report(BaseModel):
    project_id: str
    date_from: date = Field(serialization_alias="from")
    date_to: date = Field(serialization_alias="to")
    group_by: list[str]
    kind: Kind | None
    rows: list[ReportRow]
    total_conversions: int
    total_revenue: float


def _value(row: dict[str, Any], dimension: str, connector: str, stream: str) -> str:
    if dimension == "date":
        return str(row["local_date"])
    if dimension == "connector":
        return connector
    if dimension == "stream":
        return stream
    value = row.get(dimension)
    return "" if value is None else str(value)


def aggregate(
    rows: Iterable[tuple[dict[str, Any], str, str]], query: ReportQuery
) -> dict[tuple[str, ...], list[float]]:
    """(conversion, connector, stream) rows → {dimension values: [count, revenue]}."""
    first, last = query.date_from.isoformat(), query.date_to.isoformat()
    totals: dict[tuple[str, ...], list[float]] = defaultdict(lambda: [0, 0.0])
    for row, connector, stream in rows:
        if not first <= row["local_date"] <= last:
            continue
        if query.kind is not None and row["kind"] != query.kind.value:
            continue
        key = tuple(_value(row, dimension, connector, stream) for dimension in query.group_by)
        cell = totals[key]
        cell[0] += 1
        cell[1] += float(row.get("revenue") or 0.0)
    return totals


def conversion_report(project_id: str, query: ReportQuery, partitions: PartitionStore | None = None) -> Report:
    partitions = partitions or PartitionStore()
    one_day = timedelta(days=1)

    def rows() -> Iterable[tuple[dict[str, Any], str, str]]:
        found = partitions.partitions(
            CONVERSIONS, project_id, start=query.date_from - one_day, end=query.date_to + one_day
        )
        for partition in found:
            for row in partitions.read(partition):
                yield row, partition.connector_id, partition.stream

    totals = aggregate(rows(), query)
    report_rows = [
        ReportRow(dimensions=dict(zip(query.group_by, key, strict=True)), conversions=int(cell[0]), revenue=cell[1])
        for key, cell in sorted(totals.items(), key=lambda item: (-item[1][0], item[0]))
    ]
    return Report(
        project_id=project_id,
        date_from=query.date_from,
        date_to=query.date_to,
        group_by=query.group_by,
        kind=query.kind,
        rows=report_rows,
        total_conversions=sum(row.conversions for row in report_rows),
        total_revenue=round(sum(row.revenue for row in report_rows), 2),
    )
