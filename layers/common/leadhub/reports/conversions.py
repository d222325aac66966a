"""Conversions of a project, measured by the dimensions a marketer groups by.

The measures are defined once (`models/measures.Tally`) and never summed into one figure: inquiries
(обращения), deals by status group, revenue (paid deals) and forecast revenue (in progress + paid).
A report adds up the daily summaries of the partitions (`store/daily`), not the conversions: its
time grows with the days asked for, not with the conversions in them.

The partitions are cut by the vendor account's day; a report groups by the conversion's date in
the project's time zone, so it reads one day more on each side and filters on `local_date`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, field_validator

from leadhub.models.base import DeferredModel
from leadhub.models.conversion import Kind
from leadhub.models.measures import Tally
from leadhub.store.daily import DailySummaries

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


class ReportQuery(DeferredModel):
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


#: Deal status groups (`Conversion.status_type`), in the order a funnel reads, with their names.
STATUS_GROUPS: dict[str, str] = {
    "progress": "В работе",
    "paid": "Оплачено",
    "canceled": "Отменено",
    "not_counted": "Не учитывается",
}

MEASURES_DESCRIPTION = (
    "Measures, never summed into one figure: `inquiries` «Обращения» — calls and proxy leads (forms, chats), "
    "each inquiry once: a deal is not an inquiry, nor is a proxy lead Roistat creates for a CRM deal that had "
    "none, and the connector's Performance KPI mode (all / tagged / unique) is applied; `deals` «Сделки» by "
    "status group (`progress` «В работе», `paid` «Оплачено», `canceled` «Отменено», `not_counted` «Не "
    "учитывается», counted only when the connector's toggle keeps them); `revenue` «Выручка» — the amount of "
    "paid deals; `forecast_revenue` «Прогноз выручки» — the amount of deals in progress and paid."
)


class Deals(DeferredModel):
    """Deals counted by status group."""

    progress: int = Field(default=0, description="«В работе».")
    paid: int = Field(default=0, description="«Оплачено».")
    canceled: int = Field(default=0, description="«Отменено».")
    not_counted: int = Field(default=0, description="«Не учитывается» (only when the connector keeps them).")
    total: int = Field(default=0, description="Every deal counted, whatever its group.")


class Measures(DeferredModel):
    inquiries: int = Field(default=0, description="«Обращения»: calls and proxy leads, each inquiry once.")
    deals: Deals = Field(default_factory=Deals, description="«Сделки» by status group.")
    revenue: float = Field(default=0.0, description="«Выручка»: the amount of paid deals.")
    forecast_revenue: float = Field(default=0.0, description="«Прогноз выручки»: deals in progress and paid.")


class ReportRow(Measures):
    dimensions: dict[str, str]


class ConnectorMeasures(Measures):
    """One connector's share of the report, so inquiries of two connectors (Roistat and Ringostat calls
    in one project) stay visible apart."""

    connector_id: str
    vendor: str
    name: str | None = None


class Report(DeferredModel):
    project_id: str
    date_from: date = Field(serialization_alias="from")
    date_to: date = Field(serialization_alias="to")
    group_by: list[Dimension]
    kind: Kind | None
    rows: list[ReportRow]
    totals: Measures = Field(description=MEASURES_DESCRIPTION)
    connectors: list[ConnectorMeasures] = Field(
        default_factory=list, description="The same measures per connector, most inquiries first."
    )
    warnings: list[str] = Field(
        default_factory=list,
        description="Connectors of the project that deliver the same kind of KPI (seed 001): their inquiries "
        "may count one contact twice, so the report shows them per connector as well.",
    )
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


Totals = dict[tuple[str, ...], Tally]


def aggregate(cells: Iterable[tuple[dict[str, Any], str, str]], query: ReportQuery) -> tuple[Totals, Totals]:
    """(cell, connector, stream) of the daily summaries → the measures per dimension values, and per
    connector (keyed by (connector id, vendor))."""
    first, last = query.date_from.isoformat(), query.date_to.isoformat()
    totals: Totals = defaultdict(Tally)
    per_connector: Totals = defaultdict(Tally)
    for cell, connector, stream in cells:
        day = cell.get("local_date")  # a month's cells have none: they are inside the range
        if day is not None and not first <= day <= last:
            continue
        if query.kind is not None and cell["kind"] != query.kind.value:
            continue
        tally = Tally.of_cell(cell)
        totals[tuple(_value(cell, dimension, connector, stream) for dimension in query.group_by)].absorb(tally)
        per_connector[(connector, str(cell.get("vendor") or ""))].absorb(tally)
    return totals, per_connector


def _row_order(query: ReportQuery) -> Any:
    """Grouped by date: by date, then most inquiries first; otherwise most inquiries first."""
    position = query.group_by.index("date") if "date" in query.group_by else None

    def key(item: tuple[tuple[str, ...], Tally]) -> tuple[Any, ...]:
        values, tally = item
        busy = (-tally.inquiries, -sum(tally.deals.values()), values)
        return (values[position], *busy) if position is not None else busy

    return key


def _day_before(day: date) -> date:
    return day if day == date.min else day - timedelta(days=1)


def _day_after(day: date) -> date:
    return day if day == date.max else day + timedelta(days=1)


def conversion_report(
    project_id: str,
    query: ReportQuery,
    summaries: DailySummaries | None = None,
    visible: frozenset[tuple[str, str]] | None = None,
) -> Report:
    """`visible`: the (connector, stream) pairs that count (None: every stored partition). Reads one daily
    summary per day and (connector, stream), never the conversions themselves (`store/daily`)."""
    summaries = summaries or DailySummaries()

    def cells() -> Iterable[tuple[dict[str, Any], str, str]]:
        whole = None if "date" in query.group_by else (query.date_from, query.date_to)
        start, end = _day_before(query.date_from), _day_after(query.date_to)
        found = summaries.cells(project_id, start=start, end=end, pairs=visible, undated_within=whole)
        for partition, day in found:
            for cell in day:
                yield cell, partition.connector_id, partition.stream

    totals, per_connector = aggregate(cells(), query)
    everything = Tally()
    for tally in totals.values():
        everything.absorb(tally)
    report_rows = [
        ReportRow(dimensions=dict(zip(query.group_by, key, strict=True)), **tally.measures())
        for key, tally in sorted(totals.items(), key=_row_order(query))
    ]
    connectors = [
        ConnectorMeasures(connector_id=connector, vendor=vendor, **tally.measures())
        for (connector, vendor), tally in sorted(per_connector.items(), key=lambda item: (-item[1].inquiries, item[0]))
    ]
    return Report(
        project_id=project_id,
        date_from=query.date_from,
        date_to=query.date_to,
        group_by=query.group_by,
        kind=query.kind,
        rows=report_rows,
        totals=Measures(**everything.measures()),
        connectors=connectors,
    )
