"""The conversions report as an XLSX a marketer reads and prints.

- The table: one row per combination of the grouped dimensions, each code under its Russian name
  (`call` → «Звонок»), dates as date cells, rows grouped by date in date order, then the measures
  (inquiries, deals by status group, revenue, forecast revenue) and a total row; frozen header.
- The chart, on a sheet of its own with the data it draws: grouped by date, a line of inquiries
  (and deals) over every day of the range; otherwise bars of inquiries per row, each labelled with
  all its dimensions (so no two labels read alike), every row or, past `CHART_ROWS`, the top ones,
  and the title says "топ N из M".
- Every sheet prints on A4 landscape, fitted to the page width.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from leadhub.exports.xlsx import DATE_FORMAT
from leadhub.reports.conversions import DIMENSIONS, STATUS_GROUPS, Measures, Report, ReportRow
from leadhub.reports.labels import label

CHART_ROWS = 20
#: A date chart draws every day of a range up to this long; longer, only the days with data.
CHART_DAYS = 400
MONEY_FORMAT = "#,##0.00"
MEASURE_HEADERS = ["Обращения", "Сделки", *STATUS_GROUPS.values(), "Выручка", "Прогноз выручки"]
LABEL_SEPARATOR = " / "


def report_xlsx(report: Report, *, project_name: str) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Отчёт"
    names = {c.connector_id: c.name for c in report.connectors if c.name}
    _table(sheet, report, names)
    chart_sheet = book.create_sheet("Диаграмма")
    if "date" in report.group_by:
        _date_chart(chart_sheet, report)
    elif report.rows:
        _bar_chart(chart_sheet, report, names)
    for each in book.worksheets:
        _print_setup(each)
    book.properties.title = f"Конверсии — {project_name}"
    book.properties.creator = "Leadhub"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _measures(measures: Measures) -> list[Any]:
    deals = measures.deals
    groups = [deals.progress, deals.paid, deals.canceled, deals.not_counted]
    return [measures.inquiries, deals.total, *groups, measures.revenue, measures.forecast_revenue]


def _cell_value(dimension: str, code: str, names: dict[str, str]) -> Any:
    return date.fromisoformat(code) if dimension == "date" else label(dimension, code, connector_names=names)


def _table(sheet: Worksheet, report: Report, names: dict[str, str]) -> None:
    headers = [DIMENSIONS[name] for name in report.group_by] + MEASURE_HEADERS
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    width = len(report.group_by)
    for row in report.rows:
        values = [_cell_value(name, row.dimensions[name], names) for name in report.group_by]
        sheet.append(values + _measures(row))
        for cell, name in zip(sheet[sheet.max_row][:width], report.group_by, strict=True):
            if name == "date":
                cell.number_format = DATE_FORMAT
            else:
                cell.data_type = "s"  # never a formula, whatever a campaign is called
    total = f"Итого {report.date_from:%d.%m.%Y}–{report.date_to:%d.%m.%Y}"
    sheet.append([total] + [None] * (width - 1) + _measures(report.totals))
    sheet[sheet.max_row][0].font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for index, header in enumerate(headers, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = max(14, len(header) + 4)
    for money_column in (len(headers) - 1, len(headers)):
        for (cell,) in sheet.iter_rows(min_row=2, min_col=money_column, max_col=money_column):
            cell.number_format = MONEY_FORMAT
    if report.warnings:
        sheet.append([])
        for warning in report.warnings:
            sheet.append([warning])


def _date_chart(sheet: Worksheet, report: Report) -> None:
    """Inquiries and deals per day over the whole range: a line over time."""
    by_day: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in report.rows:
        counts = by_day[row.dimensions["date"]]
        counts[0] += row.inquiries
        counts[1] += row.deals.total
    sheet.append(["Дата", "Обращения", "Сделки"])
    for day in _chart_days(report, by_day):
        inquiries, deals = by_day.get(day.isoformat(), [0, 0])
        sheet.append([day, inquiries, deals])
        sheet.cell(row=sheet.max_row, column=1).number_format = DATE_FORMAT
    if sheet.max_row < 2:
        return
    chart = LineChart()
    chart.title = "Обращения и сделки по дням"
    chart.y_axis.title = "Количество"
    chart.x_axis.title = "Дата"
    chart.x_axis.number_format = DATE_FORMAT
    chart.add_data(Reference(sheet, min_col=2, max_col=3, min_row=1, max_row=sheet.max_row), titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=sheet.max_row))
    chart.height, chart.width = 12, 24
    sheet.add_chart(chart, "E2")


def _chart_days(report: Report, by_day: dict[str, list[int]]) -> list[date]:
    span = (report.date_to - report.date_from).days + 1
    if 0 < span <= CHART_DAYS:
        return [report.date_from + timedelta(days=n) for n in range(span)]
    return sorted(date.fromisoformat(day) for day in by_day)


def _bar_chart(sheet: Worksheet, report: Report, names: dict[str, str]) -> None:
    """Inquiries per row, the busiest first, each bar labelled with every dimension of its row."""
    ranked = sorted(report.rows, key=lambda row: -row.inquiries)
    shown = ranked[:CHART_ROWS]
    sheet.append(["Строка отчёта", "Обращения"])
    for text, row in zip(_unique_labels(shown, report.group_by, names), shown, strict=True):
        sheet.append([text, row.inquiries])
        sheet.cell(row=sheet.max_row, column=1).data_type = "s"
    chart = BarChart()
    chart.type = "bar"
    total = len(report.rows)
    chart.title = f"Обращения: все {total} строк" if len(shown) == total else f"Обращения: топ {len(shown)} из {total}"
    chart.y_axis.title = "Обращения"
    chart.add_data(Reference(sheet, min_col=2, min_row=1, max_row=sheet.max_row), titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=sheet.max_row))
    chart.height, chart.width = 12, 24
    sheet.column_dimensions["A"].width = 50
    sheet.add_chart(chart, "D2")


def _unique_labels(rows: list[ReportRow], group_by: Sequence[str], names: dict[str, str]) -> list[str]:
    labels: list[str] = []
    used: set[str] = set()
    for row in rows:
        text = LABEL_SEPARATOR.join(label(name, row.dimensions[name], connector_names=names) for name in group_by)
        candidate, n = text, 1
        while candidate in used:  # two codes can share a name, e.g. "" and "(none)"
            n += 1
            candidate = f"{text} ({n})"
        used.add(candidate)
        labels.append(candidate)
    return labels


def _print_setup(sheet: Worksheet) -> None:
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as the rows need
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"
