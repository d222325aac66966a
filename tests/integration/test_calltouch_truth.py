"""The Calltouch truth harness (issue 12): a Moscow project loads a Calltouch site's calls diary and requests
journal, with static tracking numbers, requests without a session and the documented nasty values.
Through the engine, against the simulator over HTTP, the report's inquiries equal what the simulator's own
calls and requests say — per day, kind and source / traffic type / campaign — after the first load, a
repeated run, faults mid-run, a run stopped and resumed, each KPI mode, and for a project in another zone
than the Calltouch project's."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from leadhub.connectors.registry import spec_for
from leadhub.extract.engine import RunLimits
from leadhub.extract.reattribute import reattribute
from leadhub.extract.run import run_connector
from leadhub.jobs.runner import run_vendor
from leadhub.models.settings import Vendor
from leadhub.reports.conversions import ReportQuery
from leadhub.setup.connectors import ConnectorCreate, Connectors
from leadhub.setup.projects import ProjectCreate, Projects
from leadhub.setup.reports import project_report
from leadhub.setup.status import connector_status
from leadhub.store import aws as store_aws
from simulators.calltouch import DEMO_SITE_ID, DEMO_TOKEN, CalltouchKnobs, CalltouchSimulator
from tests.integration import truth_drills as drills

#: The simulated Calltouch project keeps UTC+3, as Moscow does.
CALLTOUCH_ZONE = "Europe/Moscow"
ACCOUNT = "acc-calltouch-truth"
DAYS = 4
LIMITS = RunLimits(initial_days=DAYS, safety_ms=1000)
BILLBOARD = "74957770001"
CHANNEL = {
    "parameter": "phoneNumber",
    "value": BILLBOARD,
    "source": "Наружная реклама",
    "traffic_type": "offline",
    "campaign": "Билборды",
}
GROUP_BY = "date,kind,source,traffic_type,campaign"


def forever() -> int:
    return 10**9


@dataclass
class Project:
    simulator: CalltouchSimulator
    project_id: str
    connector_id: str
    zone: str

    def run(self, remaining_ms: Any = forever) -> str:
        return run_connector(self.connector_id, remaining_ms=remaining_ms, limits=LIMITS).status

    def loaded_days(self) -> list[date]:
        today = datetime.now(ZoneInfo(self.zone)).date()
        return [today - timedelta(days=back) for back in range(DAYS - 1, -1, -1)]

    def inquiries(self, days: list[date] | None = None) -> Counter[tuple[str, ...]]:
        days = days or self.loaded_days()
        query = ReportQuery.model_validate({"from": days[0], "to": days[-1], "group_by": GROUP_BY})
        report = project_report(ACCOUNT, self.project_id, query)
        assert report.totals.deals.total == 0 and report.totals.revenue == 0  # calls and forms are no deals
        assert [c.inquiries for c in report.connectors] == [report.totals.inquiries]
        return +Counter({tuple(row.dimensions.values()): row.inquiries for row in report.rows})

    def truth(
        self, days: list[date] | None = None, *, unique: bool = False, tags: list[str] | None = None
    ) -> Counter[tuple[str, ...]]:
        days = days or self.loaded_days()
        wanted = {day.isoformat() for day in days}
        expected = self.simulator.inquiries_truth(
            DEMO_SITE_ID,
            days[0] - timedelta(days=1),
            days[-1] + timedelta(days=1),
            project_zone=self.zone,
            undefined_campaign=spec_for(Vendor.CALLTOUCH).undefined_campaign,
            channels={CHANNEL["value"]: (CHANNEL["source"], CHANNEL["traffic_type"], CHANNEL["campaign"])},
            unique_only=unique,
            tags=tags,
        )
        return Counter({key: count for key, count in expected.items() if key[0] in wanted})


def connect(
    zone: str, settings: dict[str, Any], *, clock: Callable[[], float] = time.time, **knobs: Any
) -> Iterator[Project]:
    scenario = CalltouchKnobs(
        **{"calls_per_day": 120, "requests_per_day": 40, "nasty_rate": 0.1, "requests_per_second": None, **knobs}
    )
    with CalltouchSimulator(seed=23, knobs=scenario, clock=clock) as simulator:
        simulator.set_faults(timeout_seconds=0.5)
        os.environ["CALLTOUCH_BASE_URL"] = simulator.base_url
        store_aws.reset()
        created = Projects().create(ACCOUNT, ProjectCreate(name="Проект", timezone=zone))
        connector = Connectors().create(
            ACCOUNT,
            created.id,
            ConnectorCreate(
                vendor=Vendor.CALLTOUCH,
                name="Calltouch",
                vendor_account_id=DEMO_SITE_ID,
                credentials={"access_token": DEMO_TOKEN, "site_id": DEMO_SITE_ID},
                settings={"static_channels": [CHANNEL], **settings},
            ),
        )
        yield Project(simulator, created.id, connector.id, zone)
    os.environ.pop("CALLTOUCH_BASE_URL", None)


@pytest.fixture
def project(aws: dict[str, str]) -> Iterator[Project]:
    yield from connect(CALLTOUCH_ZONE, {})


def test_the_first_load_reports_every_call_and_request(project: Project) -> None:
    assert project.run() == "done"
    truth = project.truth()
    assert project.inquiries() == truth
    kinds = Counter(key[1] for key in truth.elements())
    assert kinds["call"] > 0 and kinds["form"] > 0
    assert any(key[2] == CHANNEL["source"] for key in truth)  # the billboard's calls take the channel's marks
    assert any(key[4] == spec_for(Vendor.CALLTOUCH).undefined_campaign for key in truth)
    status = connector_status(Connectors().get(ACCOUNT, project.connector_id))
    assert {stream.stream: stream.state.value for stream in status.streams} == {"calls": "idle", "requests": "idle"}
    assert all(stream.rows_stored > 0 and stream.days_stored == DAYS for stream in status.streams)


def test_the_hourly_schedule_runs_calltouch_connectors(project: Project) -> None:
    [outcome] = run_vendor(Vendor.CALLTOUCH, remaining_ms=forever, fan_out=False)
    assert (outcome.connector_id, outcome.status) == (project.connector_id, "done")
    assert project.inquiries() == project.truth()


def test_a_repeated_run_counts_nothing_twice(project: Project) -> None:
    drills.a_repeated_run_counts_nothing_twice(project)


def test_faults_mid_run_and_a_run_stopped_half_way_lose_and_double_nothing(project: Project) -> None:
    drills.faults_and_a_stop_half_way_lose_and_double_nothing(project)


def test_the_unique_and_tagged_kpi_modes_count_what_calltouch_flags(project: Project) -> None:
    project.run()
    everything = project.truth()
    Connectors().update_settings(ACCOUNT, project.connector_id, {"kpi_mode": "unique"})
    reattribute(project.connector_id)
    unique = project.truth(unique=True)
    assert project.inquiries() == unique
    assert 0 < sum(unique.values()) < sum(everything.values())

    Connectors().update_settings(ACCOUNT, project.connector_id, {"kpi_mode": "tagged", "tags": ["Квал"]})
    reattribute(project.connector_id)
    tagged = project.truth(tags=["Квал"])
    assert project.inquiries() == tagged
    assert 0 < sum(tagged.values()) < sum(everything.values())


def test_a_stream_switched_off_leaves_the_report(project: Project) -> None:
    project.run()
    Connectors().update_settings(ACCOUNT, project.connector_id, {"streams": {"requests": False}})
    calls_only = Counter({key: count for key, count in project.truth().items() if key[1] == "call"})
    assert project.inquiries() == calls_only


def test_a_parameter_no_call_has_is_refused() -> None:
    channel = {**CHANNEL, "parameter": "roistat"}
    with pytest.raises(ValueError, match="not a field of a Calltouch call"):
        spec_for(Vendor.CALLTOUCH).validate_settings({"static_channels": [channel]})


@pytest.fixture
def eastern_project(aws: dict[str, str]) -> Iterator[Project]:
    # the Calltouch project keeps Moscow time, the Leadhub project Yekaterinburg's (UTC+5)
    yield from connect("Asia/Yekaterinburg", {"vendor_timezone": CALLTOUCH_ZONE})


def test_a_project_told_the_calltouch_zone_gets_each_lead_on_its_own_date(eastern_project: Project) -> None:
    assert eastern_project.run() == "done"
    # the days read are Moscow's: the Yekaterinburg dates they wholly cover are compared
    inner = eastern_project.loaded_days()[1:-1]
    assert eastern_project.inquiries(inner) == eastern_project.truth(inner)


@pytest.fixture
def untold_project(aws: dict[str, str]) -> Iterator[Project]:
    # every lead carries its Unix time (no nasty values): the zone need not be told
    yield from connect("Asia/Yekaterinburg", {}, nasty_rate=0.0)


def test_days_cut_in_another_zone_than_calltouch_s_lose_nothing_at_their_edges(untold_project: Project) -> None:
    assert untold_project.run() == "done"
    assert untold_project.inquiries() == untold_project.truth()


DAY_SECONDS = 86_400.0


@pytest.fixture
def thrifty_project(aws: dict[str, str]) -> Iterator[tuple[Project, list[float]]]:
    # two API points a day: the credentials check at create and the calls sweep spend them, the requests
    # have to wait for tomorrow's budget
    shift = [0.0]
    for project in connect(CALLTOUCH_ZONE, {}, clock=lambda: time.time() + shift[0], daily_points=2):
        yield project, shift


def test_a_spent_api_points_budget_fails_only_the_stream_it_stops_and_the_next_day_completes_it(
    thrifty_project: tuple[Project, list[float]],
) -> None:
    project, shift = thrifty_project
    assert project.run() == "failed"
    status = connector_status(Connectors().get(ACCOUNT, project.connector_id))
    streams = {stream.stream: stream for stream in status.streams}
    assert streams["calls"].state.value == "idle" and streams["calls"].last_error is None
    assert streams["requests"].state.value == "failed" and streams["requests"].last_error is not None
    assert "API points" in streams["requests"].last_error.explanation and status.active
    calls_only = Counter({key: count for key, count in project.truth().items() if key[1] == "call"})
    assert project.inquiries() == calls_only

    shift[0] = DAY_SECONDS  # Calltouch's day is over: a fresh budget
    assert project.run() == "done"
    assert project.inquiries() == project.truth()
