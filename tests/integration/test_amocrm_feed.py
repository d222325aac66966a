"""Extraction feeds the amoCRM sync: when a connector's day is stored, its recent inquiries go on the
sync's queue for each amoCRM connector of the project whose lead sync takes them — with who called."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from leadhub.crm_sync.delivery import consume
from leadhub.extract.engine import RunLimits
from leadhub.extract.reattribute import reattribute
from leadhub.extract.run import run_connector
from leadhub.models.settings import Vendor
from leadhub.settings import get_settings
from leadhub.setup.connectors import ConnectorCreate, Connectors
from leadhub.setup.projects import ProjectCreate, Projects
from leadhub.store import aws as store_aws
from leadhub.store.crm_sync import CrmSyncStore
from leadhub.store.queues import Queue
from simulators.amocrm import AmoCrmSimulator
from simulators.ringostat import RingostatScenario, RingostatSimulator
from tests.integration.amocrm_connect import connect_amocrm

ACCOUNT = "acc-feed"
CHANNEL = {"parameter": "pool", "value": "OLX static", "source": "OLX", "traffic_type": "classified", "campaign": "OLX"}
ZONE = "Europe/Moscow"


@pytest.fixture
def project(aws: dict[str, str]) -> Iterator[tuple[str, str, RingostatSimulator]]:
    today = datetime.now(ZoneInfo(ZONE)).date()
    scenario = RingostatScenario(seed=3, days=2, calls_per_day=40, start_date=today - timedelta(days=1), time_zone=ZONE)
    with RingostatSimulator(scenario) as ringostat, AmoCrmSimulator(seed=3) as amocrm:
        os.environ["RINGOSTAT_BASE_URL"] = ringostat.base_url
        os.environ["AMOCRM_BASE_URL"] = amocrm.base_url
        store_aws.reset()
        project = Projects().create(ACCOUNT, ProjectCreate(name="Звонки", timezone=ZONE))
        calls = Connectors().create(
            ACCOUNT,
            project.id,
            ConnectorCreate(
                vendor=Vendor.RINGOSTAT,
                name="Ringostat",
                vendor_account_id=str(scenario.project_id),
                credentials={"auth_key": ringostat.auth_key},
                settings={"history_days": 2},
            ),
        )
        crm_id = connect_amocrm(
            ACCOUNT, project.id, amocrm, {"lead_sync": {"enabled": True, "create": {"deal": True, "contact": False}}}
        )
        yield calls.id, crm_id, ringostat
    for name in ("RINGOSTAT_BASE_URL", "AMOCRM_BASE_URL"):
        os.environ.pop(name, None)
    store_aws.reset()


def load(calls_id: str) -> Queue:
    """A run of the call tracker, as the schedule runs it; answers the sync's queue it fed."""
    assert run_connector(calls_id, remaining_ms=lambda: 10**9, limits=RunLimits(safety_ms=1000)).status == "done"
    return Queue(get_settings().crm_sync_queue)


def taken(queue: Queue) -> list[Any]:
    """Every message on the queue, received."""
    received: list[Any] = []
    while batch := queue.receive(limit=10):
        received.extend(batch)
    return received


def test_a_stored_day_queues_its_recent_calls_for_the_projects_amocrm_sync(
    project: tuple[str, str, RingostatSimulator],
) -> None:
    calls_id, crm_id, _ = project
    received = taken(load(calls_id))
    messages = [json.loads(message.body) for message in received]
    assert messages and {message["connector_id"] for message in messages} == {crm_id}
    inquiries = [inquiry for message in messages for inquiry in message["inquiries"]]
    assert all(inquiry["type"] == "phone" and inquiry["source_connector_id"] == calls_id for inquiry in inquiries)
    assert all(inquiry["phone"] for inquiry in inquiries)  # who called, from the raw row

    # the sync function takes the messages as they are: one deal per inquiry
    assert consume((message.message_id, message.body) for message in received) == []
    states = list(CrmSyncStore().inquiries(crm_id))
    assert len(states) == len({inquiry["id"] for inquiry in inquiries})
    assert all(state["entities"]["deal"]["created"] for state in states)


def drained(queue: Queue) -> list[dict[str, Any]]:
    return [inquiry for message in taken(queue) for inquiry in json.loads(message.body)["inquiries"]]


def test_a_settings_change_that_moves_recent_inquiries_sends_them_to_the_sync_again(
    project: tuple[str, str, RingostatSimulator],
) -> None:
    calls_id, _, _ = project
    queue = load(calls_id)
    first = {str(inquiry["id"]): inquiry for inquiry in drained(queue)}
    assert first and not any(inquiry["params"].get("campaign") == "OLX" for inquiry in first.values())

    Connectors().update_settings(ACCOUNT, calls_id, {"static_channels": [CHANNEL]})
    reattribute(calls_id)  # what the backfill's job runs for this change
    again = {str(inquiry["id"]): inquiry for inquiry in drained(queue)}
    moved = {key for key, inquiry in again.items() if inquiry["params"].get("campaign") == "OLX"}
    assert moved and moved <= set(first)  # the same inquiries, now with the static channel's campaign
