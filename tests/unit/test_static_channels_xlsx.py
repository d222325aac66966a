"""Static channels to XLSX and back: the «Выгрузить» button of seeds 000 (Roistat) and 001 (Ringostat)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import subprocess
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from leadhub.exports.static_channels import (
    MAX_CHANNELS,
    ImportResult,
    RowError,
    columns_for,
    export_static_channels,
    import_static_channels,
)
from leadhub.exports.xlsx import Column, SpreadsheetError, read_table, sheet_title, write_table
from leadhub.models.settings import StaticChannel, Vendor

ROISTAT_HEADERS = ["Параметр", "Значение", "Источник трафика", "Тип трафика", "Кампания"]
RINGOSTAT_HEADERS = ["Параметр", "Название пула номеров", "Источник трафика", "Тип трафика", "Кампания"]

CHANNELS = [
    StaticChannel(
        parameter="utm_source", value="avito_flat", source="Авито", traffic_type="Классифайды", campaign="Квартиры"
    ),
    StaticChannel(
        parameter="utm_source",
        value='=HYPERLINK("http://evil.example","click")',
        source="Листовки",
        traffic_type="Оффлайн",
        campaign="  Весна 2024  ",
    ),
    StaticChannel(parameter="pool", value="1234", source="+7 Билборд", traffic_type="-", campaign="@ночь 🌙"),
    StaticChannel(parameter="pool", value="#N/A", source="a\rb\tc\nd", traffic_type="_x0041_", campaign="\x01ctrl"),
]


def _channel(parameter: str = "utm_source", value: str = "v", **rest: str) -> StaticChannel:
    fields = {"source": "Источник", "traffic_type": "Тип", "campaign": "Кампания", **rest}
    return StaticChannel(parameter=parameter, value=value, **fields)


def _workbook_bytes(rows: Sequence[Sequence[object]]) -> bytes:
    """A file as a user would make it by hand: ordinary openpyxl, cells typed as given."""
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet(data: bytes) -> Any:
    return load_workbook(io.BytesIO(data)).worksheets[0]


def _errors(result: ImportResult) -> list[tuple[int, str | None]]:
    return [(error.row, error.field) for error in result.errors]


# Round trip and the file's shape


@pytest.mark.parametrize("vendor", [Vendor.ROISTAT, Vendor.RINGOSTAT, Vendor.CALLTOUCH])
def test_export_then_import_gives_the_same_channels_in_order(vendor: Vendor) -> None:
    data = export_static_channels(vendor, CHANNELS, connector_name="Roistat — основной")
    result = import_static_channels(vendor, data)
    assert result.errors == []
    assert result.channels == CHANNELS


@pytest.mark.parametrize(
    ("vendor", "headers"), [(Vendor.ROISTAT, ROISTAT_HEADERS), (Vendor.RINGOSTAT, RINGOSTAT_HEADERS)]
)
def test_the_header_row_is_the_connector_pages_russian_headers(vendor: Vendor, headers: list[str]) -> None:
    assert [column.header for column in columns_for(vendor)] == headers
    sheet = _sheet(export_static_channels(vendor, CHANNELS, connector_name="c"))
    assert [cell.value for cell in sheet[1]] == headers
    assert all(cell.font.bold for cell in sheet[1])


def test_the_sheet_has_a_frozen_header_a_filter_widths_and_text_columns() -> None:
    sheet = _sheet(export_static_channels(Vendor.ROISTAT, CHANNELS, connector_name="c"))
    assert sheet.title == "Статические каналы"
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:E{len(CHANNELS) + 1}"
    assert all(sheet.column_dimensions[letter].width >= 20 for letter in "ABCDE")
    assert {cell.number_format for row in sheet.iter_rows(min_row=2) for cell in row} == {"@"}


def test_every_value_is_a_literal_string_never_a_formula_or_an_error_value() -> None:
    sheet = _sheet(export_static_channels(Vendor.ROISTAT, CHANNELS, connector_name="c"))
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    assert all(cell.data_type == "s" and isinstance(cell.value, str) for cell in cells)
    hyperlink = sheet["B3"]
    assert hyperlink.value == '=HYPERLINK("http://evil.example","click")'
    assert hyperlink.quotePrefix  # Excel keeps it text even when the user edits the cell
    assert sheet["B5"].value == "#N/A"
    assert sheet["B4"].value == "1234"
    sheet_xml = zipfile.ZipFile(io.BytesIO(export_static_channels(Vendor.ROISTAT, CHANNELS, connector_name="c")))
    assert "<f>" not in sheet_xml.read("xl/worksheets/sheet1.xml").decode()


def test_prefixes_that_start_formulas_get_a_quote_prefix_and_plain_text_does_not() -> None:
    sheet = _sheet(export_static_channels(Vendor.ROISTAT, CHANNELS, connector_name="c"))
    assert [cell.quotePrefix for cell in sheet[4]] == [False, False, True, True, True]
    assert not any(cell.quotePrefix for cell in sheet[2])


def test_two_exports_of_the_same_channels_are_byte_identical() -> None:
    first = export_static_channels(Vendor.RINGOSTAT, CHANNELS, connector_name="c")
    assert export_static_channels(Vendor.RINGOSTAT, CHANNELS, connector_name="c") == first
    # The clock never reaches the file, so exports a second apart are identical too.
    entries = zipfile.ZipFile(io.BytesIO(first)).infolist()
    assert {entry.date_time for entry in entries} == {(1980, 1, 1, 0, 0, 0)}


def test_document_properties_name_the_connector_and_nothing_else() -> None:
    data = export_static_channels(Vendor.ROISTAT, CHANNELS, connector_name="Мой коннектор")
    properties = load_workbook(io.BytesIO(data)).properties
    assert properties.title == "Статические каналы — Мой коннектор"
    assert properties.creator == "Leadhub"
    assert properties.lastModifiedBy is None
    assert properties.created == properties.modified == dt.datetime(1980, 1, 1)


def test_an_empty_list_exports_just_the_headers_and_imports_as_empty() -> None:
    data = export_static_channels(Vendor.ROISTAT, [], connector_name="c")
    assert _sheet(data).max_row == 1
    assert import_static_channels(Vendor.ROISTAT, data) == ImportResult()


@pytest.mark.parametrize("vendor", [Vendor.AMOCRM])
def test_vendors_without_static_channels_are_refused_by_name(vendor: Vendor) -> None:
    with pytest.raises(ValueError, match=vendor.value):
        export_static_channels(vendor, [], connector_name="c")
    with pytest.raises(ValueError, match=vendor.value):
        import_static_channels(vendor, export_static_channels(Vendor.ROISTAT, [], connector_name="c"))
    with pytest.raises(ValueError, match=vendor.value):
        columns_for(vendor)


# Uploads made by hand


def test_a_hand_made_file_with_reordered_padded_headers_and_blank_rows_is_read() -> None:
    data = _workbook_bytes(
        [
            ["  Кампания ", "Тип трафика", "Источник трафика", "Значение", "Параметр"],
            ["Весна", "Оффлайн", "Листовки", "  flyer ", "utm_source"],
            [None, "   ", None, None, None],
            [],
            ["Лето", "Классифайды", "Авито", 1234, "pool"],
        ]
    )
    assert [row for row, _ in read_table(data, ROISTAT_HEADERS)] == [2, 5]  # row 4 is absent from the file
    result = import_static_channels(Vendor.ROISTAT, data)
    assert result.errors == []
    assert result.channels == [
        _channel(value="  flyer ", source="Листовки", traffic_type="Оффлайн", campaign="Весна"),
        _channel(parameter="pool", value="1234", source="Авито", traffic_type="Классифайды", campaign="Лето"),
    ]


def test_each_bad_cell_is_reported_with_its_excel_row_and_russian_header() -> None:
    good = ["utm_source", "ok", "Авито", "Классифайды", "Весна"]
    data = _workbook_bytes(
        [
            ROISTAT_HEADERS,
            good,
            ["utm_source", None, "Авито", "   ", "Весна"],  # row 3: two empty cells
            ["utm_source", 12.5, "Авито", "Классифайды", True],  # row 4: a fraction and a boolean
            ["utm_source", dt.datetime(2024, 3, 1), "Авито", "Классифайды", "Весна"],  # row 5: Excel made a date
            ["utm_source", "long", "x" * 501, "Классифайды", "Весна"],  # row 6: too long
            ["utm_source", 77.0, "Авито", "Классифайды", "Весна"],  # row 7: a whole number is its text
        ]
    )
    result = import_static_channels(Vendor.ROISTAT, data)
    assert _errors(result) == [
        (3, "Значение"),
        (3, "Тип трафика"),
        (4, "Значение"),
        (4, "Кампания"),
        (5, "Значение"),
        (6, "Источник трафика"),
    ]
    messages = [error.message for error in result.errors]
    assert messages[0] == messages[1] == "the cell is empty"
    assert "12.5" in messages[2]
    assert "TRUE/FALSE" in messages[3]
    assert "date" in messages[4]
    assert "501" in messages[5] and "500" in messages[5]
    assert [channel.value for channel in result.channels] == ["ok", "77"]
    assert str(result.errors[0]) == "row 3, «Значение»: the cell is empty"


def test_a_repeated_parameter_and_value_names_both_rows_and_is_kept_once() -> None:
    row = ["utm_source", "avito", "Авито", "Классифайды", "Весна"]
    data = _workbook_bytes([ROISTAT_HEADERS, row, ["pool", "avito", "a", "b", "c"], [*row[:2], "x", "y", "z"]])
    result = import_static_channels(Vendor.ROISTAT, data)
    assert [channel.parameter for channel in result.channels] == ["utm_source", "pool"]
    assert result.errors == [RowError(row=4, field=None, message=result.errors[0].message)]
    assert "row 2" in result.errors[0].message
    assert "'utm_source'" in result.errors[0].message and "'avito'" in result.errors[0].message


def test_values_differing_only_in_spaces_or_case_are_distinct_channels() -> None:
    rows = [["p", value, "s", "t", "c"] for value in ("avito", " avito", "Avito")]
    result = import_static_channels(Vendor.ROISTAT, _workbook_bytes([ROISTAT_HEADERS, *rows]))
    assert result.errors == []
    assert [channel.value for channel in result.channels] == ["avito", " avito", "Avito"]


def test_rows_beyond_the_settings_limit_are_refused() -> None:
    rows = [[f"p{index}", "v", "s", "t", "c"] for index in range(MAX_CHANNELS + 2)]
    result = import_static_channels(Vendor.ROISTAT, _workbook_bytes([ROISTAT_HEADERS, *rows]))
    assert len(result.channels) == MAX_CHANNELS
    assert _errors(result) == [(MAX_CHANNELS + 2, None)]


# Files that are not the expected table


def test_the_other_vendors_headers_are_refused_naming_the_wrong_column() -> None:
    data = export_static_channels(Vendor.RINGOSTAT, CHANNELS, connector_name="c")
    with pytest.raises(SpreadsheetError) as refused:
        import_static_channels(Vendor.ROISTAT, data)
    message = str(refused.value)
    assert "missing: «Значение»" in message
    assert "unexpected: «Название пула номеров»" in message


def test_extra_missing_and_repeated_headers_are_all_named() -> None:
    data = _workbook_bytes([["Параметр", "Значение", "Значение", "Тип трафика", "Кампания", "Комментарий"]])
    with pytest.raises(SpreadsheetError) as refused:
        list(read_table(data, ROISTAT_HEADERS))
    message = str(refused.value)
    assert "missing: «Источник трафика»" in message
    assert "unexpected: «Комментарий»" in message
    assert "repeated: «Значение»" in message


def test_header_problems_are_raised_when_reading_starts_not_when_rows_are_consumed() -> None:
    with pytest.raises(SpreadsheetError, match="missing"):
        read_table(_workbook_bytes([]), ROISTAT_HEADERS)


@pytest.mark.parametrize(
    "data",
    [b"", b"Parameter,Value\nutm_source,avito\n", b"PK\x03\x04 truncated", b"\xd0\xcf\x11\xe0 an old .xls"],
    ids=["empty", "csv", "broken-zip", "xls"],
)
def test_bytes_that_are_not_xlsx_are_refused_clearly(data: bytes) -> None:
    with pytest.raises(SpreadsheetError, match="not an XLSX workbook"):
        import_static_channels(Vendor.ROISTAT, data)


def test_a_zip_that_is_not_a_workbook_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(SpreadsheetError, match="not an XLSX workbook"):
        import_static_channels(Vendor.ROISTAT, buffer.getvalue())


# The generic table writer


def test_write_table_keeps_types_and_dates_get_formats() -> None:
    columns = [
        Column("Текст", 10),
        Column("Число", 8),
        Column("Дробь", 8, "0.00"),
        Column("Дата", 12),
        Column("Время", 20),
    ]
    moment = dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    data = write_table("Отчёт", columns, [["-1", 42, 1.5, dt.date(2024, 5, 1), moment], [None, None, None, None, None]])
    sheet = _sheet(data)
    text, number, fraction, day, when = sheet[2]
    assert (text.value, text.data_type) == ("-1", "s")
    assert (number.value, number.data_type) == (42, "n")
    assert (fraction.value, fraction.number_format) == (1.5, "0.00")
    assert (day.value, day.number_format) == (dt.datetime(2024, 5, 1), "yyyy-mm-dd")
    assert (when.value, when.number_format) == (dt.datetime(2024, 5, 1, 9, 30), "yyyy-mm-dd hh:mm:ss")
    assert list(read_table(data, [column.header for column in columns])) == [
        (
            2,
            {
                "Текст": "-1",
                "Число": 42,
                "Дробь": 1.5,
                "Дата": dt.datetime(2024, 5, 1),
                "Время": dt.datetime(2024, 5, 1, 9, 30),
            },
        )
    ]


def test_write_table_refuses_rows_of_the_wrong_length_and_unknown_types() -> None:
    with pytest.raises(ValueError, match="row 2 has 1 values for 2 columns"):
        write_table("t", [Column("a", 5), Column("b", 5)], [["x"]])
    with pytest.raises(TypeError, match="'a'"):
        write_table("t", [Column("a", 5)], [[object()]])


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Статические каналы", "Статические каналы"),
        ("a/b\\c?d*e[f]g:h", "a_b_c_d_e_f_g_h"),
        ("x" * 40, "x" * 31),
        ("'quoted'", "quoted"),
        ("", "Sheet1"),
        ("History", "History_"),
    ],
)
def test_sheet_titles_follow_excels_rules(title: str, expected: str) -> None:
    assert sheet_title(title) == expected


# Any valid list survives the round trip

_ANY_CHARACTER = st.characters(exclude_categories=["Cs"])
_TRICKY = st.sampled_from(["=", "+", "-", "@", " ", "Ж", "ё", "🙂", "_x0041_", "_x", "\r", "\t", "\n", "#N/A", "0"])
_text = (
    st.lists(st.one_of(_ANY_CHARACTER, _TRICKY), min_size=1, max_size=12)
    .map("".join)
    .filter(lambda text: bool(text.strip()) and len(text) <= 500)
)
_channels = st.lists(
    st.builds(StaticChannel, parameter=_text, value=_text, source=_text, traffic_type=_text, campaign=_text),
    max_size=6,
    unique_by=lambda channel: channel.key,
)


@settings(max_examples=80, deadline=None)
@given(channels=_channels, vendor=st.sampled_from([Vendor.ROISTAT, Vendor.RINGOSTAT]))
def test_any_valid_distinct_channels_survive_export_and_import(channels: list[StaticChannel], vendor: Vendor) -> None:
    result = import_static_channels(vendor, export_static_channels(vendor, channels, connector_name="c"))
    assert result.errors == []
    assert result.channels == channels


# What another spreadsheet program sees

_SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(_SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_reads_the_export_as_the_same_table(tmp_path: Path) -> None:
    channels = CHANNELS[:3]  # printable values: CSV is compared cell by cell
    source = tmp_path / "channels.xlsx"
    source.write_bytes(export_static_channels(Vendor.RINGOSTAT, channels, connector_name="c"))
    subprocess.run(
        [
            str(_SOFFICE),
            f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        timeout=120,
        capture_output=True,
    )
    with (tmp_path / "channels.csv").open(encoding="utf-8-sig", newline="") as converted:
        rows = list(csv.reader(converted))
    assert rows[0] == RINGOSTAT_HEADERS
    assert rows[1:] == [[c.parameter, c.value, c.source, c.traffic_type, c.campaign] for c in channels]
