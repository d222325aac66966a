"""Backfill on a Roistat connector: tags in tagged mode and a stream switched on, through the
connectors table's stream and the jobs it plans, against the Roistat simulator."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from leadhub.extract.engine import RunLimits
from leadhub.extract.run import run_connector
from leadhub.models.settings import Vendor
from leadhub.reports.conversions import ReportQuery, ReportRow
from leadhub.setup.connectors import ConnectorCreate, Connectors
from leadhub.setup.projects import ProjectCreate, Projects
from leadhub.setup.reports import project_report
from leadhub.setup.status import connector_status
from leadhub.store import aws as store_aws
from simulators.roistat import DEFAULT_API_KEY, RoistatScenario, RoistatSimulator
from tests.integration.backfill_flow import LocalBackfill, forever, local_backfill

ZONE = "Europe/Moscow"
ACCOUNT = "acc-backfill-roistat"
DAYS = 3


@dataclass
class Shop:
    simulator: RoistatSimulator
    project_id: str
    backfill: LocalBackfill

    @property
    def vendor_project(self) -> int:
        return self.simulator.scenario.project_ids()[0]

    def connect(self, **settings: object) -> str:
        connector = Connectors().create(
            ACCOUNT,
            self.project_id,
            ConnectorCreate(
                vendor=Vendor.ROISTAT,
                name="Roistat",
                vendor_account_id=str(self.vendor_project),
                credentials={"api_key": DEFAULT_API_KEY},
                settings={"history_days": DAYS + 1, **settings},
            ),
        )
        assert run_connector(connector.id, remaining_ms=forever, limits=RunLimits(safety_ms=1000)).status == "done"
        return connector.id

    def count(self, kind: str, group_by: str = "connector") -> Counter[tuple[str, ...]]:
        today = datetime.now(ZoneInfo(ZONE)).date()
        query = ReportQuery.model_validate(
            {
                "from": today - timedelta(days=DAYS + 1),
                "to": today + timedelta(days=1),
                "group_by": group_by,
                "kind": kind,
            }
        )
        report = project_report(ACCOUNT, self.project_id, query)
        return Counter({tuple(row.dimensions.values()): measure(row, kind) for row in report.rows})


def measure(row: ReportRow, kind: str) -> int:
    """Deals are counted as deals, calls and leads as inquiries: the report never sums the two."""
    return row.deals.total if kind == "order" else row.inquiries


@pytest.fixture
def shop(aws: dict[str, str]) -> Iterator[Shop]:
    today = datetime.now(ZoneInfo(ZONE)).date()
    scenario = RoistatScenario(seed=9, projects=1, start=today - timedelta(days=DAYS - 1), days=DAYS, timezone=ZONE)
    with RoistatSimulator(scenario) as simulator:
        os.environ["ROISTAT_BASE_URL"] = f"{simulator.base_url}/api/v1"
        store_aws.reset()
        project = Projects().create(ACCOUNT, ProjectCreate(name="Shop", timezone=ZONE))
        with local_backfill() as backfill:
            yield Shop(simulator, project.id, backfill)
    os.environ.pop("ROISTAT_BASE_URL", None)


def test_a_tag_added_in_tagged_mode_brings_its_archive_calls_and_removed_takes_them_away(shop: Shop) -> None:
    connector_id = shop.connect()
    truth = shop.simulator.truth(shop.vendor_project)
    requests = sum(shop.simulator.request_counts.values())

    def tagged(*tags: str) -> int:
        return sum(1 for call in truth if set(call.tags) & set(tags))

    shop.backfill.change(ACCOUNT, connector_id, kpi_mode="tagged", tags=["целевой"])
    shop.backfill.drain()
    assert 0 < shop.count("call")[(connector_id,)] == tagged("целевой") < len(truth)

    shop.backfill.change(ACCOUNT, connector_id, tags=["целевой", "квал"])
    shop.backfill.drain()
    assert shop.count("call")[(connector_id,)] == tagged("целевой", "квал") > tagged("целевой")
    # the client report's snapshot is not an archive day: the re-attribution alone makes the archive current
    archive = connector_status(Connectors().get(ACCOUNT, connector_id)).archive
    assert (archive.state, archive.days_current) == ("idle", archive.days_total)

    shop.backfill.change(ACCOUNT, connector_id, tags=["квал"])
    shop.backfill.drain()
    assert shop.count("call")[(connector_id,)] == tagged("квал")
    assert sum(shop.simulator.request_counts.values()) == requests  # stored raw rows only


def test_a_stream_switched_on_loads_its_history_and_switched_off_leaves_the_report(shop: Shop) -> None:
    reference = shop.connect()
    connector_id = shop.connect(streams={"proxyleads": False})
    forms = shop.count("form")
    assert forms[(reference,)] > 0
    assert forms[(connector_id,)] == 0

    shop.backfill.change(ACCOUNT, connector_id, streams={"proxyleads": True})
    shop.backfill.drain()
    by_day = shop.count("form", "connector,date")
    assert {key[1:]: n for key, n in by_day.items() if key[0] == connector_id} == {
        key[1:]: n for key, n in by_day.items() if key[0] == reference
    }

    shop.backfill.change(ACCOUNT, reference, streams={"proxyleads": False})
    assert shop.count("form")[(reference,)] == 0  # at once: the report no longer counts it
