"""Static channels as an XLSX table: the «Выгрузить» button of a Roistat or Ringostat connector
(seeds 000 and 001), and the upload that reads the same table back.

Values must match the vendor's account exactly, so they are kept as typed; only a cell holding
nothing but whitespace counts as empty. Every column is Excel text («@»), so what a user types into
a new row stays text. Numbers are still accepted where Excel made one of what was typed, but only
whole ones (a pool named "1234" comes back as "1234"); a fraction, a date or TRUE/FALSE is refused,
because the text the user typed can no longer be told from it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pydantic import ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from leadhub.connectors.registry import spec_for
from leadhub.exports.xlsx import TEXT_FORMAT, Column, read_table, write_table
from leadhub.models.base import DeferredModel
from leadhub.models.settings import StaticChannel, Vendor

SHEET_TITLE = "Статические каналы"
#: The settings hold at most this many channels (RoistatSettings/RingostatSettings.static_channels).
MAX_CHANNELS = 5000
#: Beyond this a float no longer holds every whole number exactly.
_LARGEST_EXACT_FLOAT = 2**53
_RETYPE_AS_TEXT = "format the column as text («Текстовый») and type the value again"
_COLUMN_WIDTHS = {"parameter": 24, "value": 36, "source": 28, "traffic_type": 20, "campaign": 40}


class RowError(DeferredModel):
    """A problem with one row of an upload: `row` as Excel numbers it, `field` the column header."""

    model_config = ConfigDict(frozen=True)

    row: int
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}, «{self.field}»" if self.field else f"row {self.row}"
        return f"{where}: {self.message}"


class ImportResult(DeferredModel):
    """The valid rows in file order (a repeated row only once) and every problem found.

    Apply `channels` only when `errors` is empty: otherwise the upload is partial.
    """

    channels: list[StaticChannel] = Field(default_factory=list)
    errors: list[RowError] = Field(default_factory=list)


class _CellProblem(ValueError):
    pass


def headers_for(vendor: Vendor) -> dict[str, str]:
    """StaticChannel field name -> the column header the connector page shows for it."""
    value_label = spec_for(vendor).channel_value_label
    if value_label is None:
        raise ValueError(f"connector vendor {str(vendor)!r} has no static channels")
    return {
        "parameter": "Параметр",
        "value": value_label,
        "source": "Источник трафика",
        "traffic_type": "Тип трафика",
        "campaign": "Кампания",
    }


def columns_for(vendor: Vendor) -> list[Column]:
    return [
        Column(header=header, width=_COLUMN_WIDTHS[field], number_format=TEXT_FORMAT)
        for field, header in headers_for(vendor).items()
    ]


def export_static_channels(vendor: Vendor, channels: Sequence[StaticChannel], *, connector_name: str) -> bytes:
    """The channels as XLSX, in the given order; the connector's name titles the document."""
    fields = list(headers_for(vendor))
    rows = ([getattr(channel, field) for field in fields] for channel in channels)
    return write_table(SHEET_TITLE, columns_for(vendor), rows, document_title=f"{SHEET_TITLE} — {connector_name}")


def import_static_channels(vendor: Vendor, data: bytes) -> ImportResult:
    """Read an uploaded table back; row problems are collected, not raised.

    Raises SpreadsheetError when the bytes are not an XLSX file or the header row is not this
    vendor's, and ValueError for a vendor without static channels.
    """
    headers = headers_for(vendor)
    result = ImportResult()
    first_row_of: dict[tuple[str, str], int] = {}
    for count, (row, record) in enumerate(read_table(data, list(headers.values())), start=1):
        if count > MAX_CHANNELS:
            result.errors.append(RowError(row=row, field=None, message=_too_many_rows(row)))
            break
        channel = _channel_or_errors(row, record, headers, result.errors)
        if channel is None:
            continue
        first = first_row_of.setdefault(channel.key, row)
        if first == row:
            result.channels.append(channel)
        else:
            result.errors.append(RowError(row=row, field=None, message=_repeats(channel, headers, first)))
    return result


def _channel_or_errors(
    row: int, record: dict[str, object], headers: dict[str, str], errors: list[RowError]
) -> StaticChannel | None:
    texts: dict[str, str] = {}
    problems: list[RowError] = []
    for field, header in headers.items():
        try:
            texts[field] = _cell_text(record[header])
        except _CellProblem as problem:
            problems.append(RowError(row=row, field=header, message=str(problem)))
    if not problems:
        try:
            return StaticChannel.model_validate(texts)
        except ValidationError as invalid:
            problems = [_row_error(row, detail, headers) for detail in invalid.errors()]
    errors.extend(problems)
    return None


def _cell_text(value: object) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise _CellProblem("the cell is empty")
    if isinstance(value, str):
        return value
    if isinstance(value, bool):  # before int: a bool is an int
        raise _CellProblem("the cell holds TRUE/FALSE where text is expected")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) <= _LARGEST_EXACT_FLOAT:
        return str(int(value))
    if isinstance(value, float):
        raise _CellProblem(f"the cell holds the number {value:g} where text is expected; {_RETYPE_AS_TEXT}")
    if isinstance(value, dt.date | dt.time | dt.timedelta):
        raise _CellProblem(f"Excel made a date or time of this cell; {_RETYPE_AS_TEXT}")
    raise _CellProblem(f"the cell holds a {type(value).__name__} where text is expected")


def _row_error(row: int, detail: ErrorDetails, headers: dict[str, str]) -> RowError:
    location = detail["loc"]
    field = headers.get(str(location[0])) if location else None
    if detail["type"] == "string_too_long":
        limit = detail.get("ctx", {}).get("max_length")
        message = f"the text is {len(str(detail['input']))} characters long; at most {limit} fit"
    else:
        message = detail["msg"]
    return RowError(row=row, field=field, message=message)


def _repeats(channel: StaticChannel, headers: dict[str, str], first_row: int) -> str:
    parameter, value = headers["parameter"], headers["value"]
    return (
        f"«{parameter}» {channel.parameter!r} with «{value}» {channel.value!r} repeats row {first_row}; "
        "keep one of the two rows"
    )


def _too_many_rows(row: int) -> str:
    return f"at most {MAX_CHANNELS} channels fit in a connector; row {row} and those after it were not read"
