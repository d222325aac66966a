"""Partitions serialise a day's rows in one call; whatever the values hold, the lines are the rows."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime

import orjson
from hypothesis import given
from hypothesis import strategies as st

from leadhub.jsonl import Lines, RawRows, array_lines, join_objects, object_bodies
from leadhub.models.conversion import Conversion, Kind, conversion_fields, conversion_json
from leadhub.store.partitions import COMPRESSION_LEVEL, decode, encode_lines, gzip_bytes, gzip_pieces, json_lines

VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(alphabet='{},[]"\\\n ab'),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=8,
)


@given(st.lists(st.dictionaries(st.text(alphabet="{},ab", max_size=4), VALUES, max_size=4), max_size=6))
def test_each_line_is_one_row_whatever_the_values_hold(rows: list[dict[str, object]]) -> None:
    data = json_lines(rows)
    assert [orjson.loads(line) for line in data.splitlines()] == rows
    assert list(decode(gzip.compress(data))) == rows


def test_a_conversion_is_written_as_pydantic_writes_it() -> None:
    conversion = Conversion(
        vendor="ringostat", stream="calls", vendor_id="1.2", vendor_account_id="11111", kind=Kind.CALL,
        occurred_at=datetime(2026, 11, 2, 7, 0, 1, tzinfo=UTC), local_date=date(2026, 11, 2), source="google",
        traffic_type="cpc", campaign="brand", tags=("a", "b"), extra={"billsec": 36, "proper": True},
    )  # fmt: skip
    assert json_lines([conversion_fields(conversion)]) == conversion_json(conversion) + b"\n"


ROWS = st.lists(st.dictionaries(st.text(alphabet="{},ab", max_size=4), VALUES, max_size=4), max_size=6)
SEPARATORS = st.sampled_from([(",", ":"), (", ", ": "), (",", ": ")])


def parsed_lines(lines: bytes | None) -> list[object]:
    return [orjson.loads(line) for line in (lines or b"").splitlines()]


@given(ROWS, SEPARATORS, st.booleans(), st.sets(st.integers(0, 5)))
def test_an_array_becomes_its_rows_lines_or_is_left_alone(
    rows: list[dict[str, object]], separators: tuple[str, str], ascii_only: bool, dropped: set[int]
) -> None:
    sent = json.dumps(rows, separators=separators, ensure_ascii=ascii_only).encode()
    lines, bodies = array_lines(sent, len(rows)), object_bodies(sent, len(rows))
    assert (lines is None) == (bodies is None)
    if lines is None or bodies is None:
        return  # left alone: the caller serialises the rows itself
    assert parsed_lines(lines) == rows
    assert all(line in sent for line in lines.splitlines())  # the bytes as sent
    assert join_objects(bodies) == lines
    answer = RawRows.parsed(rows, sent)
    kept = answer.kept([row for position, row in enumerate(answer) if position not in dropped])
    assert parsed_lines(kept.json_lines()) == list(kept)
    assert json_lines(kept) == kept.json_lines()
    both = RawRows.joined([kept, RawRows.parsed(rows, sent).kept(rows)])
    assert parsed_lines(both.json_lines()) == [*kept, *rows]


@given(ROWS, st.lists(st.sampled_from([",", ", ", " ,", ",\t", "\t,"]), min_size=5, max_size=5), SEPARATORS)
def test_an_array_whose_separators_differ_is_cut_only_where_each_is_a_separator(
    rows: list[dict[str, object]], between: list[str], separators: tuple[str, str]
) -> None:
    """No serialiser mixes spellings, but the cut must not rely on that: "{" counted once per object
    proves every "},{" a separator only when no other brace is there."""
    objects = [json.dumps(row, separators=separators, ensure_ascii=False) for row in rows]
    sent = (
        "[" + "".join(obj + between[at] for at, obj in enumerate(objects[:-1])) + "".join(objects[-1:]) + "]"
    ).encode()
    lines, bodies = array_lines(sent, len(rows)), object_bodies(sent, len(rows))
    assert (lines is None) == (bodies is None)
    if lines is not None:
        assert parsed_lines(lines) == rows
        assert all(line in sent for line in lines.splitlines())


def test_compact_arrays_are_cut_and_others_are_left_alone() -> None:
    rows = [{"calldate": "2024-06-02T09:30:47+0300", "n": 1}, {"calldate": "x", "tags": [{"a": 1}, {"b": 2}]}]
    compact = json.dumps(rows[:1] * 3, separators=(",", ":")).encode()
    assert object_bodies(compact, 3) == [b'"calldate":"2024-06-02T09:30:47+0300","n":1'] * 3
    assert array_lines(compact, 3) == b'{"calldate":"2024-06-02T09:30:47+0300","n":1}\n' * 3
    assert array_lines(compact + b"\n", 3) is not None  # a trailing line break is no line inside
    assert array_lines(json.dumps(rows[:1] * 3).encode(), 3) is None  # spaced
    assert array_lines(json.dumps(rows, separators=(",", ":")).encode(), 2) is None  # "},{" inside a value
    assert array_lines(json.dumps(rows[:1] * 3, indent=1).encode(), 3) is None  # line breaks
    assert array_lines(b"[]", 0) is None
    # spaced separators and a "},{" in a string making up their count: not cut
    tricky = [{"},{": None}, {}]
    assert array_lines(json.dumps(tricky).encode(), 2) is None
    assert object_bodies(json.dumps(tricky).encode(), 2) is None
    assert array_lines(json.dumps(tricky, separators=(",", ":")).encode(), 2) is None  # one "},{" too many
    # flat objects (one brace each) cut where every separator is "},{"; one spaced among them: not cut
    assert array_lines(b'[{"a":1},{"b":"}, {"},{"c":3}]', 3) is None  # a brace in a string: scanned
    assert array_lines(b'[{"a":1},{"b":2},{"c":3}]', 3) == b'{"a":1}\n{"b":2}\n{"c":3}\n'
    assert array_lines(b'[{"a":1}, {"b":2},{"c":3}]', 3) is None
    assert array_lines(b'[{"a":"},"}, {"b":2}]', 2) is None
    unparsed = RawRows.parsed(rows, json.dumps(rows).encode())
    assert unparsed.json_lines() is None and unparsed.kept(rows[:1]).json_lines() is None
    assert RawRows(rows, lines=[Lines.of(b"{}\n", 1)]).json_lines() is None  # not one line a row: never used


def test_rows_changed_after_reading_lose_the_vendors_bytes() -> None:
    rows = [{"id": 1}, {"id": 2}, {"id": 3}]
    sent = json.dumps(rows, separators=(",", ":")).encode()
    for change in (
        lambda raw: raw.sort(key=lambda row: -row["id"]),
        lambda raw: raw.__setitem__(0, {"id": 9}),
        lambda raw: raw.reverse(),
        lambda raw: (raw.pop(), raw.append({"id": 9})),
    ):
        raw = RawRows.parsed(list(rows), sent).kept(list(rows))
        assert raw.json_lines() is not None
        change(raw)
        assert raw.json_lines() is None
        assert parsed_lines(json_lines(raw)) == list(raw)  # serialised as they are now


@given(st.binary(max_size=3000), st.lists(st.integers(0, 3000), max_size=6))
def test_pieces_are_gzipped_as_their_bytes_joined(data: bytes, cuts: list[int]) -> None:
    at = sorted({min(cut, len(data)) for cut in cuts})
    pieces = [memoryview(data)[start:end] for start, end in zip([0, *at], [*at, len(data)], strict=True)]
    assert gzip_pieces(pieces) == gzip_bytes(data) == gzip.compress(data, COMPRESSION_LEVEL, mtime=0)


def test_lines_dropped_at_either_end_leave_the_middle_uncopied() -> None:
    lines = Lines.of(b'{"a":1}\n{"b":2}\n{"c":3}\n', 3)
    assert bytes(lines.middle(1, 1)) == b'{"b":2}\n'
    assert bytes(lines.middle(0, 2)) == b'{"a":1}\n'
    assert bytes(lines.middle(2, 0)) == b'{"c":3}\n'
    assert lines.middle(1, 0).count == 2 and lines.middle(1, 0).data is lines.data
    cut = array_lines(b'[{"a":1},{"b":2}]', 2)
    assert cut == b'{"a":1}\n{"b":2}\n'


@given(st.lists(st.binary(max_size=20).map(lambda data: data.replace(b"\n", b"")), max_size=9000))
def test_lines_written_in_chunks_are_gzipped_as_one_text(lines: list[bytes]) -> None:
    text = b"".join(line + b"\n" for line in lines)
    assert encode_lines(iter(lines)) == (gzip.compress(text, COMPRESSION_LEVEL, mtime=0), len(lines))
