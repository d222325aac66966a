"""Scheduled extraction end to end on the embedded AWS and the simulators: for a project whose
truth the simulator knows, the report equals the truth exactly — per source, traffic type,
campaign and day — after a normal run, a repeated run, a run stopped half-way and resumed, a run
through vendor faults, and a KPI-mode switch."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from leadhub.extract.engine import RunLimits
from leadhub.extract.reattribute import reattribute
from leadhub.extract.run import run_connector
from leadhub.jobs.dispatch import use_local_runner
from leadhub.jobs.runner import run_vendor
from leadhub.models.settings import Vendor
from leadhub.reports.conversions import ReportQuery, conversion_report
from leadhub.setup.connectors import ConnectorCreate, Connectors
from leadhub.setup.projects import ProjectCreate, Projects
from leadhub.setup.status import connector_status
from leadhub.store import aws as store_aws
from leadhub.store.connectors import ConnectorStore
from leadhub.store.daily import summaries_prefix
from leadhub.store.objects import ObjectStore
from leadhub.store.secrets import SecretStore
from simulators.ringostat import RingostatScenario, RingostatSimulator
from tests.integration.ringostat_marks import call_marks

ZONE = "Europe/Kyiv"
ACCOUNT = "acc-extract"
STATIC_RULE = {
    "parameter": "pool",
    "value": "OLX static",
    "source": "OLX",
    "traffic_type": "classified",
    "campaign": "OLX objects",
}
DAYS = 4
LIMITS = RunLimits(initial_days=DAYS + 1, safety_ms=1000)


def forever() -> int:
    return 10**9


@dataclass
class World:
    simulator: RingostatSimulator
    project_id: str
    connector_id: str

    def run(self, **kwargs: Any) -> str:
        return run_connector(self.connector_id, remaining_ms=kwargs.pop("remaining_ms", forever), limits=LIMITS).status

    def report(self, group_by: str = "date,source,traffic_type,campaign") -> Counter[tuple[str, ...]]:
        today = datetime.now(ZoneInfo(ZONE)).date()
        query = ReportQuery.model_validate(
            {"from": today - timedelta(days=DAYS + 1), "to": today + timedelta(days=1), "group_by": group_by}
        )
        report = conversion_report(self.project_id, query)
        return Counter({tuple(row.dimensions[name] for name in query.group_by): row.inquiries for row in report.rows})

    def truth(self, mode: str = "all") -> Counter[tuple[str, ...]]:
        expected: Counter[tuple[str, ...]] = Counter()
        for call in self.simulator.scenario.truth().values():
            if mode == "unique" and not call.unique:
                continue
            marks = call_marks(call, STATIC_RULE)
            expected[(call.calldate.astimezone(ZoneInfo(ZONE)).date().isoformat(), *marks)] += 1
        return expected


@pytest.fixture
def world(aws: dict[str, str]) -> Iterator[World]:
    today = datetime.now(ZoneInfo(ZONE)).date()
    scenario = RingostatScenario(
        seed=11, days=DAYS, calls_per_day=150, start_date=today - timedelta(days=DAYS - 1), time_zone=ZONE
    )
    with RingostatSimulator(scenario) as simulator:
        simulator.set_faults(timeout_seconds=0.5)
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
                settings={"static_channels": [STATIC_RULE], "history_days": DAYS + 1},
            ),
        )
        yield World(simulator, project.id, connector.id)
    os.environ.pop("RINGOSTAT_BASE_URL", None)


def test_a_normal_run_reports_exactly_the_truth(world: World) -> None:
    assert world.run() == "done"
    assert world.report() == world.truth()


def test_a_repeated_run_counts_nothing_twice(world: World) -> None:
    world.run()
    first = world.report()
    assert world.run() == "done"
    assert world.report() == first == world.truth()


def test_a_run_stopped_half_way_resumes_from_its_checkpoint(world: World) -> None:
    budget = iter([10**9, 10**9, 0])
    assert world.run(remaining_ms=lambda: next(budget, 0)) == "partial"
    assert world.report() != world.truth()
    [calls] = connector_status(Connectors().get(ACCOUNT, world.connector_id)).streams
    assert calls.state == "backfilling"
    assert calls.progress is not None and calls.progress.done == 2 < calls.progress.total
    assert world.run() == "done"
    assert world.report() == world.truth()


def test_vendor_faults_lose_and_double_nothing(world: World) -> None:
    world.simulator.set_faults(retry_after=0)
    world.simulator.inject("429", "500", "timeout", "malformed")
    assert world.run() == "done"
    assert world.report() == world.truth()


def test_a_vendor_down_for_a_whole_run_fails_it_visibly_and_the_next_run_catches_up(world: World) -> None:
    world.simulator.inject(*["503"] * 5)
    assert world.run() == "failed"
    status = connector_status(Connectors().get(ACCOUNT, world.connector_id))
    assert status.streams[0].state == "failed"
    assert status.streams[0].last_error is not None
    assert status.streams[0].last_error.error_class == "transient"
    assert world.run() == "done"
    assert world.report() == world.truth()


def test_switching_the_kpi_mode_reattributes_the_archive(world: World) -> None:
    world.run()
    Connectors().update_settings(ACCOUNT, world.connector_id, {"kpi_mode": "unique"})
    requests_before = sum(world.simulator.request_counts.values())
    reattribute(world.connector_id)
    assert sum(world.simulator.request_counts.values()) == requests_before  # the vendor was not asked again
    assert world.report() == world.truth("unique")
    assert sum(world.report().values()) < sum(world.truth().values())


def test_a_revoked_key_fails_its_connector_with_a_config_error_and_others_keep_loading(world: World) -> None:
    connectors = Connectors()
    healthy = connectors.create(
        ACCOUNT,
        world.project_id,
        ConnectorCreate(
            vendor=Vendor.RINGOSTAT,
            name="Second",
            vendor_account_id=str(world.simulator.scenario.project_id),
            credentials={"auth_key": world.simulator.auth_key},
        ),
    )
    revoked = "revoked-key-0000"
    SecretStore().put(world.connector_id, {"auth_key": revoked})  # the user revoked it at Ringostat
    world.simulator.knobs.revoked_keys = {revoked}

    outcomes = {o.connector_id: o for o in run_vendor(Vendor.RINGOSTAT, remaining_ms=forever, fan_out=False)}

    assert outcomes[world.connector_id].status == "failed"
    failed = connector_status(connectors.get(ACCOUNT, world.connector_id))
    assert failed.streams[0].state == "failed"
    assert failed.streams[0].last_error is not None
    assert failed.streams[0].last_error.error_class == "config"
    assert revoked not in failed.model_dump_json()
    assert outcomes[healthy.id].status == "done"
    assert world.report(group_by="connector") == Counter({(healthy.id,): sum(world.truth().values())})


def test_credential_failures_in_a_row_pause_the_connector(world: World) -> None:
    SecretStore().put(world.connector_id, {"auth_key": "revoked-key-0000"})
    for _ in range(LIMITS.pause_after_config_failures):
        assert world.run() == "failed"
    connector = ConnectorStore().find_connector(world.connector_id)
    assert connector.active is False
    assert "credential" in (connector.paused_reason or "")
    assert world.connector_id not in ConnectorStore().scheduled("ringostat")
    assert world.run() == "inactive"


def test_a_call_at_23_30_local_time_lands_on_that_local_date(aws: dict[str, str]) -> None:
    from leadhub.attribution import ringostat as attribution
    from leadhub.attribution.rules import AttributionRules
    from leadhub.connectors.ringostat import RingostatSettings

    rules = AttributionRules.from_settings(RingostatSettings(), project_timezone="Europe/Moscow")
    row = {"uniqueid": "u1", "calldate": "2026-11-20T23:30:00+0300", "call_counter": 1, "pool_name": "p"}
    [conversion] = list(attribution.normalise_calls([row], rules, "1"))
    assert conversion.local_date == date(2026, 11, 20)
    assert conversion.occurred_at == datetime(2026, 11, 20, 20, 30, tzinfo=UTC)


def test_deleting_keeps_the_data_unless_purged(world: World) -> None:
    world.run()
    loaded = world.report()
    second = Connectors().create(
        ACCOUNT,
        world.project_id,
        ConnectorCreate(
            vendor=Vendor.RINGOSTAT,
            name="Twin",
            vendor_account_id=str(world.simulator.scenario.project_id),
            credentials={"auth_key": world.simulator.auth_key},
        ),
    )
    run_connector(second.id, remaining_ms=forever, limits=LIMITS)
    assert sum(world.report().values()) == 2 * sum(loaded.values())

    kept = Connectors().delete(ACCOUNT, second.id, purge=False)
    assert kept["data_kept"] is True
    assert sum(world.report().values()) == 2 * sum(loaded.values())

    purged = Connectors().delete(ACCOUNT, world.connector_id, purge=True)
    assert purged["purged_objects"] > 0
    assert not list(ObjectStore().keys(summaries_prefix(world.project_id, world.connector_id)))
    assert sum(world.report().values()) == sum(loaded.values())  # only the kept connector's data is left


def test_a_scheduled_run_fans_out_one_run_per_connector(world: World) -> None:
    started: list[dict[str, Any]] = []
    use_local_runner(started.append)
    try:
        outcomes = run_vendor(Vendor.RINGOSTAT, remaining_ms=forever)
    finally:
        use_local_runner(None)
    assert [payload["job"]["connector_id"] for payload in started] == [world.connector_id]
    assert [outcome.status for outcome in outcomes] == ["dispatched"]
    deactivated = Connectors().set_active(ACCOUNT, world.connector_id, False)
    assert not deactivated.scheduled
    assert run_vendor(Vendor.RINGOSTAT, remaining_ms=forever, fan_out=True) == []
