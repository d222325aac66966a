"""The backfill plan: from the diff of old and new settings, only the work the change needs."""

from __future__ import annotations

from datetime import date, timedelta

from leadhub.connectors.roistat import SPEC as ROISTAT
from leadhub.jobs.plan import PlannedJob, archive_outdated, gaps, plan
from leadhub.models.job import JobKind

TODAY = date(2026, 12, 1)
BASE = {"kpi_mode": "all", "tags": [], "static_channels": [], "history_days": 30}
LOADED = {name: [(TODAY - timedelta(days=29), TODAY)] for name in ("calls", "orders", "proxyleads")}
CHANNEL = {"parameter": "marker", "value": "avito", "source": "Avito", "traffic_type": "cpa", "campaign": "A"}


def planned(new: dict[str, object], old: dict[str, object] = BASE) -> list[PlannedJob]:
    return plan(old, {**old, **new}, ROISTAT.streams, today=TODAY, stored=LOADED)


def test_what_attribution_reads_re_attributes_the_whole_archive_and_nothing_else() -> None:
    for change in (
        {"static_channels": [CHANNEL]},
        {"kpi_mode": "unique"},
        {"kpi_mode": "tagged", "tags": ["lead"]},
        {"include_not_counted": True},
    ):
        assert planned(change) == [PlannedJob(JobKind.REATTRIBUTE)], change


def test_a_stream_switched_on_reads_its_missing_days_from_the_vendor() -> None:
    old = {**BASE, "streams": {"proxyleads": False}}
    stored = {"calls": LOADED["calls"]}
    jobs = plan(old, {**old, "streams": {"proxyleads": True}}, ROISTAT.streams, today=TODAY, stored=stored)
    assert jobs == [PlannedJob(JobKind.RANGE, ("proxyleads",), TODAY - timedelta(days=29), TODAY)]


def test_a_stream_switched_back_on_is_re_attributed_and_only_its_gap_is_read() -> None:
    old = {**BASE, "streams": {"proxyleads": False}}
    switched_off_at = TODAY - timedelta(days=10)
    stored = {"proxyleads": [(TODAY - timedelta(days=29), switched_off_at)]}
    jobs = plan(old, {**old, "streams": {"proxyleads": True}}, ROISTAT.streams, today=TODAY, stored=stored)
    assert jobs == [
        PlannedJob(JobKind.REATTRIBUTE, ("proxyleads",)),
        PlannedJob(JobKind.RANGE, ("proxyleads",), switched_off_at + timedelta(days=1), TODAY),
    ]


def test_the_history_start_moved_earlier_reads_only_the_added_days_of_each_stream() -> None:
    jobs = planned({"history_days": 1096})
    added = (TODAY - timedelta(days=1095), TODAY - timedelta(days=30))
    assert jobs == [PlannedJob(JobKind.RANGE, (name,), *added) for name in ("calls", "orders", "proxyleads")]


def test_switching_off_moving_the_history_later_or_a_lookback_plans_nothing() -> None:
    assert planned({"streams": {"calls": False}}) == []
    assert planned({"history_days": 7}) == []
    assert planned({"lookback_days": {"calls": 5}}) == []


def test_a_days_built_with_the_old_settings_are_outdated_only_when_attribution_or_the_zone_changed() -> None:
    assert archive_outdated(BASE, {**BASE, "tags": ["x"]})
    assert archive_outdated(BASE, {**BASE, "vendor_timezone": "Europe/Kyiv"})
    assert not archive_outdated(BASE, {**BASE, "history_days": 365, "streams": {"calls": False}})


def test_gaps_are_the_window_less_what_is_stored() -> None:
    day = date(2026, 1, 10)
    window = (day, day + timedelta(days=9))
    assert gaps(window, []) == [window]
    stored = [(day + timedelta(days=2), day + timedelta(days=3)), (day + timedelta(days=8), day + timedelta(days=20))]
    assert gaps(window, stored) == [(day, day + timedelta(days=1)), (day + timedelta(days=4), day + timedelta(days=7))]
