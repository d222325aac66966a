"""Plan rows as a spreadsheet: the template to fill in (drop-down lists of seed 004's metric types
and, depending on the type chosen, its metric names), the reading of a filled-in file into rows in
`plans-import/add`'s shape, and the result file with a status per row.

openpyxl is imported where a sheet is made or read, so the API function does not pay for it at
every cold start.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from leadhub.exports.xlsx import TEXT_FORMAT, Column, SpreadsheetError, read_table, write_table
from leadhub.plans import rules
from leadhub.plans.validate import Violation

SHEET_TITLE = "Плановые метрики"
LISTS_TITLE = "Списки"
RESULT_TITLE = "Результат импорта"
#: A template has room for this many rows with drop-down lists (more rows can be typed in).
TEMPLATE_ROWS = 1000


@dataclass(frozen=True)
class PlanColumn:
    header: str
    #: The field in a row of `plans-import/add` (`metric.type` inside the metric object).
    field: str
    width: int
    text: bool = True


COLUMNS: tuple[PlanColumn, ...] = (
    PlanColumn("Начало периода (dateFrom)", "dateFrom", 24),
    PlanColumn("Конец периода (dateTo)", "dateTo", 24),
    PlanColumn("Источник (source)", "source", 20),
    PlanColumn("Канал (medium)", "medium", 16),
    PlanColumn("Кампания (campaign)", "campaign", 24),
    PlanColumn("Объявление (content)", "content", 20),
    PlanColumn("Ключевое слово (keyword)", "keyword", 24),
    PlanColumn("Тип метрики (metric.type)", "metric.type", 24),
    PlanColumn("Название метрики (metric.name)", "metric.name", 36),
    PlanColumn("Значение (metric.value)", "metric.value", 18, text=False),
)
HEADERS = [column.header for column in COLUMNS]
RESULT_COLUMNS = (
    Column("Строка файла", 12),
    *(Column(c.header, c.width, TEXT_FORMAT if c.text else None) for c in COLUMNS),
    Column("Статус", 28),
    Column("Пакет", 8),
    Column("ID лога импорта Calltouch", 16),
    Column("Ошибки", 80),
)
_INTEGER = re.compile(r"-?\d+")


@dataclass(frozen=True)
class SheetRows:
    items: list[dict[str, Any]]
    #: per item: its sheet row
    rows: list[int]
    #: field (`metric.type`) → column letter, as this file lays them out
    letters: dict[str, str]

    def locate(self, violations: Iterable[Violation]) -> list[Violation]:
        """The violations with the sheet row and cell of the item and field they name."""
        located = []
        for violation in violations:
            if violation.item is None:
                located.append(violation)
                continue
            row = self.rows[violation.item]
            field = violation.field.split(".", 1)[1] if "." in violation.field else ""
            letter = self.letters.get(field)
            located.append(violation.model_copy(update={"row": row, "cell": f"{letter}{row}" if letter else None}))
        return located


# --- the template ----------------------------------------------------------------------------------
def template() -> bytes:
    """An empty plan sheet whose type column lists seed 004's types and whose name column lists the
    names of the type chosen on its row (free text for custom columns and goals)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET_TITLE
    sheet.append(HEADERS)
    for index, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = column.width
        sheet.cell(row=1, column=index).font = Font(bold=True)
        if column.text:
            for row in range(2, TEMPLATE_ROWS + 2):
                sheet.cell(row=row, column=index).number_format = TEXT_FORMAT
    sheet.freeze_panes = "A2"
    lists = workbook.create_sheet(LISTS_TITLE)
    for index, (metric_type, names) in enumerate(rules.METRIC_NAMES.items(), start=1):
        lists.cell(row=1, column=index, value=metric_type)
        for offset, name in enumerate(names, start=2):
            lists.cell(row=offset, column=index, value=name)
    lists.sheet_state = "hidden"
    source = quote_sheetname(LISTS_TITLE)
    last_type = get_column_letter(len(rules.METRIC_NAMES))
    longest = max(len(names) for names in rules.METRIC_NAMES.values()) + 1
    type_letter, name_letter = _letter("metric.type"), _letter("metric.name")
    span = f"{{col}}2:{{col}}{TEMPLATE_ROWS + 1}"
    types = DataValidation(
        type="list",
        formula1=f"{source}!$A$1:${last_type}$1",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Тип метрики",
        error="Выберите тип метрики из списка (seed 004).",
    )
    types.add(span.format(col=type_letter))
    # The names of the row's type: the column of Списки whose header is the type, as long as its list.
    column_of_type = f"MATCH(${type_letter}2,{source}!$A$1:${last_type}$1,0)-1"
    names = DataValidation(
        type="list",
        formula1=(
            f"OFFSET({source}!$A$2,0,{column_of_type},"
            f"MAX(1,COUNTA(OFFSET({source}!$A$2,0,{column_of_type},{longest},1))),1)"
        ),
        allow_blank=True,
        # custom columns and goals are the project's own names: typing one must stay possible
        showErrorMessage=False,
        promptTitle="Название метрики",
        prompt="Для «Пользовательские» и «Цели» впишите название столбца или цели.",
        showInputMessage=True,
    )
    names.add(span.format(col=name_letter))
    sheet.add_data_validation(types)
    sheet.add_data_validation(names)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _letter(field: str) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(next(i for i, c in enumerate(COLUMNS, start=1) if c.field == field))


# --- reading a filled-in file ------------------------------------------------------------------
def read_items(data: bytes) -> SheetRows:
    """The rows of the first sheet as `plans-import/add` items, each with its sheet row. Cells are
    taken as typed: an Excel date becomes `dd-mm-yyyy`, a whole number stays a number, and the rest
    is left for the validator to judge. Raises SpreadsheetError for a file that is not the template."""
    letters = _letters(data)
    items, rows = [], []
    for row, record in read_table(data, HEADERS):
        item: dict[str, Any] = {}
        metric: dict[str, Any] = {}
        for column in COLUMNS:
            value = _cell(record[column.header], column.field)
            if value is None:
                continue
            if column.field.startswith("metric."):
                metric[column.field.removeprefix("metric.")] = value
            else:
                item[column.field] = value
        if metric:
            item["metric"] = metric
        items.append(item)
        rows.append(row)
    return SheetRows(items, rows, letters)


def _letters(data: bytes) -> dict[str, str]:
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True)
    except Exception as error:  # every way openpyxl can fail to open it: read_table says what is wrong
        raise SpreadsheetError(
            "the file is not an XLSX workbook: save it as «Книга Excel (*.xlsx)» and upload it again"
        ) from error
    try:
        header_row = (
            next(workbook.worksheets[0].iter_rows(max_row=1, values_only=True), ()) if workbook.worksheets else ()
        )
    finally:
        workbook.close()
    by_header = {c.header: c.field for c in COLUMNS}
    return {
        by_header[str(value).strip()]: get_column_letter(index)
        for index, value in enumerate(header_row, start=1)
        if value is not None and str(value).strip() in by_header
    }


def _cell(value: object, field: str) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if field in ("dateFrom", "dateTo") and isinstance(value, dt.date | dt.datetime):
        return value.strftime(rules.DATE_LAYOUT)
    if field == "metric.value":
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
            return int(value.strip())
        return value
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool) and field not in ("dateFrom", "dateTo"):
        # a campaign named 2024 is still the text "2024"
        return str(int(value)) if float(value).is_integer() else str(value)
    return value


# --- the result ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ResultRow:
    item: Any
    status: str
    chunk: int | None
    import_log_id: int | None
    errors: Sequence[str]
    #: The row of the uploaded sheet it came from (None: the rows came as JSON).
    sheet_row: int | None = None


def result(rows: Iterable[ResultRow]) -> bytes:
    """The import's rows in their original order, each with its status and what was wrong."""
    return write_table(RESULT_TITLE, RESULT_COLUMNS, (_result_values(row) for row in rows))


def _result_values(row: ResultRow) -> list[object]:
    item: dict[str, Any] = row.item if isinstance(row.item, dict) else {}
    raw_metric = item.get("metric")
    metric: dict[str, Any] = raw_metric if isinstance(raw_metric, dict) else {}
    values: list[object] = []
    for column in COLUMNS:
        source = metric if column.field.startswith("metric.") else item
        value = source.get(column.field.removeprefix("metric."))
        values.append(value if value is None or isinstance(value, str | int) else str(value))
    chunk = row.chunk + 1 if row.chunk is not None else None
    return [row.sheet_row, *values, row.status, chunk, row.import_log_id, "; ".join(row.errors) or None]
