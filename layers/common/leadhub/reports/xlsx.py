"""The conversions report as an XLSX: the table, typed and frozen under its header, and a chart."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font

from leadhub.reports.conversions import DIMENSIONS, Report

CHART_ROWS = 20


def report_xlsx(report: Report, *, project_name: str) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Конверсии"
    headers = [DIMENSIONS[name] for name in report.group_by] + ["Конверсии", "Выручка"]
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in report.rows:
        sheet.append([row.dimensions[name] for name in report.group_by] + [row.conversions, row.revenue])
        for cell in sheet[sheet.max_row][: len(report.group_by)]:
            cell.data_type = "s"  # never a formula, whatever a campaign is called
    sheet.append(
        [f"Итого {report.date_from:%d.%m.%Y}–{report.date_to:%d.%m.%Y}"]
        + [""] * (len(report.group_by) - 1)
        + [report.total_conversions, report.total_revenue]
    )
    sheet[sheet.max_row][0].font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for index, header in enumerate(headers, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = max(14, len(header) + 4)
    for row in sheet.iter_rows(min_row=2, min_col=len(headers), max_col=len(headers)):
        row[0].number_format = "#,##0.00"
    if report.rows:
        _chart(sheet, report, len(headers))
    book.properties.title = f"Конверсии — {project_name}"
    book.properties.creator = "Leadhub"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _chart(sheet: object, report: Report, width: int) -> None:
    chart = BarChart()
    chart.type = "bar"
    chart.title = "Конверсии"
    chart.y_axis.title = "Конверсии"
    last = 1 + min(len(report.rows), CHART_ROWS)
    counts = Reference(sheet, min_col=width - 1, min_row=1, max_row=last)
    labels = Reference(sheet, min_col=len(report.group_by), min_row=2, max_row=last)
    chart.add_data(counts, titles_from_data=True)
    chart.set_categories(labels)
    chart.height, chart.width = 12, 24
    sheet.add_chart(chart, f"{sheet.cell(row=1, column=width + 2).column_letter}2")  # type: ignore[attr-defined]
