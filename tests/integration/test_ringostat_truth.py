"""The Ringostat truth harness (issue 10): a Moscow project loads a Ringostat account that keeps another
zone (Almaty, UTC+5), with outgoing, callback and transit calls, callers who call again across days and
static number pools. Through the engine, against the simulator over HTTP, the report's inquiries equal
what the simulator's own calls say — per day and per source / traffic type / campaign — after the first
load, a repeated run, faults mid-run, a run stopped and resumed, each KPI mode and a direction change."""

from __future__ import annotations

import gzip
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
import requests
from pydantic import ValidationError

from leadhub.connectors.registry import spec_for
from leadhub.extract.engine import RunLimits
from leadhub.extract.reattribute import reattribute
from leadhub.extract.run import run_connector
from leadhub.models.conversion import UNDEFINED_CAMPAIGN
from leadhub.models.settings import Vendor
from leadhub.reports.conversions import ReportQuery, conversion_report
from leadhub.setup.connectors import ConnectorCreate, Connectors
from leadhub.setup.projects import ProjectCreate, Projects
from leadhub.setup.status import connector_status
from leadhub.store import aws as store_aws
from leadhub.store.partitions import RAW, PartitionStore
from leadhub.vendors.ringostat import RingostatClient
from simulators.ringostat import RingostatScenario, RingostatSimulator
from tests.integration import truth_drills as drills

PROJECT_ZONE = "Europe/Moscow"
#: UTC+5 all year: never Moscow's offset, whatever the season the test runs in.
ACCOUNT_ZONE = "Asia/Almaty"
ACCOUNT = "acc-ringostat-truth"
DAYS = 4
LIMITS = RunLimits(initial_days=DAYS + 1, safety_ms=1000)
CHANNEL = {"parameter": "pool", "value": "OLX static", "source": "OLX", "traffic_type": "classified", "campaign": "OLX"}
DIRECTIONS = (("in", 0.6), ("out", 0.15), ("callback", 0.1), ("transitin", 0.1), ("transitout", 0.05))
GROUP_BY = "date,source,traffic_type,campaign"


def forever() -> int:
    return 10**9


@dataclass
class Project:
    simulator: RingostatSimulator
    project_id: str
    connector_id: str

    def run(self, remaining_ms: Any = forever) -> str:
        return run_connector(self.connector_id, remaining_ms=remaining_ms, limits=LIMITS).status

    def inquiries(self) -> Counter[tuple[str, ...]]:
        today = datetime.now(ZoneInfo(PROJECT_ZONE)).date()
        query = ReportQuery.model_validate(
            {"from": today - timedelta(days=DAYS + 1), "to": today + timedelta(days=1), "group_by": GROUP_BY}
        )
        report = conversion_report(self.project_id, query)
        assert report.totals.deals.total == 0 and report.totals.revenue == 0  # calls are no deals
        assert [c.inquiries for c in report.connectors] == [report.totals.inquiries]
        found = Counter({tuple(row.dimensions.values()): row.inquiries for row in report.rows})
        return +found

    def truth(self, *, directions: tuple[str, ...] = ("in",), unique: bool = False) -> Counter[tuple[str, ...]]:
        expected = self.simulator.scenario.inquiries_truth(
            project_zone=PROJECT_ZONE,
            undefined_campaign=getattr(spec_for(Vendor.RINGOSTAT), "undefined_campaign", UNDEFINED_CAMPAIGN),
            directions=directions,
            first_contacts_only=unique,
            channels={CHANNEL["value"]: (CHANNEL["source"], CHANNEL["traffic_type"], CHANNEL["campaign"])},
        )
        return Counter(dict(expected.items()))


@pytest.fixture
def project(aws: dict[str, str]) -> Iterator[Project]:
    today = datetime.now(ZoneInfo(PROJECT_ZONE)).date()
    scenario = RingostatScenario(
        seed=17,
        days=DAYS,
        calls_per_day=160,
        start_date=today - timedelta(days=DAYS - 1),
        time_zone=ACCOUNT_ZONE,
        call_types=DIRECTIONS,
        repeat_share=0.4,
    )
    with RingostatSimulator(scenario) as simulator:
        simulator.set_faults(timeout_seconds=0.5)
        os.environ["RINGOSTAT_BASE_URL"] = simulator.base_url
        store_aws.reset()
        created = Projects().create(ACCOUNT, ProjectCreate(name="Москва", timezone=PROJECT_ZONE))
        connector = Connectors().create(
            ACCOUNT,
            created.id,
            ConnectorCreate(
                vendor=Vendor.RINGOSTAT,
                name="Ringostat",
                vendor_account_id=str(scenario.project_id),
                credentials={"auth_key": simulator.auth_key},
                settings={"static_channels": [CHANNEL]},
            ),
        )
        yield Project(simulator, created.id, connector.id)
    os.environ.pop("RINGOSTAT_BASE_URL", None)


def test_the_first_load_reports_every_inbound_call_of_an_account_in_another_zone(project: Project) -> None:
    assert project.run() == "done"
    truth = project.truth()
    assert project.inquiries() == truth
    everything = project.truth(directions=tuple(name for name, _ in DIRECTIONS))
    assert sum(everything.values()) > sum(truth.values())  # outgoing, callback and transit calls left out


def test_the_status_names_the_account_zone_and_suggests_vendor_timezone(project: Project) -> None:
    project.run()
    status = connector_status(Connectors().get(ACCOUNT, project.connector_id))
    [warning] = [w for w in status.warnings if "vendor_timezone" in w]
    assert "UTC+05:00" in warning and "Asia/Almaty" in warning and PROJECT_ZONE in warning

    Connectors().update_settings(ACCOUNT, project.connector_id, {"vendor_timezone": ACCOUNT_ZONE})
    assert project.run() == "done"
    status = connector_status(Connectors().get(ACCOUNT, project.connector_id))
    assert not [w for w in status.warnings if "vendor_timezone" in w]


def test_a_repeated_run_counts_nothing_twice(project: Project) -> None:
    drills.a_repeated_run_counts_nothing_twice(project)


def test_faults_mid_run_and_a_run_stopped_half_way_lose_and_double_nothing(project: Project) -> None:
    drills.faults_and_a_stop_half_way_lose_and_double_nothing(project)


def test_the_unique_kpi_mode_counts_first_calls_only(project: Project) -> None:
    project.run()
    Connectors().update_settings(ACCOUNT, project.connector_id, {"kpi_mode": "unique"})
    reattribute(project.connector_id)
    unique = project.truth(unique=True)
    assert project.inquiries() == unique
    assert sum(unique.values()) < sum(project.truth().values())  # repeat callers across days
    assert project.run() == "done"
    assert project.inquiries() == unique


def test_the_tagged_kpi_mode_is_refused_with_the_reason(project: Project) -> None:
    with pytest.raises(ValidationError, match="Ringostat sends no tags"):
        Connectors().update_settings(ACCOUNT, project.connector_id, {"kpi_mode": "tagged", "tags": ["lead"]})


def test_counting_callbacks_too_is_a_setting(project: Project) -> None:
    project.run()
    Connectors().update_settings(ACCOUNT, project.connector_id, {"call_directions": ["in", "callback"]})
    reattribute(project.connector_id)
    assert project.inquiries() == project.truth(directions=("in", "callback"))


@pytest.mark.parametrize("style", ["compact", "spaced"])
def test_the_raw_partitions_keep_every_call_as_ringostat_sent_it(project: Project, style: str) -> None:
    """Compact answers (as documented) are stored byte for byte, without a second encode; answers that
    cannot be cut per call are serialised again: the same calls either way."""
    project.simulator.knobs.json_style = style  # type: ignore[assignment]
    assert project.run() == "done"
    fields = RingostatClient("unused").fields
    sent = requests.get(
        f"{project.simulator.base_url}/calls/list",
        params={"export_type": "json", "from": "2000-01-01 00:00:00", "to": "2100-01-01 00:00:00",
                "fields": ",".join(fields), "order": "calldate asc", "merge": "0"},
        headers={"Auth-key": project.simulator.auth_key},
        timeout=30,
    ).content  # fmt: skip
    partitions = PartitionStore()
    days = partitions.partitions(RAW, project.project_id, start=date(2000, 1, 1), end=date(2100, 1, 1))
    lines = [line for day in days for line in gzip.decompress(partitions.objects.get(day.key)).splitlines()]
    stored = [orjson.loads(line) for line in lines]
    assert sorted(row["uniqueid"] for row in stored) == sorted(project.simulator.scenario.truth())
    assert stored == [row for row in orjson.loads(sent) if row in stored]  # the calls as sent, in order
    assert all(line in sent for line in lines) == (style == "compact")
