"""The plan template, a filled-in copy read back (with rows and cells named), and the result file."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from leadhub.plans import rules, sheets
from leadhub.plans.validate import check_items


def filled(rows: list[list[Any]], headers: list[str] | None = None) -> bytes:
    """The template with `rows` typed in under the header, as a user would."""
    workbook = load_workbook(io.BytesIO(sheets.template()))
    sheet = workbook.worksheets[0]
    if headers is not None:
        for column, header in enumerate(headers, start=1):
            sheet.cell(row=1, column=column, value=header)
    for number, values in enumerate(rows, start=2):
        for column, value in enumerate(values, start=1):
            sheet.cell(row=number, column=column, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def row(**changes: Any) -> list[Any]:
    values = {
        "dateFrom": "01-04-2021",
        "dateTo": "30-04-2021",
        "source": "yandex",
        "medium": "cpc",
        "campaign": None,
        "content": None,
        "keyword": None,
        "metric.type": "Лиды",
        "metric.name": "Все лиды",
        "metric.value": 120,
        **changes,
    }
    return [values[column.field] for column in sheets.COLUMNS]


def test_the_template_lists_the_seeds_types_and_the_names_of_the_chosen_type() -> None:
    workbook = load_workbook(io.BytesIO(sheets.template()))
    sheet, lists = workbook.worksheets
    assert [cell.value for cell in sheet[1]] == sheets.HEADERS
    assert lists.sheet_state == "hidden"
    assert [cell.value for cell in lists[1]] == list(rules.METRIC_TYPES)
    for column, metric_type in enumerate(rules.METRIC_TYPES, start=1):
        names = [lists.cell(row=r, column=column).value for r in range(2, 2 + len(rules.METRIC_NAMES[metric_type]))]
        assert names == list(rules.METRIC_NAMES[metric_type])
    validations = {str(v.sqref).split(":")[0]: v for v in sheet.data_validations.dataValidation}
    type_list, name_list = validations["H2"], validations["I2"]
    assert type_list.type == "list" and "Списки" in type_list.formula1 and type_list.showErrorMessage
    # the name list follows the row's type (MATCH on H) and lets custom columns and goals be typed
    assert name_list.type == "list" and "MATCH($H2" in name_list.formula1 and not name_list.showErrorMessage


def test_a_filled_in_template_reads_back_as_items_and_excel_dates_become_dd_mm_yyyy() -> None:
    data = filled(
        [
            row(dateFrom=dt.datetime(2021, 4, 1), **{"metric.value": 120.0}),
            row(campaign=2024, **{"metric.type": "Цели", "metric.name": "Заявка", "metric.value": "7"}),
        ]
    )
    sheet = sheets.read_items(data)
    assert sheet.rows == [2, 3]
    assert sheet.items == [
        {
            "dateFrom": "01-04-2021",
            "dateTo": "30-04-2021",
            "source": "yandex",
            "medium": "cpc",
            "metric": {"type": "Лиды", "name": "Все лиды", "value": 120},
        },
        {
            "dateFrom": "01-04-2021",
            "dateTo": "30-04-2021",
            "source": "yandex",
            "medium": "cpc",
            "campaign": "2024",
            "metric": {"type": "Цели", "name": "Заявка", "value": 7},
        },
    ]
    assert check_items(sheet.items).violations == []


def test_violations_in_a_file_name_the_row_and_cell_even_when_columns_are_moved() -> None:
    headers = list(sheets.HEADERS)
    headers[7], headers[9] = headers[9], headers[7]  # «Значение» in H, «Тип метрики» in J
    moved = []
    for values in (row(), row(), row(**{"metric.type": "Звонки"})):
        values[7], values[9] = values[9], values[7]
        moved.append(values)
    data = filled(moved, headers)
    sheet = sheets.read_items(data)
    located = sheet.locate(check_items(sheet.items).violations)
    assert [(v.field, v.row, v.cell, v.message) for v in located] == [
        ("items[2].metric.type", 4, "J4", rules.MSG_NOT_ALLOWED)
    ]


def test_the_result_has_every_row_with_its_status() -> None:
    items = [{"dateFrom": "01-04-2021", "metric": {"type": "Лиды", "value": 1}}]
    data = sheets.result(
        [sheets.ResultRow(item=items[0], status="импортирована", chunk=0, import_log_id=55, errors=[])]
    )
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    values = dict(zip(header, [cell.value for cell in sheet[2]], strict=True))
    assert values["Статус"] == "импортирована" and values["Пакет"] == 1 and values["ID лога импорта Calltouch"] == 55
    assert values["Начало периода (dateFrom)"] == "01-04-2021" and values["Значение (metric.value)"] == 1


cells = st.one_of(
    st.none(),
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=15),
    st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2090, 1, 1)),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(cells, min_size=10, max_size=10), min_size=1, max_size=5))
def test_whatever_is_typed_in_reads_back_as_rows_the_checks_answer(rows: list[list[Any]]) -> None:
    sheet = sheets.read_items(filled(rows))
    checked = check_items(sheet.items)
    located = sheet.locate(checked.violations)
    assert len(sheet.items) == len(sheet.rows)
    for violation in located:
        if violation.item is not None:
            assert violation.row == sheet.rows[violation.item]
