"""The Roistat truth harness: extraction through the engine against the simulator, and what the stored
conversions say equals what the simulator generated — per day and per source / traffic type / campaign,
for every measure (inquiries, deals, revenue, forecast revenue) — after the first load, a repeated run,
faults mid-run, a run stopped half-way, in each KPI mode, after every kind of settings change applied
through the backfill (the connectors table's stream planned into jobs, run to completion), and after the
connector is deactivated or deleted. The client report it stores is the simulator's, client for client.

The simulator models seed 000: artificial proxy leads for CRM deals without an inquiry, deals made from
static calls (carrying the channel's marker), repeat contacts across days and across calls and forms
(by phone, and by e-mail where a form has no phone), tagged and untagged calls, a «Не учитывается»
status. Its `measures()` is worked out from what it generated, not from Leadhub's attribution.

The measures are the report's own, as the API answers it (`setup.reports.project_report`: no deleted
connector, no switched-off stream), grouped by date, source, traffic type and campaign."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from leadhub.extract.engine import RunLimits
from leadhub.extract.run import run_connector
from leadhub.models.settings import Vendor
from leadhub.reports.conversions import Report, ReportQuery
from leadhub.setup.connectors import ConnectorCreate, Connectors
from leadhub.setup.projects import ProjectCreate, Projects
from leadhub.setup.reports import project_report
from leadhub.setup.status import connector_status
from leadhub.store import aws as store_aws
from leadhub.store.partitions import RAW, PartitionStore
from simulators.roistat import DEFAULT_API_KEY, RoistatKnobs, RoistatScenario, RoistatSimulator
from tests.integration.backfill_flow import LocalBackfill, forever, local_backfill

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
#: A static channel's marks as the user configured them: (source, traffic type, campaign).
Marks = tuple[str, str, str]
CHANNELS: dict[str, Marks] = {"avito": ("Авито", "Классифайды", "Авито")}
GROUP_BY = ["date", "source", "traffic_type", "campaign"]
#: (inquiries, deals, revenue, forecast revenue)
Measured = tuple[int, int, float, float]


@dataclass
class World:
    simulator: RoistatSimulator
    project_id: str
    connector_id: str
    backfill: LocalBackfill

    @property
    def vendor_project(self) -> int:
        return self.simulator.scenario.project_ids()[0]

    def run(self, remaining_ms: Any = forever) -> str:
        return run_connector(self.connector_id, remaining_ms=remaining_ms, limits=LIMITS).status

    def change(self, **changes: Any) -> None:
        """A settings change as production applies it: saved, its stream record planned by the backfill, the
        jobs it plans run to completion."""
        self.backfill.change(ACCOUNT, self.connector_id, **changes)
        self.backfill.drain()

    def answer(self) -> Report:
        """The report as the API answers it (deleted connectors and switched-off streams left out), by day
        and marks, over every day the scenario has and one either side."""
        today = datetime.now(ZoneInfo(ZONE)).date()
        query = ReportQuery.model_validate(
            {
                "from": today - timedelta(days=DAYS + 1),
                "to": today + timedelta(days=2),
                "group_by": GROUP_BY,
            }
        )
        return project_report(ACCOUNT, self.project_id, query)

    def report(self) -> dict[tuple[str, ...], Measured]:
        """What the report answers (the measures defined once in `reports.conversions`), per day and marks."""
        return {
            tuple(row.dimensions[name] for name in GROUP_BY): (
                row.inquiries,
                row.deals.total,
                row.revenue,
                row.forecast_revenue,
            )
            for row in self.answer().rows
            if row.inquiries or row.deals.total or row.revenue or row.forecast_revenue
        }

    def stored_clients(self) -> list[dict[str, Any]]:
        """The latest client snapshot stored for the connector, as read from Roistat."""
        partitions = PartitionStore()
        snapshots = [
            partition
            for partition in partitions.partitions(RAW, self.project_id, start=date(2000, 1, 1), end=date(2100, 1, 1))
            if partition.connector_id == self.connector_id and partition.stream == "clients"
        ]
        assert snapshots
        return list(partitions.read(max(snapshots, key=lambda partition: partition.day)))

    def truth(self, channels: Mapping[str, Marks] = CHANNELS, **rules: Any) -> dict[tuple[str, ...], Measured]:
        measures = self.simulator.data.measures(self.vendor_project, zone=ZONE, channels=channels, **rules)
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
                settings={"static_channels": [AVITO], "history_days": DAYS + 1, **settings},
            ),
        )
        with local_backfill() as backfill:
            yield World(simulator, project.id, connector.id, backfill)
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


def test_unique_mode_counts_each_person_once_across_days_calls_and_forms_and_all_again_counts_everyone(
    world: World,
) -> None:
    assert world.run() == "done"
    world.change(kpi_mode="unique")
    unique = world.truth(kpi_mode="unique")
    assert world.report() == unique
    assert sum(m[0] for m in unique.values()) < sum(m[0] for m in world.truth().values())
    assert world.run() == "done"  # the lookback re-reads days whose people contacted before the window
    assert world.report() == unique
    world.change(kpi_mode="all")
    assert world.report() == world.truth()


def test_unique_mode_from_the_first_load(aws: dict[str, str]) -> None:
    for world in make_world(scenario(), kpi_mode="unique"):
        assert world.run() == "done"
        assert world.report() == world.truth(kpi_mode="unique")


def test_tagged_mode_matches_a_typed_tag_with_spaces(world: World) -> None:
    assert world.run() == "done"
    world.change(kpi_mode="tagged", tags=[" квал "])
    assert world.report() == world.truth(kpi_mode="tagged", tags={"квал"})


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


# --- settings changes through the backfill ---------------------------------------------------------

TWO_GIS = {"parameter": "marker", "value": "2gis", "source": "2ГИС", "traffic_type": "Каталоги", "campaign": "2ГИС"}


def test_a_static_channel_added_edited_and_removed_moves_every_call_and_deal_it_marks(world: World) -> None:
    assert world.run() == "done"
    requests = sum(world.simulator.request_counts.values())

    world.change(static_channels=[AVITO, TWO_GIS])
    assert world.report() == world.truth({**CHANNELS, "2gis": ("2ГИС", "Каталоги", "2ГИС")})

    world.change(static_channels=[AVITO, {**TWO_GIS, "source": "2GIS", "campaign": "2ГИС весна"}])
    assert world.report() == world.truth({**CHANNELS, "2gis": ("2GIS", "Каталоги", "2ГИС весна")})

    world.change(static_channels=[])
    assert world.report() == world.truth({})
    assert sum(world.simulator.request_counts.values()) == requests  # from the stored raw rows only


def test_not_counted_deals_leave_when_the_toggle_is_off_and_come_back_when_it_is_on(world: World) -> None:
    assert world.run() == "done"
    world.change(include_not_counted=False)
    assert world.report() == world.truth(include_not_counted=False) != world.truth()
    world.change(include_not_counted=True)
    assert world.report() == world.truth()


@pytest.mark.parametrize("stream", ["calls", "orders", "proxyleads"])
def test_a_stream_switched_off_leaves_the_report_and_switched_on_again_comes_back(world: World, stream: str) -> None:
    assert world.run() == "done"
    loaded = {"calls", "orders", "proxyleads"} - {stream}
    world.change(streams={stream: False})
    assert world.report() == world.truth(streams=loaded) != world.truth()
    assert world.run() == "done"  # the schedule goes on while it is off
    assert world.report() == world.truth(streams=loaded)
    world.change(streams={stream: True})
    assert world.report() == world.truth()
    assert world.run() == "done"
    assert world.report() == world.truth()


# --- deactivate, delete ----------------------------------------------------------------------------


def test_a_deactivated_connector_keeps_its_figures_and_is_named_inactive(world: World) -> None:
    assert world.run() == "done"
    Connectors().set_active(ACCOUNT, world.connector_id, False)
    assert world.report() == world.truth()
    assert world.answer().inactive_connectors == [world.connector_id]


def test_a_deleted_connector_leaves_the_report_at_once(world: World) -> None:
    assert world.run() == "done"
    Connectors().delete(ACCOUNT, world.connector_id, purge=False)
    answer = world.answer()
    assert answer.rows == [] and answer.totals.inquiries == 0 and answer.totals.deals.total == 0


# --- the client report -----------------------------------------------------------------------------


def test_the_stored_client_report_holds_exactly_the_projects_clients(world: World) -> None:
    assert world.run() == "done"
    assert world.run() == "done"  # a second snapshot of the day replaces the first
    stored = world.stored_clients()
    truth = world.simulator.data.clients_truth(world.vendor_project)
    assert sorted(client["id"] for client in stored) == sorted(client["id"] for client in truth)
    assert sorted(stored, key=lambda client: client["id"]) == sorted(truth, key=lambda client: client["id"])
