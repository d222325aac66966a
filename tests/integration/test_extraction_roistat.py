"""A Roistat connector end to end: every stream loads, and calls land where the truth says —
per day, static channels in their configured campaigns, unmatched ones in the Undefined campaign."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from leadhub.extract.engine import RunLimits
from leadhub.extract.run import run_connector
from leadhub.models.conversion import UNDEFINED_CAMPAIGN
from leadhub.models.settings import Vendor
from leadhub.reports.conversions import ReportQuery, conversion_report
from leadhub.setup.connectors import ConnectorCreate, Connectors, ConnectorView
from leadhub.setup.projects import ProjectCreate, Projects
from leadhub.setup.status import connector_status
from leadhub.store import aws as store_aws
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
