"""The report a marketer reads (issue 10): the XLSX read back with openpyxl — dates are dates in date
order, codes under their Russian names, a chart over every row or saying "топ N из M" with unique
labels, a line over time for a date grouping, A4 landscape fitted to the page width; and the measures
never summed into one figure."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from typing import Any

import openpyxl
import pytest
from openpyxl.chart import BarChart, LineChart

from leadhub.models.measures import summarise
from leadhub.reports.conversions import Report, ReportQuery, aggregate, conversion_report
from leadhub.reports.xlsx import CHART_ROWS, report_xlsx
from leadhub.store.partitions import CONVERSIONS, Partition


class Summaries:
    """Stands in for the daily summaries: one connector's stream, its rows summarised as a partition's are."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows

    def cells(self, *_: Any, **__: Any) -> Iterator[tuple[Partition, list[dict[str, Any]]]]:
        yield Partition(CONVERSIONS, "p1", "c1", "calls", date(2026, 11, 3)), summarise(self.rows)


def conversion(day: str, kind: str = "call", **fields: Any) -> dict[str, Any]:
    return {
        "vendor": "roistat",
        "kind": kind,
        "local_date": day,
        "source": "google",
        "traffic_type": "cpc",
        "campaign": "brand",
        **fields,
    }


def report(rows: list[dict[str, Any]], group_by: str, start: str = "2026-11-01", end: str = "2026-11-05") -> Report:
    query = ReportQuery.model_validate({"from": start, "to": end, "group_by": group_by})
    return conversion_report("p1", query, Summaries(rows))  # type: ignore[arg-type]


def book(built: Report) -> Any:
    return openpyxl.load_workbook(io.BytesIO(report_xlsx(built, project_name="Shop")))


# a call, its deal (paid) and the artificial proxy lead Roistat made for the deal: one inquiry
ONE_INQUIRY = [
    conversion("2026-11-03"),
    conversion("2026-11-03", "order", status_type="paid", revenue=100.0),
    conversion("2026-11-03", "form", extra={"artificial": True}),
    conversion("2026-11-03", "order", status_type="canceled", revenue=600.0),
    conversion("2026-11-03", "order", status_type="progress", revenue=50.0),
]


def test_a_call_its_deal_and_the_deals_artificial_lead_are_one_inquiry_and_one_deal() -> None:
    totals = report(ONE_INQUIRY, "source").totals
    assert totals.inquiries == 1
    assert (totals.deals.paid, totals.deals.canceled, totals.deals.progress, totals.deals.total) == (1, 1, 1, 3)
    assert totals.revenue == 100.0  # paid deals only, not the cancelled 600
    assert totals.forecast_revenue == 150.0  # in progress + paid


def test_the_inquiry_flag_of_a_conversion_is_read_when_it_carries_one() -> None:
    rows = [conversion("2026-11-03", "form", inquiry=False), conversion("2026-11-03", "chat", inquiry=True)]
    assert report(rows, "source").totals.inquiries == 1


def test_rows_grouped_by_date_are_date_cells_in_date_order() -> None:
    rows = [conversion(day) for day in ("2026-11-04", "2026-11-02", "2026-11-04", "2026-11-01", "2026-11-02")]
    sheet = book(report(rows, "date,kind"))["Отчёт"]
    values = [row[:3] for row in sheet.iter_rows(min_row=2, max_row=4, values_only=True)]
    assert [v[0].date() for v in values] == [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 4)]
    assert sheet["A2"].number_format == "yyyy-mm-dd"
    assert {v[1] for v in values} == {"Звонок"}
    assert [v[2] for v in values] == [1, 2, 2]


def test_every_code_has_its_russian_name() -> None:
    rows = [conversion("2026-11-02", kind) for kind in ("call", "form", "chat", "order")]
    rows.append(conversion("2026-11-02", source="(none)", traffic_type="(none)"))
    sheet = book(report(rows, "kind,vendor,source"))["Отчёт"]
    cells = {value for row in sheet.iter_rows(min_row=2, values_only=True) for value in row[:3]}
    assert {"Звонок", "Заявка с сайта", "Чат", "Сделка", "Roistat", "(не задано)"} <= cells
    assert not {"call", "form", "chat", "order", "roistat", "(none)"} & cells


def test_a_date_grouping_draws_a_line_over_every_day_of_the_range() -> None:
    rows = [conversion("2026-11-02"), conversion("2026-11-04", source="yandex")]
    chart_sheet = book(report(rows, "date,source"))["Диаграмма"]
    [chart] = chart_sheet._charts
    assert isinstance(chart, LineChart)
    days = [row[0].date() for row in chart_sheet.iter_rows(min_row=2, values_only=True)]
    assert days == [date(2026, 11, d) for d in range(1, 6)]


@pytest.mark.parametrize("sources", [3, CHART_ROWS + 7])
def test_the_chart_covers_every_row_or_says_top_n_of_m_with_unique_labels(sources: int) -> None:
    rows = [conversion("2026-11-02", source=f"s{n}") for n in range(sources) for _ in range(n + 1)]
    rows += [conversion("2026-11-02", source="s1", campaign="other")]  # same source, another campaign
    workbook = book(report(rows, "source,campaign"))
    chart_sheet = workbook["Диаграмма"]
    [chart] = chart_sheet._charts
    assert isinstance(chart, BarChart)
    labels = [row[0] for row in chart_sheet.iter_rows(min_row=2, values_only=True)]
    assert len(labels) == len(set(labels)) == min(sources + 1, CHART_ROWS)
    title = "".join(run.t for p in chart.title.tx.rich.p for run in p.r)
    total = sources + 1
    assert title == (
        f"Обращения: все {total} строк" if total <= CHART_ROWS else f"Обращения: топ {CHART_ROWS} из {total}"
    )
    if total <= CHART_ROWS:
        assert "s1 / other" in labels and "s1 / brand" in labels  # one source, two campaigns: two labels


def test_every_sheet_prints_on_a4_landscape_fitted_to_the_page_width() -> None:
    workbook = book(report(ONE_INQUIRY, "source"))
    for sheet in workbook.worksheets:
        assert sheet.page_setup.orientation == "landscape"
        assert int(sheet.page_setup.paperSize) == 9  # A4
        assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
        assert int(sheet.page_setup.fitToWidth) == 1
        assert int(sheet.page_setup.fitToHeight) == 0


def test_the_measures_have_columns_of_their_own() -> None:
    sheet = book(report(ONE_INQUIRY, "source"))["Отчёт"]
    header = [cell.value for cell in sheet[1]]
    assert header == [
        "Источник трафика", "Обращения", "Сделки", "В работе", "Оплачено", "Отменено", "Не учитывается",
        "Выручка", "Прогноз выручки",
    ]  # fmt: skip
    assert [cell.value for cell in sheet[2]][1:] == [1, 3, 1, 1, 1, 0, 100.0, 150.0]


def test_aggregate_keeps_connectors_apart() -> None:
    query = ReportQuery.model_validate({"from": "2026-11-01", "to": "2026-11-05", "group_by": "source"})
    cells = [
        *((cell, "roistat-1", "calls") for cell in summarise([conversion("2026-11-02")])),
        *((cell, "rs", "calls") for cell in summarise([conversion("2026-11-02", vendor="ringostat")])),
    ]
    _, per_connector = aggregate(cells, query)
    assert {key: tally.inquiries for key, tally in per_connector.items()} == {
        ("roistat-1", "roistat"): 1,
        ("rs", "ringostat"): 1,
    }
