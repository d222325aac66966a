"""The Roistat truth harness: extraction through the engine against the simulator, and what the stored
conversions say equals what the simulator generated — per day and per source / traffic type / campaign,
for every measure (inquiries, deals, revenue, forecast revenue) — after the first load, a repeated run,
faults mid-run, a run stopped half-way, and in each KPI mode.

The simulator models seed 000: artificial proxy leads for CRM deals without an inquiry, deals made from
static calls (carrying the channel's marker), repeat contacts across days and across calls and forms
(by phone, and by e-mail where a form has no phone), tagged and untagged calls, a «Не учитывается»
status. Its `measures()` is worked out from what it generated, not from Leadhub's attribution.

The measures are the report's own (`reports.conversions.conversion_report`), grouped by date, source,
traffic type and campaign."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from leadhub.extract.engine import RunLimits
from leadhub.extract.reattribute import reattribute
from leadhub.extract.run import run_connector
from leadhub.models.settings import Vendor
from leadhub.reports.conversions import ReportQuery, conversion_report
from leadhub.setup.connectors import ConnectorCreate, Connectors
from leadhub.setup.projects import ProjectCreate, Projects
from leadhub.setup.status import connector_status
from leadhub.store import aws as store_aws
from simulators.roistat import DEFAULT_API_KEY, RoistatKnobs, RoistatScenario, RoistatSimulator

ZONE = "Europe/Moscow"
ACCOUNT = "acc-roistat-truth"
DAYS = 4
LIMITS = RunLimits(initial_days=DAYS + 1, safety_ms=1000)
AVITO = {
    "parameter": "roistat",
    "value": "avito",
    "source": "Авито",
    "traffic_type": "Классифайды",
    "campaign": "Авито",
}
CHANNELS = {"avito": ("Авито", "Классифайды", "Авито")}
#: (inquiries, deals, revenue, forecast revenue)
Measured = tuple[int, int, float, float]


def forever() -> int:
    return 10**9


@dataclass
class World:
    simulator: RoistatSimulator
    project_id: str
    connector_id: str

    @property
    def vendor_project(self) -> int:
        return self.simulator.scenario.project_ids()[0]

    def run(self, remaining_ms: Any = forever) -> str:
        return run_connector(self.connector_id, remaining_ms=remaining_ms, limits=LIMITS).status

    def settings(self, **changes: Any) -> None:
        Connectors().update_settings(ACCOUNT, self.connector_id, changes)

    def report(self) -> dict[tuple[str, ...], Measured]:
        """What the report answers (the measures defined once in `reports.conversions`), per day and marks."""
        query = ReportQuery.model_validate(
            {"from": "2000-01-01", "to": "2100-01-01", "group_by": ["date", "source", "traffic_type", "campaign"]}
        )
        report = conversion_report(self.project_id, query)
        return {
            tuple(row.dimensions[name] for name in query.group_by): (
                row.inquiries,
                row.deals.total,
                row.revenue,
                row.forecast_revenue,
            )
            for row in report.rows
            if row.inquiries or row.deals.total or row.revenue or row.forecast_revenue
        }

    def truth(self, **rules: Any) -> dict[tuple[str, ...], Measured]:
        measures = self.simulator.data.measures(self.vendor_project, zone=ZONE, channels=CHANNELS, **rules)
        truth = {
            key: (m.inquiries, m.deals, m.revenue, m.forecast_revenue)
            for key, m in measures.items()
            if m.inquiries or m.deals or m.revenue or m.forecast_revenue
        }
        assert truth
        return truth


def make_world(scenario: RoistatScenario, knobs: RoistatKnobs | None = None, **settings: Any) -> Iterator[World]:
    with RoistatSimulator(scenario, knobs=knobs) as simulator:
        simulator.set_faults(timeout_seconds=0.5)
        os.environ["ROISTAT_BASE_URL"] = simulator.api_url
        store_aws.reset()
        project = Projects().create(ACCOUNT, ProjectCreate(name="Shop", timezone=ZONE))
        connector = Connectors().create(
            ACCOUNT,
            project.id,
            ConnectorCreate(
                vendor=Vendor.ROISTAT,
                name="Roistat",
                vendor_account_id=str(scenario.project_ids()[0]),
                credentials={"api_key": DEFAULT_API_KEY},
                settings={"static_channels": [AVITO], **settings},
            ),
        )
        yield World(simulator, project.id, connector.id)
    os.environ.pop("ROISTAT_BASE_URL", None)


def scenario(**changes: Any) -> RoistatScenario:
    today = datetime.now(ZoneInfo(ZONE)).date()
    return RoistatScenario(
        seed=7, projects=1, start=today - timedelta(days=DAYS - 1), days=DAYS, timezone=ZONE, **changes
    )


@pytest.fixture
def world(aws: dict[str, str]) -> Iterator[World]:
    yield from make_world(scenario())


def test_the_first_load_and_a_repeated_run_equal_the_truth(world: World) -> None:
    assert world.run() == "done"
    truth = world.truth()
    assert world.report() == truth
    assert world.run() == "done"
    assert world.report() == truth


def test_the_scenario_holds_what_seed_000_describes(world: World) -> None:
    data = world.simulator.data
    leads = [lead for index in range(DAYS) for lead in data.day(world.vendor_project, index).leads]
    orders = [order for index in range(DAYS) for order in data.day(world.vendor_project, index).orders]
    assert any(lead.artificial for lead in leads) and any(not lead.artificial for lead in leads)
    assert any(order.marker for order in orders)  # deals made from static calls
    assert any(order.status and order.status.type is None for order in orders)  # «Не учитывается»
    assert any(not lead.data["phone"] and lead.data["email"] for lead in leads)
    # one inquiry is one inquiry: the artificial leads and the deals add nothing to the inquiries
    inquiries = sum(m[0] for m in world.truth().values())
    genuine = sum(1 for lead in leads if not lead.artificial)
    assert inquiries == len(world.simulator.truth(world.vendor_project)) + genuine


def test_faults_mid_run_lose_and_double_nothing(world: World) -> None:
    world.simulator.set_faults(retry_after=0)
    world.simulator.inject("429", "500", "timeout", "malformed")
    assert world.run() == "done"
    assert world.report() == world.truth()


def test_a_run_stopped_half_way_resumes_to_the_truth(world: World) -> None:
    budget = iter([10**9, 10**9, 0])
    assert world.run(remaining_ms=lambda: next(budget, 0)) == "partial"
    assert world.report() != world.truth()
    assert world.run() == "done"
    assert world.report() == world.truth()


def test_unique_mode_counts_each_person_once_across_days_calls_and_forms(world: World) -> None:
    world.run()
    world.settings(kpi_mode="unique")
    reattribute(world.connector_id)
    unique = world.truth(kpi_mode="unique")
    assert world.report() == unique
    assert sum(m[0] for m in unique.values()) < sum(m[0] for m in world.truth().values())
    assert world.run() == "done"  # the lookback re-reads days whose people contacted before the window
    assert world.report() == unique


def test_unique_mode_from_the_first_load(aws: dict[str, str]) -> None:
    for world in make_world(scenario(), kpi_mode="unique"):
        assert world.run() == "done"
        assert world.report() == world.truth(kpi_mode="unique")


def test_tagged_mode_matches_a_typed_tag_with_spaces(world: World) -> None:
    world.run()
    world.settings(kpi_mode="tagged", tags=[" квал "])
    reattribute(world.connector_id)
    assert world.report() == world.truth(kpi_mode="tagged", tags={"квал"})


def test_not_counted_deals_left_out_when_the_toggle_is_off(world: World) -> None:
    world.run()
    world.settings(include_not_counted=False)
    reattribute(world.connector_id)
    assert world.report() == world.truth(include_not_counted=False)


def test_a_vendor_answering_more_than_asked_stores_each_call_once(aws: dict[str, str]) -> None:
    for world in make_world(scenario(), RoistatKnobs(calls_ignore_date_filter=True)):
        assert world.run() == "done"
        assert world.report() == world.truth()


def test_deal_dates_without_an_offset_land_on_their_own_day_on_every_run(aws: dict[str, str]) -> None:
    for world in make_world(scenario(order_date_shape="naive")):
        assert world.run() == "done"
        assert world.report() == world.truth()
        assert world.run() == "done"
        assert world.report() == world.truth()


def test_every_stream_loads(world: World) -> None:
    assert world.run() == "done"
    status = connector_status(Connectors().get(ACCOUNT, world.connector_id))
    assert [s.stream for s in status.streams] == ["calls", "orders", "proxyleads", "clients"]
    assert all(s.state == "idle" and s.last_success_at for s in status.streams), status


def test_a_project_without_call_tracking_loads_its_other_streams_and_stays_active(world: World) -> None:
    world.simulator.knobs.disabled_options = {world.vendor_project: {"calltracking"}}
    for _ in range(RunLimits().pause_after_config_failures + 1):
        outcome = run_connector(world.connector_id, remaining_ms=forever, limits=LIMITS)
        assert {stream.stream: stream.status for stream in outcome.streams}["calls"] == "failed"
        assert {stream.status for stream in outcome.streams if stream.stream != "calls"} == {"done"}
    status = connector_status(Connectors().get(ACCOUNT, world.connector_id))
    assert status.active  # a feature off is the stream's own configuration: nothing pauses
    streams = {stream.stream: stream for stream in status.streams}
    assert streams["calls"].state == "failed"
    assert streams["calls"].last_error is not None
    assert streams["calls"].last_error.scope == "stream"
    assert "switched off" in streams["calls"].last_error.explanation
    assert "call tracking is off in this Roistat project" in streams["calls"].last_error.message
    assert all(stream.state == "idle" for name, stream in streams.items() if name != "calls")
