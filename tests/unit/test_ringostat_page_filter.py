"""A page of calls in order is filtered by bisection; whatever the page holds, it keeps what reading it row
by row keeps, and sees the same offsets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from leadhub.vendors.ringostat import RingostatClient, _TextWindow

START = datetime(2024, 10, 27, 0, 0, tzinfo=UTC)  # Kyiv leaves summer time at 01:00 UTC
END = START + timedelta(hours=3)
OFFSETS = st.sampled_from([timedelta(hours=2), timedelta(hours=3), timedelta(hours=-5)])
SECONDS = st.integers(-7200, 3 * 3600 + 7200)


def ringostat_text(seconds: int, offset: timedelta) -> str:
    moment = (START + timedelta(seconds=seconds)).astimezone(timezone(offset))
    return moment.strftime("%Y-%m-%dT%H:%M:%S%z")


TEXTS = st.one_of(
    st.builds(ringostat_text, SECONDS, OFFSETS),
    st.builds(ringostat_text, SECONDS, st.just(timedelta(hours=2))),
    st.sampled_from([None, 17, "", "garbage", "2024-10-27 01:30:00+0200", "2024-10-27T01:30:00Z"]),
)
KEYS = st.sampled_from([None, "1", "2", "3", "4", 5, "6"])
ROW = st.fixed_dictionaries({"calldate": TEXTS, "uniqueid": KEYS})
#: The usual page: one offset (either side of the window, sometimes inside it), ids mostly distinct.
USUAL = st.fixed_dictionaries(
    {"calldate": st.builds(ringostat_text, SECONDS, st.just(timedelta(hours=2))), "uniqueid": st.text("0123456789")}
)
PAGE = st.one_of(st.lists(ROW, max_size=12), st.lists(USUAL, min_size=1, max_size=12))


def client() -> RingostatClient:
    return RingostatClient("key", base_url="http://127.0.0.1:9", project_tz="Europe/Kyiv")


def in_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if all(isinstance(row["calldate"], str) for row in rows):
        return sorted(rows, key=lambda row: row["calldate"])
    return rows


@given(st.lists(PAGE, max_size=4), st.lists(st.booleans(), min_size=4, max_size=4))
def test_a_page_in_order_keeps_what_row_by_row_keeps(pages: list[list[dict[str, Any]]], ordered: list[bool]) -> None:
    pages = [in_order(page) if sort else page for page, sort in zip(pages, ordered, strict=False)]
    slow, fast = client(), client()
    slow_window, fast_window = _TextWindow(START, END), _TextWindow(START, END)
    slow_seen: set[Any] = set()
    fast_seen: set[Any] = set()
    for page in pages:
        expected, _ = slow._kept_row_by_row(page, slow_window, slow_seen)
        kept = fast._kept_in_order(page, fast_window, fast_seen)
        if kept is None:
            kept, _ = fast._kept_row_by_row(page, fast_window, fast_seen)
        assert [id(row) for row in kept] == [id(row) for row in expected]
        assert fast_seen == slow_seen
    assert fast._foreign == slow._foreign
    assert fast._hours_checked == slow._hours_checked


def test_a_continued_page_drops_the_calls_read_already_and_keeps_the_window() -> None:
    rows = [
        {"calldate": ringostat_text(second, timedelta(hours=3)), "uniqueid": str(second)} for second in range(-60, 60)
    ]
    seen = {"-3", "0", "1"}
    kept = client()._kept_in_order(rows, _TextWindow(START, END), seen)
    assert kept is not None  # one offset, in order, every call its own id
    assert [row["uniqueid"] for row in kept] == [str(second) for second in range(2, 60)]
    assert seen >= {str(second) for second in range(60)}
    unordered = [rows[1], rows[0], *rows[2:]]
    assert client()._kept_in_order(unordered, _TextWindow(START, END), set()) is None  # read row by row
