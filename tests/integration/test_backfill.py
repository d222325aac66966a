"""Backfill on a settings change, end to end on the embedded AWS and the Ringostat simulator: the
connectors table's stream is pumped into the backfill handler exactly as its event-source mapping
would be (template.yaml), and the jobs it plans run through the one dispatch."""

from __future__ import annotations

import gzip
import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from backfill.app import lambda_handler as backfill_handler

from devstack.streams import StreamPump
from leadhub.extract.engine import RunLimits
from leadhub.extract.reattribute import reattribute
from leadhub.extract.run import run_connector
from leadhub.jobs.runner import connector_jobs, dispatch_next, enqueue, new_job, run_job, run_vendor, start_extraction
from leadhub.models.job import JobKind, JobState
from leadhub.models.settings import Vendor
from leadhub.reports.conversions import ReportQuery
from leadhub.setup.connectors import ConnectorCreate, Connectors
from leadhub.setup.projects import ProjectCreate, Projects
from leadhub.setup.reports import project_report
from leadhub.setup.status import connector_status
from leadhub.store import aws as store_aws
from leadhub.store.connectors import ConnectorStore
from leadhub.store.objects import ObjectStore
from leadhub.store.partitions import CONVERSIONS, connector_prefix
from leadhub.store.streams import receive_messages
from leadhub.store.sync_state import SyncStateStore
from simulators.ringostat import RingostatScenario, RingostatSimulator
from tests.integration.backfill_flow import LocalBackfill, forever, local_backfill
from tests.integration.ringostat_marks import call_marks

ZONE = "Europe/Kyiv"
ACCOUNT = "acc-backfill"
DAYS = 8
HISTORY = 5
CHANNEL = {"parameter": "pool", "value": "OLX static", "source": "OLX", "traffic_type": "classified", "campaign": "OLX"}


@dataclass
class World:
    simulator: RingostatSimulator
    project_id: str
    connector_id: str
    backfill: LocalBackfill

    @property
    def pump(self) -> StreamPump:
        return self.backfill.pump

    @property
    def dispatched(self) -> list[dict[str, Any]]:
        return self.backfill.dispatched

    def run(self) -> str:
        return run_connector(self.connector_id, remaining_ms=forever, limits=RunLimits(safety_ms=1000)).status

    def change(self, **settings: Any) -> None:
        self.backfill.change(ACCOUNT, self.connector_id, **settings)

    def drain(self) -> None:
        self.backfill.drain()

    def report(self) -> Counter[tuple[str, ...]]:
        today = datetime.now(ZoneInfo(ZONE)).date()
        query = ReportQuery.model_validate(
            {"from": today - timedelta(days=DAYS + 1), "to": today, "group_by": "date,source,traffic_type,campaign"}
        )
        report = project_report(ACCOUNT, self.project_id, query)
        return Counter({tuple(row.dimensions[name] for name in query.group_by): row.inquiries for row in report.rows})

    def truth(self, *, channel: dict[str, str] | None, days: int = HISTORY) -> Counter[tuple[str, ...]]:
        first = datetime.now(ZoneInfo(ZONE)).date() - timedelta(days=days - 1)
        expected: Counter[tuple[str, ...]] = Counter()
        for call in self.simulator.scenario.truth().values():
            day = call.calldate.astimezone(ZoneInfo(ZONE)).date()
            if day < first:
                continue
            marks = call_marks(call, channel)
            expected[(day.isoformat(), *marks)] += 1
        return expected

    def built_versions(self) -> set[int]:
        [state] = SyncStateStore().by_stream(self.connector_id).values()
        return {version for _, version in state["days"].values()}

    def conversion_objects(self) -> dict[str, bytes]:
        objects = ObjectStore()
        return {key: objects.get(key) for key in objects.keys(connector_prefix(CONVERSIONS, self.project_id, ""))}


@pytest.fixture
def world(aws: dict[str, str]) -> Iterator[World]:
    today = datetime.now(ZoneInfo(ZONE)).date()
    scenario = RingostatScenario(
        seed=7, days=DAYS, calls_per_day=60, start_date=today - timedelta(days=DAYS - 1), time_zone=ZONE
    )
    with RingostatSimulator(scenario) as simulator:
        os.environ["RINGOSTAT_BASE_URL"] = simulator.base_url
        store_aws.reset()
        project = Projects().create(ACCOUNT, ProjectCreate(name="Киев", timezone=ZONE))
        connector = Connectors().create(
            ACCOUNT,
            project.id,
            ConnectorCreate(
                vendor=Vendor.RINGOSTAT,
                name="Ringostat",
                vendor_account_id=str(scenario.project_id),
                credentials={"auth_key": simulator.auth_key},
                settings={"history_days": HISTORY},
            ),
        )
        with local_backfill() as backfill:
            yield World(simulator, project.id, connector.id, backfill)
    os.environ.pop("RINGOSTAT_BASE_URL", None)


def test_a_static_channel_added_edited_and_removed_moves_every_archive_day_without_asking_the_vendor(
    world: World,
) -> None:
    assert world.run() == "done"
    assert world.report() == world.truth(channel=None)
    requests = sum(world.simulator.request_counts.values())

    world.change(static_channels=[CHANNEL])
    world.drain()
    assert world.report() == world.truth(channel=CHANNEL)

    edited = {**CHANNEL, "campaign": "OLX spring"}
    world.change(static_channels=[edited])
    world.drain()
    assert world.report() == world.truth(channel=edited)

    world.change(static_channels=[])
    world.drain()
    assert world.report() == world.truth(channel=None)
    assert sum(world.simulator.request_counts.values()) == requests  # raw rows only: no vendor calls
    status = connector_status(Connectors().get(ACCOUNT, world.connector_id))
    assert status.archive.state == "idle"
    assert status.archive.summary == f"idle {HISTORY}/{HISTORY} days, settings v4"


def test_until_the_backfill_ran_the_status_counts_the_days_left_and_the_old_figures_stay(world: World) -> None:
    world.run()
    before = world.report()
    world.change(static_channels=[CHANNEL])
    status = connector_status(Connectors().get(ACCOUNT, world.connector_id))
    assert status.archive.state == "backfilling"
    assert status.archive.summary == f"backfilling 0/{HISTORY} days, settings v2"
    assert [(job.kind, job.state) for job in status.jobs] == [("reattribute", "queued")]
    assert world.report() == before  # no day is empty while it waits: it keeps its old figures
    world.drain()
    assert connector_status(Connectors().get(ACCOUNT, world.connector_id)).archive.state == "idle"


def test_a_duplicate_delivery_plans_nothing_new(world: World) -> None:
    world.run()
    Connectors().update_settings(ACCOUNT, world.connector_id, {"static_channels": [CHANNEL]})
    records = world.pump.read()
    assert len(records) == 1
    world.pump.deliver(records)
    planned = [job.id for job in connector_jobs(world.connector_id)]
    world.pump.deliver(records)  # the mapping delivers at least once
    assert [job.id for job in connector_jobs(world.connector_id)] == planned
    assert len(planned) == 1


def test_a_poison_record_is_retried_a_bounded_number_of_times_then_parked_while_its_batch_goes_on(
    world: World,
) -> None:
    world.run()
    Connectors().update_settings(ACCOUNT, world.connector_id, {"static_channels": [CHANNEL]})
    [good] = world.pump.read()
    poison = {**good, "dynamodb": {**good["dynamodb"], "SequenceNumber": "1"}}
    poison["dynamodb"]["NewImage"] = {**good["dynamodb"]["NewImage"], "vendor": {"S": "not-a-vendor"}}
    seen: Counter[str] = Counter()

    def counting(event: dict[str, Any], context: Any) -> Any:
        seen.update(record["dynamodb"]["SequenceNumber"] for record in event["Records"])
        return backfill_handler(event, context)

    world.pump.handler = counting
    world.pump.deliver([poison, good])

    assert seen["1"] == 1 + world.pump.retries  # the first delivery and the bounded retries
    assert seen[good["dynamodb"]["SequenceNumber"]] == 1
    [parked] = receive_messages(world.pump.failure_queue)
    assert parked["DDBStreamBatchInfo"]["startSequenceNumber"] == "1"
    assert [job.kind for job in connector_jobs(world.connector_id)] == [JobKind.REATTRIBUTE]
    world.drain()
    assert world.report() == world.truth(channel=CHANNEL)


def test_an_incremental_run_and_a_backfill_started_together_leave_no_day_built_with_older_settings(
    world: World,
) -> None:
    world.run()
    changed = iter([True])

    def change_half_way() -> int:
        # the settings change while the run holds the lease, and the backfill starts at once
        if next(changed, False):
            world.change(static_channels=[CHANNEL])
            world.drain()
            assert [job.state for job in connector_jobs(world.connector_id)][-1] is JobState.QUEUED
        return forever()

    connector = ConnectorStore().find_connector(world.connector_id)
    job = new_job(connector, JobKind.EXTRACT)
    enqueue(job)
    world.backfill.budget = lambda: change_half_way
    run_job(world.connector_id, job.id, remaining_ms=change_half_way, safety_ms=1000)
    world.backfill.budget = lambda: forever
    world.drain()

    assert world.built_versions() == {2}
    assert world.report() == world.truth(channel=CHANNEL)


def test_a_second_change_supersedes_a_running_backfill_and_the_archive_ends_with_the_last_settings(
    world: World,
) -> None:
    world.run()
    world.change(static_channels=[CHANNEL])
    [payload] = world.dispatched
    world.dispatched.clear()
    calls = iter(range(100))
    last = {**CHANNEL, "campaign": "OLX last"}

    def change_after_two_days() -> int:
        if next(calls) == 2:
            world.change(static_channels=[last])
        return forever()

    first = run_job(world.connector_id, payload["job"]["id"], remaining_ms=change_after_two_days, safety_ms=1000)
    assert first.state is JobState.SUPERSEDED
    assert 0 < first.done < HISTORY
    world.drain()
    assert world.built_versions() == {3}
    assert world.report() == world.truth(channel=last)


def test_a_backfill_that_outlives_its_invocation_continues_and_ends_as_one_long_run(world: World) -> None:
    world.run()

    def one_day_each() -> Callable[[], int]:
        left = iter([forever(), forever()])  # two days, then the time is up
        return lambda: next(left, 0)

    world.backfill.budget = one_day_each
    world.change(static_channels=[CHANNEL])
    world.drain()
    [job] = [job for job in connector_jobs(world.connector_id) if job.kind is JobKind.REATTRIBUTE]
    assert job.state is JobState.DONE
    assert job.invocations == 3  # two days, two days, one day
    assert (job.done, job.planned) == (HISTORY, HISTORY)
    continued = world.conversion_objects()

    assert reattribute(world.connector_id).days == HISTORY  # the same settings, in one long run
    assert world.conversion_objects() == continued
    assert all(gzip.decompress(data) for data in continued.values())


def test_a_backfill_the_vendor_holds_off_waits_for_its_retry_time_and_the_first_tick_after_it_finishes_it(
    world: World,
) -> None:
    world.run()
    world.simulator.set_faults(retry_after=3600)  # "come back in an hour": longer than a run may sleep
    world.simulator.inject("429")
    world.change(history_days=DAYS)
    world.drain()
    [job] = connector_jobs(world.connector_id)
    assert (job.kind, job.state, job.transient_failures) == (JobKind.RANGE, JobState.QUEUED, 1)
    assert job.retry_at is not None
    assert timedelta(minutes=59) < datetime.fromisoformat(job.retry_at) - datetime.now(UTC) <= timedelta(hours=1)
    status = connector_status(Connectors().get(ACCOUNT, world.connector_id))
    [view] = status.jobs
    assert view.retry_at == job.retry_at and "limit" in (view.last_error or "")
    assert status.archive.state == "backfilling"
    [calls] = status.streams
    assert calls.last_error is not None and calls.last_error.error_class == "transient"

    connector = ConnectorStore().find_connector(world.connector_id)
    start_extraction(connector)  # the schedule's tick before the retry time: nothing starts
    assert world.dispatched == []
    for _ in range(2):  # nor when ticks run inline (nothing to dispatch to), nor do they pile up jobs
        assert [tick.status for tick in run_vendor(Vendor.RINGOSTAT, remaining_ms=forever, fan_out=False)] == [
            "waiting"
        ]
    assert [(job.kind, job.state) for job in connector_jobs(world.connector_id)] == [
        (JobKind.RANGE, JobState.QUEUED),
        (JobKind.EXTRACT, JobState.QUEUED),
    ]
    assert dispatch_next(world.connector_id, now=datetime.now(UTC) + timedelta(hours=1, minutes=1)) == "local"
    world.drain()  # the range job, then the tick's extraction it was holding back
    assert [(job.kind, job.state) for job in connector_jobs(world.connector_id)] == [
        (JobKind.RANGE, JobState.DONE),
        (JobKind.EXTRACT, JobState.DONE),
    ]
    assert world.report() == world.truth(channel=None, days=DAYS)


def test_a_read_the_next_change_stops_before_its_plan_is_made_is_carried_on_once(world: World) -> None:
    world.run()
    world.change(history_days=DAYS)  # a range read of the added days, queued
    [read] = connector_jobs(world.connector_id)
    # the next save changes what attribution reads; the read starts before the stream brings the change
    # to the backfill, sees it and stops (superseded) with nothing done
    Connectors().update_settings(ACCOUNT, world.connector_id, {"static_channels": [CHANNEL]})
    world.drain()
    assert [job.state for job in connector_jobs(world.connector_id)] == [JobState.SUPERSEDED]
    world.pump.pump_once()  # now the change's plan: it carries on the stopped read
    world.change(static_channels=[])  # and a later change does not carry it again
    world.drain()
    carried = [job for job in connector_jobs(world.connector_id) if job.carries == read.id]
    assert [(job.kind, job.range_start, job.range_end) for job in carried] == [
        (JobKind.RANGE, read.range_start, read.range_end)
    ]
    assert world.report() == world.truth(channel=None, days=DAYS)


def test_moving_the_history_start_earlier_loads_the_added_days_and_leaves_the_cursor(world: World) -> None:
    world.run()
    cursor = _cursor(world)
    world.change(history_days=DAYS)
    world.drain()
    assert [(job.kind, job.state) for job in connector_jobs(world.connector_id)] == [("range", "done")]
    assert _cursor(world) == cursor
    assert world.report() == world.truth(channel=None, days=DAYS)
    assert world.run() == "done"  # the schedule carries on from its cursor
    assert world.report() == world.truth(channel=None, days=DAYS)


def test_a_report_over_days_not_loaded_yet_says_which(world: World) -> None:
    budget = iter([10**9, 10**9, 0])
    run_connector(world.connector_id, remaining_ms=lambda: next(budget, 0), limits=RunLimits(safety_ms=1000))
    today = datetime.now(ZoneInfo(ZONE)).date()
    query = ReportQuery.model_validate({"from": today - timedelta(days=HISTORY - 1), "to": today})
    report = project_report(ACCOUNT, world.project_id, query)
    assert report.partial is True
    assert report.missing_days == [today - timedelta(days=offset) for offset in range(HISTORY - 3, -1, -1)]
    world.run()
    assert project_report(ACCOUNT, world.project_id, query).partial is False


def test_rows_stored_count_each_day_once_however_often_it_is_read(world: World) -> None:
    world.run()
    world.run()
    [stream] = connector_status(Connectors().get(ACCOUNT, world.connector_id)).streams
    stored = sum(world.truth(channel=None).values())
    assert stream.rows_stored == stored
    assert stream.rows_read > stored


def test_a_deactivated_connector_stays_in_the_report_marked_and_a_deleted_one_leaves_it_at_once(
    world: World,
) -> None:
    world.run()
    Connectors().set_active(ACCOUNT, world.connector_id, False)
    today = datetime.now(ZoneInfo(ZONE)).date()
    query = ReportQuery.model_validate({"from": today - timedelta(days=HISTORY), "to": today})
    report = project_report(ACCOUNT, world.project_id, query)
    assert report.inactive_connectors == [world.connector_id]
    assert report.totals.inquiries == sum(world.truth(channel=None).values())
    Connectors().delete(ACCOUNT, world.connector_id, purge=False)
    assert project_report(ACCOUNT, world.project_id, query).totals.inquiries == 0


def _cursor(world: World) -> date | None:
    [state] = SyncStateStore().by_stream(world.connector_id).values()
    return date.fromisoformat(state["cursor"]) if state.get("cursor") else None
