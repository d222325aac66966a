"""A typed one-sheet XLSX table: write rows to bytes, read rows back from bytes (openpyxl).

Writing streams through openpyxl's write-only mode so memory stays flat for large tables (openpyxl
still spools the sheet XML through a temporary file of its own). The output is deterministic: fixed
document timestamps and zip entry times, so the same table always gives the same bytes.

Text travels in OOXML's escaped form (`_xHHHH_`, as Excel itself writes it): control characters and
carriage returns survive a round trip, and a literal `_x0041_` typed by a user does not come back
as "A". Text never becomes a formula: values come from users, so "=HYPERLINK(…)" stays a string.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from xml.etree.ElementTree import ParseError

TEXT_FORMAT = "@"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
#: The earliest time a zip entry can carry; reproducible builds use it for the same reason.
FIXED_TIMESTAMP = dt.datetime(1980, 1, 1)
DOCUMENT_CREATOR = "Leadhub"

_MAX_CELL_TEXT = 32_767
_MAX_SHEET_TITLE = 31
_FORBIDDEN_IN_SHEET_TITLE = re.compile(r"[\\/?*\[\]:\x00-\x1f]")
# Excel turns a cell starting with these into a formula once a user edits it; a quote prefix keeps
# such text text.
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 cannot carry, and CR (XML parsers turn it into LF).
_UNWRITABLE = r"[\x00-\x08\x0b-\x1f\ufffe\uffff]"
# Those, and the underscore that would start an escape sequence: literally, or once the character
# after it is escaped (the escape of that character supplies the sequence's closing underscore).
_NEEDS_ESCAPE = re.compile(rf"_(?=x[0-9A-Fa-f]{{4}}(?:_|{_UNWRITABLE}))|{_UNWRITABLE}")
_ESCAPE_SEQUENCE = re.compile(r"_x([0-9A-Fa-f]{4})_")
# What openpyxl raises on bytes that are not a readable XLSX package (and its InvalidFileException).
_UNREADABLE = (zipfile.BadZipFile, KeyError, ValueError, OSError, ParseError, EOFError)


@dataclass(frozen=True)
class Column:
    """One column of a table: its header, its width in characters, the Excel format of its cells."""

    header: str
    width: int
    number_format: str | None = None


class SpreadsheetError(ValueError):
    """The uploaded bytes are not a workbook, or not the table that was expected."""


def write_table(
    title: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence[object]],
    *,
    document_title: str | None = None,
) -> bytes:
    """One sheet named after `title`: a bold, frozen, filterable header row, then the rows, typed.

    None leaves a cell empty; str, bool, int, float, Decimal, date and datetime keep their types.
    Excel has no time zones, so an aware datetime is written in UTC.
    """
    # openpyxl is imported by what writes or reads a workbook, not with the module: most invocations of
    # a function never touch XLSX, and it is a tenth of a second of every cold start
    from openpyxl import Workbook
    from openpyxl.packaging.core import DocumentProperties
    from openpyxl.utils import get_column_letter

    if not columns:
        raise ValueError("a table needs at least one column")
    workbook = Workbook(write_only=True)
    workbook.properties = DocumentProperties(
        creator=DOCUMENT_CREATOR, title=document_title or title, created=FIXED_TIMESTAMP, modified=FIXED_TIMESTAMP
    )
    sheet = workbook.create_sheet(sheet_title(title))
    _lay_out(sheet, columns)
    sheet.append([_header_cell(sheet, column.header) for column in columns])
    last_row = 1
    try:
        for last_row, values in enumerate(rows, start=2):
            sheet.append(_typed_row(sheet, columns, values, last_row))
    except BaseException:
        # Finish the half-written sheet so openpyxl closes and deletes its temporary file.
        _stored_package(workbook)
        raise
    # The filter range is written with the sheet's tail, so it can be set once the rows are known.
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{last_row}"
    return _with_fixed_entry_times(_stored_package(workbook))


def sheet_title(title: str) -> str:
    """`title` as Excel accepts a sheet name: at most 31 characters, none of \\ / ? * [ ] :."""
    cleaned = _FORBIDDEN_IN_SHEET_TITLE.sub("_", title)[:_MAX_SHEET_TITLE].strip(" '")
    if not cleaned:
        return "Sheet1"
    # Excel reserves "History" for its change-tracking sheet.
    return f"{cleaned}_" if cleaned.casefold() == "history" else cleaned


def read_table(data: bytes, expected_headers: Sequence[str]) -> Iterator[tuple[int, dict[str, object]]]:
    """(Excel row number, {header: value}) for each non-empty row of the first sheet.

    The first row must hold exactly `expected_headers` (surrounding whitespace ignored, any order);
    columns without a header are ignored. A row whose cells are all empty or whitespace is skipped.
    The file and its header row are checked at once; SpreadsheetError says what is wrong.
    """
    if len(set(expected_headers)) != len(expected_headers):
        raise ValueError(f"expected headers repeat: {list(expected_headers)}")
    workbook = _open_workbook(data)
    try:
        rows = _first_sheet_rows(workbook)
        positions = _header_positions(next(rows, ()), expected_headers, workbook.worksheets[0].title)
    except SpreadsheetError:  # before _UNREADABLE: it is a ValueError too
        workbook.close()
        raise
    except _UNREADABLE as error:
        workbook.close()
        raise _not_a_workbook() from error
    return _records(workbook, rows, positions, expected_headers)


def _lay_out(sheet: Any, columns: Sequence[Column]) -> None:
    from openpyxl.utils import get_column_letter

    # Write-only sheets take their layout before the first row is appended.
    sheet.freeze_panes = "A2"
    for index, column in enumerate(columns, start=1):
        dimension = sheet.column_dimensions[get_column_letter(index)]
        dimension.width = column.width
        if column.number_format:
            # Also formats the cells a user adds later: text typed there stays text.
            dimension.number_format = column.number_format


def _header_cell(sheet: Any, header: str) -> Any:
    from openpyxl.styles import Font

    cell = _text_cell(sheet, header)
    cell.font = Font(bold=True)
    return cell


def _typed_row(sheet: Any, columns: Sequence[Column], values: Sequence[object], row_number: int) -> list[Any]:
    if len(values) != len(columns):
        raise ValueError(f"row {row_number} has {len(values)} values for {len(columns)} columns")
    cells = zip(columns, values, strict=True)
    return [None if value is None else _typed_cell(sheet, value, column) for column, value in cells]


def _typed_cell(sheet: Any, value: object, column: Column) -> Any:
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, str):
        cell = _text_cell(sheet, value, column.header)
    elif isinstance(value, bool | int | float | Decimal):
        cell = WriteOnlyCell(sheet, value=value)
    elif isinstance(value, dt.datetime):  # before date: every datetime is a date
        cell = WriteOnlyCell(sheet, value=_naive_utc(value))
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, dt.date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
    else:
        raise TypeError(f"column {column.header!r}: cannot write a {type(value).__name__} to XLSX")
    if column.number_format:
        cell.number_format = column.number_format
    return cell


def _text_cell(sheet: Any, text: str, header: str | None = None) -> Any:
    from openpyxl.cell import WriteOnlyCell

    if len(text) > _MAX_CELL_TEXT:
        where = f"column {header!r}: " if header else ""
        raise ValueError(f"{where}a cell holds at most {_MAX_CELL_TEXT} characters, got {len(text)}")
    cell = WriteOnlyCell(sheet, value=_escape(text))
    # openpyxl would make "=…" a formula and "#N/A" an error value; text from users is only text.
    cell.data_type = "s"
    if text.startswith(_FORMULA_TRIGGERS):
        cell.quotePrefix = True
    return cell


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def _escape(text: str) -> str:
    return _NEEDS_ESCAPE.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    return f"_x{ord(match.group()):04X}_"


def _unescape(text: str) -> str:
    return _ESCAPE_SEQUENCE.sub(_unescaped, text)


def _unescaped(match: re.Match[str]) -> str:
    code = int(match.group(1), 16)
    # Half a UTF-16 pair is no character: such a sequence stays as it was written.
    return match.group() if 0xD800 <= code <= 0xDFFF else chr(code)


def _stored_package(workbook: Any) -> bytes:
    from openpyxl.writer.excel import ExcelWriter

    # Stored, not deflated: the package is compressed once, when its entry times are fixed.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        ExcelWriter(workbook, archive).save()
    return buffer.getvalue()


def _with_fixed_entry_times(package: bytes) -> bytes:
    """The package again, deflated, every entry dated FIXED_TIMESTAMP (openpyxl stamps the clock)."""
    output = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(package)) as source,
        zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            fixed = zipfile.ZipInfo(entry.filename, date_time=FIXED_TIMESTAMP.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            with source.open(entry) as reader, target.open(fixed, "w") as writer:
                shutil.copyfileobj(reader, writer)
    return output.getvalue()


def _not_a_workbook() -> SpreadsheetError:
    return SpreadsheetError("the file is not an XLSX workbook: save it as «Книга Excel (*.xlsx)» and upload it again")


def _open_workbook(data: bytes) -> Any:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # data_only: a formula counts as the value the user sees, not as its text.
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (*_UNREADABLE, InvalidFileException) as error:
        raise _not_a_workbook() from error


def _first_sheet_rows(workbook: Any) -> Iterator[tuple[object, ...]]:
    if not workbook.worksheets:
        raise SpreadsheetError("the workbook has no sheet")
    sheet = workbook.worksheets[0]
    # Some writers store a wrong sheet size; forgetting it makes openpyxl read every row and column.
    sheet.reset_dimensions()
    return iter(sheet.iter_rows(values_only=True))


def _header_positions(header_row: Sequence[object], expected: Sequence[str], sheet: str) -> dict[str, int]:
    found: dict[str, int] = {}
    repeated: list[str] = []
    for index, value in enumerate(header_row):
        header = _header_text(value)
        if header in found:
            repeated.append(header)
        elif header:
            found[header] = index
    missing = [header for header in expected if header not in found]
    unexpected = [header for header in found if header not in expected]
    if missing or unexpected or repeated:
        raise SpreadsheetError(_header_problem(sheet, expected, missing, unexpected, repeated))
    return found


def _header_text(value: object) -> str:
    if value is None:
        return ""
    return _unescape(value).strip() if isinstance(value, str) else str(value).strip()


def _header_problem(
    sheet: str, expected: Sequence[str], missing: list[str], unexpected: list[str], repeated: list[str]
) -> str:
    problems = [
        f"{label}: {_quoted(headers)}"
        for label, headers in (("missing", missing), ("unexpected", unexpected), ("repeated", repeated))
        if headers
    ]
    return f"the first row of sheet «{sheet}» must hold the headers {_quoted(expected)}; " + "; ".join(problems)


def _quoted(headers: Iterable[str]) -> str:
    return ", ".join(f"«{header}»" for header in headers)


def _records(
    workbook: Any, rows: Iterator[tuple[object, ...]], positions: dict[str, int], headers: Sequence[str]
) -> Iterator[tuple[int, dict[str, object]]]:
    try:
        # openpyxl yields an empty tuple for a row missing from the file, so counting keeps numbers right.
        for row_number, values in enumerate(rows, start=2):
            record = {header: _value_at(values, positions[header]) for header in headers}
            if not all(_is_blank(value) for value in record.values()):
                yield row_number, record
    except _UNREADABLE as error:
        raise _not_a_workbook() from error
    finally:
        workbook.close()


def _value_at(values: tuple[object, ...], index: int) -> object:
    value = values[index] if index < len(values) else None
    return _unescape(value) if isinstance(value, str) else value


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
