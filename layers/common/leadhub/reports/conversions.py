"""Conversions of a project, counted by the dimensions a marketer groups by.

The partitions are cut by the vendor account's day; a report groups by the conversion's date in
the project's time zone, so it reads one day more on each side and filters on `local_date`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from leadhub.models.conversion import Kind
from leadhub.store.partitions import CONVERSIONS, PartitionStore

Dimension = Literal[
    "date", "source", "traffic_type", "campaign", "content", "keyword", "kind", "vendor", "connector", "stream"
]
#: Each dimension with its column header in the XLSX and the UI.
DIMENSIONS: dict[Dimension, str] = {
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
DEFAULT_GROUP_BY: list[Dimension] = ["source", "traffic_type", "campaign"]
_ONE_OF = "|".join(DIMENSIONS)
#: `group_by` as a query parameter: dimensions separated by commas.
GROUP_BY_LIST = rf"^({_ONE_OF})(,({_ONE_OF}))*$"
GROUP_BY_DESCRIPTION = "What to count by, in this order (a repeated dimension counts once): " + ", ".join(
    f"`{name}` «{label}»" for name, label in DIMENSIONS.items()
)
FROM_DESCRIPTION = "The first day counted, in the project's time zone."
TO_DESCRIPTION = "The last day counted, inclusive. A `to` before `from` is an empty range: no rows."


def _written_date(value: Any) -> Any:
    """A date is written YYYY-MM-DD: a number is not a date (pydantic would read 0 as 1970-01-01)."""
    if not isinstance(value, str | date):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_written_date)]


class ReportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    date_from: IsoDate = Field(alias="from", description=FROM_DESCRIPTION)
    date_to: IsoDate = Field(alias="to", description=TO_DESCRIPTION)
    group_by: list[Dimension] = Field(
        default_factory=lambda: list(DEFAULT_GROUP_BY),
        min_length=1,
        max_length=50,
        description=GROUP_BY_DESCRIPTION,
    )
    kind: Kind | None = Field(default=None, description="Count only conversions of this kind.")

    @field_validator("group_by", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("group_by")
    @classmethod
    def _once_each(cls, value: list[Dimension]) -> list[Dimension]:
        return list(dict.fromkeys(value))


class ReportRow(BaseModel):
    dimensions: dict[str, str]
    conversions: int
    revenue: float


class Report(BaseModel):
    project_id: str
    date_from: date = Field(serialization_alias="from")
    date_to: date = Field(serialization_alias="to")
    group_by: list[Dimension]
    kind: Kind | None
    rows: list[ReportRow]
    total_conversions: int
    total_revenue: float
    partial: bool = Field(
        default=False, description="Some days of the range are not loaded yet (a first load under way or stopped)."
    )
    missing_days: list[date] = Field(default_factory=list, description="The days of the range not loaded yet.")
    inactive_connectors: list[str] = Field(
        default_factory=list, description="Deactivated connectors whose kept data the report counts."
    )


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


def _day_before(day: date) -> date:
    return day if day == date.min else day - timedelta(days=1)


def _day_after(day: date) -> date:
    return day if day == date.max else day + timedelta(days=1)


def conversion_report(
    project_id: str,
    query: ReportQuery,
    partitions: PartitionStore | None = None,
    visible: frozenset[tuple[str, str]] | None = None,
) -> Report:
    """`visible`: the (connector, stream) pairs that count (None: every stored partition)."""
    partitions = partitions or PartitionStore()

    def rows() -> Iterable[tuple[dict[str, Any], str, str]]:
        found = partitions.partitions(
            CONVERSIONS, project_id, start=_day_before(query.date_from), end=_day_after(query.date_to)
        )
        for partition in found:
            if visible is not None and (partition.connector_id, partition.stream) not in visible:
                continue
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
