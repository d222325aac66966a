"""A Roistat connector end to end: every stream loads, and calls land where the truth says —
per day, static channels in their configured campaigns, unmatched ones in the Undefined campaign."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from leadhub.attribution.rules import PLACEHOLDER
from leadhub.extract.engine import RunLimits
from leadhub.extract.reattribute import reattribute
from leadhub.extract.run import run_connector
from leadhub.models.conversion import UNDEFINED_CAMPAIGN
from leadhub.models.settings import Vendor
from leadhub.reports.conversions import ReportQuery, conversion_report
from leadhub.setup.connectors import ConnectorCreate, Connectors, ConnectorView
from leadhub.setup.projects import ProjectCreate, Projects
from leadhub.setup.status import connector_status
from leadhub.store import aws as store_aws
from leadhub.store.partitions import CONVERSIONS, PartitionStore
from simulators.roistat import DEFAULT_API_KEY, RoistatScenario, RoistatSimulator

ZONE = "Europe/Moscow"
ACCOUNT = "acc-roistat"
DAYS = 3
AVITO = {
    "parameter": "roistat",
    "value": "avito",
    "source": "Авито",
    "traffic_type": "Классифайды",
    "campaign": "Авито",
}


@pytest.fixture
def loaded(aws: dict[str, str]) -> Iterator[tuple[RoistatSimulator, ConnectorView, str]]:
    today = datetime.now(ZoneInfo(ZONE)).date()
    scenario = RoistatScenario(seed=5, projects=1, start=today - timedelta(days=DAYS - 1), days=DAYS, timezone=ZONE)
    with RoistatSimulator(scenario) as simulator:
        os.environ["ROISTAT_BASE_URL"] = f"{simulator.base_url}/api/v1"
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
                settings={"static_channels": [AVITO]},
            ),
        )
        outcome = run_connector(connector.id, remaining_ms=lambda: 10**9, limits=RunLimits(initial_days=DAYS + 1))
        assert outcome.status == "done", outcome
        yield simulator, connector, project.id
    os.environ.pop("ROISTAT_BASE_URL", None)


def calls_by(project_id: str, group_by: str) -> Counter[tuple[str, ...]]:
    today = datetime.now(ZoneInfo(ZONE)).date()
    query = ReportQuery.model_validate(
        {
            "from": today - timedelta(days=DAYS + 1),
            "to": today + timedelta(days=1),
            "group_by": group_by,
            "kind": "call",
        }
    )
    report = conversion_report(project_id, query)
    return Counter({tuple(row.dimensions.values()): row.conversions for row in report.rows})


def test_every_stream_loads(loaded: tuple[RoistatSimulator, ConnectorView, str]) -> None:
    _, connector, _ = loaded
    status = connector_status(Connectors().get(ACCOUNT, connector.id))
    assert [s.stream for s in status.streams] == ["calls", "orders", "proxyleads", "clients"]
    assert all(s.state == "idle" and s.last_success_at for s in status.streams), status


def test_calls_land_on_their_days_and_channels_as_the_truth_says(
    loaded: tuple[RoistatSimulator, ConnectorView, str],
) -> None:
    simulator, _, project_id = loaded
    truth = simulator.truth(simulator.scenario.project_ids()[0])
    per_day = Counter((call.date.astimezone(ZoneInfo(ZONE)).date().isoformat(),) for call in truth)
    assert calls_by(project_id, "date") == per_day

    campaigns = calls_by(project_id, "campaign")
    avito = sum(1 for call in truth if call.kind == "static" and call.channel == "avito")
    assert avito > 0
    assert campaigns[("Авито",)] == avito
    unconfigured_static = sum(1 for call in truth if call.kind == "static" and call.channel != "avito")
    unattributed = sum(1 for call in truth if call.kind == "unattributed")
    no_campaign = sum(1 for call in truth if call.kind == "dynamic" and not call.campaign)
    assert campaigns[(UNDEFINED_CAMPAIGN,)] == unconfigured_static + unattributed + no_campaign


def test_form_and_chat_leads_land_in_their_visits_source_and_campaign(
    loaded: tuple[RoistatSimulator, ConnectorView, str],
) -> None:
    simulator, connector, project_id = loaded
    truth = simulator.data.lead_truth(simulator.scenario.project_ids()[0])
    assert sum(1 for lead in truth if lead.campaign) > 0  # leads whose visit names a campaign exist
    partitions = PartitionStore()
    landed = {
        conversion["vendor_id"]: (conversion["source"], conversion["campaign"])
        for partition in partitions.partitions(CONVERSIONS, project_id, start=date(2000, 1, 1), end=date(2100, 1, 1))
        if partition.connector_id == connector.id and partition.stream == "proxyleads"
        for conversion in partitions.read(partition)
    }
    expected = {lead.lead_id: (lead.source or PLACEHOLDER, lead.campaign or UNDEFINED_CAMPAIGN) for lead in truth}
    assert landed == expected


def test_unique_mode_keeps_each_callers_first_call_across_days(
    loaded: tuple[RoistatSimulator, ConnectorView, str],
) -> None:
    simulator, connector, project_id = loaded
    truth = simulator.truth(simulator.scenario.project_ids()[0])
    callers = {"".join(ch for ch in call.caller if ch.isdigit()) for call in truth}
    repeat_calls = len(truth) - len(callers)
    assert repeat_calls > 0  # the scenario has callers who call again on later days

    Connectors().update_settings(ACCOUNT, connector.id, {"kpi_mode": "unique"})
    reattribute(connector.id)
    assert sum(calls_by(project_id, "date").values()) == len(callers)

    # and a normal run after the switch keeps it so (the lookback re-reads days whose callers
    # first called before the window)
    run_connector(connector.id, remaining_ms=lambda: 10**9, limits=RunLimits(initial_days=DAYS + 1))
    assert sum(calls_by(project_id, "date").values()) == len(callers)


def test_a_project_without_call_tracking_loads_its_other_streams_and_stays_active(
    loaded: tuple[RoistatSimulator, ConnectorView, str],
) -> None:
    simulator, connector, _ = loaded
    project = int(connector.vendor_account_id)
    simulator.knobs.disabled_options = {project: {"calltracking"}}
    before = simulator.request_counts.copy()
    for _ in range(RunLimits().pause_after_config_failures + 1):
        outcome = run_connector(connector.id, remaining_ms=lambda: 10**9, limits=RunLimits(initial_days=DAYS + 1))
        assert {stream.stream: stream.status for stream in outcome.streams}["calls"] == "failed"
        assert {stream.status for stream in outcome.streams if stream.stream != "calls"} == {"done"}
    assert simulator.request_counts != before
    status = connector_status(Connectors().get(ACCOUNT, connector.id))
    assert status.active  # a feature off is the stream's own configuration: nothing pauses
    streams = {stream.stream: stream for stream in status.streams}
    assert streams["calls"].state == "failed"
    assert streams["calls"].last_error is not None
    assert streams["calls"].last_error.scope == "stream"
    assert "switched off" in streams["calls"].last_error.explanation
    assert all(stream.state == "idle" for name, stream in streams.items() if name != "calls")
