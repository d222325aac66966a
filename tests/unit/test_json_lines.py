"""Partitions serialise a day's rows in one call; whatever the values hold, the lines are the rows."""

from __future__ import annotations

import gzip
from datetime import UTC, date, datetime

import orjson
from hypothesis import given
from hypothesis import strategies as st

from leadhub.models.conversion import Conversion, Kind, conversion_fields, conversion_json
from leadhub.store.partitions import decode, json_lines

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
