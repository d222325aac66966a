"""A month of a rate-limited stream in one request, served day by day, losing and doubling nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from leadhub.extract.prefetch import RangePrefetch, iso_moment

T0 = datetime(2026, 11, 1, 21, 0, tzinfo=UTC)  # Moscow midnight


def rows_at(offsets: list[int]) -> list[dict[str, str]]:
    return [
        {"id": str(index), "creation_date": (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S+0000")}
        for index, minutes in enumerate(offsets)
    ]


@given(offsets=st.lists(st.integers(0, 10 * 24 * 60 - 1), max_size=60), days=st.integers(1, 10))
def test_days_served_from_one_fetch_partition_the_rows(offsets: list[int], days: int) -> None:
    rows = rows_at(offsets)
    fetches: list[tuple[datetime, datetime]] = []

    def fetch(start: datetime, end: datetime) -> list[dict[str, str]]:
        fetches.append((start, end))
        window = [row for row in rows if start <= datetime.fromisoformat(row["creation_date"]) < end]
        return sorted(window, key=lambda row: row["creation_date"])  # the client asks the vendor to sort

    prefetch = RangePrefetch(fetch, iso_moment("creation_date"))
    served = [
        row["id"] for day in range(10) for row in prefetch.read(T0 + timedelta(days=day), T0 + timedelta(days=day + 1))
    ]
    assert sorted(served) == sorted(row["id"] for row in rows)
    assert len(fetches) == 1


def test_a_row_without_a_readable_time_is_kept_on_the_first_day() -> None:
    rows = [{"id": "x", "creation_date": None}, *rows_at([60, 60 * 30])]
    prefetch = RangePrefetch(lambda start, end: rows, iso_moment("creation_date"))
    first = prefetch.read(T0, T0 + timedelta(days=1))
    second = prefetch.read(T0 + timedelta(days=1), T0 + timedelta(days=2))
    assert [row["id"] for row in first] == ["x", "0"]
    assert [row["id"] for row in second] == ["1"]


def test_a_day_outside_the_fetched_span_is_fetched_again() -> None:
    calls: list[datetime] = []

    def fetch(start: datetime, end: datetime) -> list[dict[str, str]]:
        calls.append(start)
        return []

    prefetch = RangePrefetch(fetch, iso_moment("creation_date"), span=timedelta(days=2))
    for day in range(5):
        prefetch.read(T0 + timedelta(days=day), T0 + timedelta(days=day + 1))
    assert calls == [T0, T0 + timedelta(days=2), T0 + timedelta(days=4)]


def test_the_span_is_read_only_as_far_as_the_day_asked_for() -> None:
    rows = rows_at([60 * 24 * day + 30 for day in range(10)])
    taken: list[str] = []

    def fetch(start: datetime, end: datetime) -> Iterator[dict[str, str]]:
        for row in rows:
            taken.append(row["id"])  # a page at a time, as the vendor client pages
            yield row

    prefetch = RangePrefetch(fetch, iso_moment("creation_date"))
    assert [row["id"] for row in prefetch.read(T0, T0 + timedelta(days=1))] == ["0"]
    assert taken == ["0", "1"]  # the first row past the day ends the read: a long span is no long read
    assert [row["id"] for row in prefetch.read(T0 + timedelta(days=1), T0 + timedelta(days=3))] == ["1", "2"]
    assert taken == ["0", "1", "2", "3"]
