"""The measures of conversions, defined once, and a day's conversions summed into cells.

Inquiries (обращения), deals by status group, revenue (paid deals) and forecast revenue (in progress
+ paid) are never summed into one figure. A report never needs single conversions, only these
measures per combination of the dimensions it groups by, so each day's conversion partition is
summarised once, when it is written, into one cell per combination of `CELL_DIMENSIONS`: a report
then reads a handful of cells per day instead of every conversion (constant in rows per day).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from operator import attrgetter, itemgetter
from typing import Any

from leadhub.models.conversion import FORECAST_GROUPS, NOT_COUNTED, PAID, STATUS_GROUPS, Conversion, Kind

DEAL = Kind.ORDER.value
#: Every status group a deal is counted in, in the order a funnel reads.
DEAL_GROUPS = (*STATUS_GROUPS, NOT_COUNTED)
#: What a cell is keyed by: every dimension a report groups or filters by that a conversion carries
#: (connector and stream are the partition's own).
CELL_DIMENSIONS = ("local_date", "kind", "vendor", "source", "traffic_type", "campaign", "content", "keyword")
_ABSENT = object()


class Tally:
    """The measures of a set of conversions: counted per kind of conversion, added up per cell."""

    __slots__ = ("deals", "forecast_revenue", "inquiries", "revenue")

    def __init__(self) -> None:
        self.inquiries = 0
        self.deals: dict[str, int] = dict.fromkeys(DEAL_GROUPS, 0)
        self.revenue = 0.0
        self.forecast_revenue = 0.0

    def count(self, kind: str, inquiry: bool, status_type: Any, revenue: Any, forecast: Any, *, times: int = 1) -> None:
        """`times` conversions alike in these fields. `forecast` is `_ABSENT` for rows stored before
        forecast revenue was: then a deal in progress or paid forecasts its amount."""
        if kind == DEAL:
            group = status_type or NOT_COUNTED
            self.deals[group if group in self.deals else NOT_COUNTED] += times
            amount = float(revenue or 0.0)
            if group == PAID:
                self.revenue += amount * times
            if forecast is not _ABSENT:
                self.forecast_revenue += float(forecast or 0.0) * times
            elif group in FORECAST_GROUPS:
                self.forecast_revenue += amount * times
        elif inquiry:
            self.inquiries += times

    def absorb(self, other: Tally) -> None:
        for group, count in other.deals.items():
            self.deals[group] += count
        self.inquiries += other.inquiries
        self.revenue += other.revenue
        self.forecast_revenue += other.forecast_revenue

    def measures(self) -> dict[str, Any]:
        return {
            "inquiries": self.inquiries,
            "deals": {**self.deals, "total": sum(self.deals.values())},
            "revenue": round(self.revenue, 2),
            "forecast_revenue": round(self.forecast_revenue, 2),
        }

    def cell_measures(self) -> dict[str, Any]:
        """The measures as a cell stores them: flat (one column each, as Athena reads them), unrounded."""
        deals = {f"deals_{group}": count for group, count in self.deals.items()}
        return {
            "inquiries": self.inquiries,
            **deals,
            "revenue": self.revenue,
            "forecast_revenue": self.forecast_revenue,
        }

    @classmethod
    def of_cell(cls, cell: dict[str, Any]) -> Tally:
        tally = cls()
        tally.inquiries = cell["inquiries"]
        tally.deals = {group: cell[f"deals_{group}"] for group in DEAL_GROUPS}
        tally.revenue = cell["revenue"]
        tally.forecast_revenue = cell["forecast_revenue"]
        return tally


def is_inquiry(row: dict[str, Any]) -> bool:
    """A call or a proxy lead that is an inquiry of its own: not a deal, not a proxy lead Roistat made up
    for a CRM deal (`inquiry` false, or `extra.artificial` on rows stored before that field)."""
    if "inquiry" in row:
        return bool(row["inquiry"])
    return row["kind"] != DEAL and not (row.get("extra") or {}).get("artificial")


#: A conversion's cell dimensions, then what its measures are made of: one C call per conversion.
_CONVERSION_FIELDS = attrgetter(*CELL_DIMENSIONS, "kind", "inquiry", "status_type", "revenue", "forecast_revenue")
#: The same of a row holding every field (as normalised, or stored since forecast revenue was): one C
#: call per row, where reading field by field in Python costs more than the rest of the summary.
_ROW_FIELDS = itemgetter(*CELL_DIMENSIONS, "kind", "inquiry", "status_type", "revenue", "forecast_revenue")
_WIDTH = len(CELL_DIMENSIONS)


def _stored_fields(row: dict[str, Any]) -> tuple[Any, ...]:
    forecast = row.get("forecast_revenue", _ABSENT)
    dimensions = tuple(row.get(name) for name in CELL_DIMENSIONS)
    return (*dimensions, row["kind"], is_inquiry(row), row.get("status_type"), row.get("revenue"), forecast)


def summarise(conversions: Iterable[Conversion | dict[str, Any]]) -> list[dict[str, Any]]:
    """A day's conversions (models as normalised, or rows as stored) → its cells, in a stable order.

    Conversions alike in every field that matters are counted together first (a Counter over
    tuples, in C), so the Python work is per distinct combination, not per conversion."""
    alike: Counter[tuple[Any, ...]] = Counter()
    models = list(conversions)
    if models and isinstance(models[0], Conversion):
        alike.update(map(_CONVERSION_FIELDS, models))
    else:
        try:
            alike.update(map(_ROW_FIELDS, models))  # type: ignore[arg-type]
        except KeyError:  # rows stored before some field was: each read field by field
            alike.clear()
            alike.update(_stored_fields(row) for row in models)  # type: ignore[arg-type]
    cells: dict[tuple[str | None, ...], tuple[Tally, int]] = {}
    for fields, times in alike.items():
        dimensions = tuple(None if value is None else str(value) for value in fields[:_WIDTH])
        tally, counted = cells.get(dimensions) or (Tally(), 0)
        tally.count(str(fields[_WIDTH]), *fields[_WIDTH + 1 :], times=times)
        cells[dimensions] = (tally, counted + times)
    return _as_cells(CELL_DIMENSIONS, sorted(cells.items(), key=lambda item: [str(v) for v in item[0]]))


def _as_cells(
    names: tuple[str, ...], tallies: Iterable[tuple[tuple[Any, ...], tuple[Tally, int]]]
) -> list[dict[str, Any]]:
    return [
        {**dict(zip(names, dimensions, strict=True)), "conversions": counted, **tally.cell_measures()}
        for dimensions, (tally, counted) in tallies
    ]


def undated(cells: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Cells of many days as one period's: alike but for their date, they become one cell without a date."""
    merged: dict[tuple[Any, ...], tuple[Tally, int]] = {}
    for cell in cells:
        dimensions = tuple(cell[name] for name in CELL_DIMENSIONS[1:])
        tally, counted = merged.get(dimensions) or (Tally(), 0)
        tally.absorb(Tally.of_cell(cell))
        merged[dimensions] = (tally, counted + cell["conversions"])
    return _as_cells(CELL_DIMENSIONS[1:], merged.items())
