"""Backfill on a settings change, as a user meets it on the local stack: settings saved over HTTP,
the connectors table's stream pumped into the backfill function, its jobs run by the local jobs
function, and the whole archive follows — read back through the report."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import boto3
import pytest

from tests.e2e.backfill_api import Client, change, ringostat_connector, wait_idle

pytestmark = pytest.mark.e2e

ZONE = "Europe/Kyiv"
#: Seed 001: what Ringostat calls with no campaign show as.
UNDEFINED = "Неизвестная кампания"
FIRST_HISTORY, FULL_HISTORY = 20, 30
CHANNEL = {"parameter": "pool", "value": "OLX static", "source": "OLX", "traffic_type": "classified", "campaign": "OLX"}


@pytest.fixture(scope="module")
def client(stack: dict[str, str]) -> Client:
    return Client(stack)


def by_day_and_campaign(client: Client, project_id: str, days: int) -> dict[str, Counter[str]]:
    today = datetime.now(ZoneInfo(ZONE)).date()
    params = {"from": (today - timedelta(days=days - 1)).isoformat(), "to": today.isoformat()}
    report = client.call("GET", f"/projects/{project_id}/conversions", params={**params, "group_by": "date,campaign"})
    days_: dict[str, Counter[str]] = defaultdict(Counter)
    for row in report["rows"]:
        days_[row["dimensions"]["date"]][row["dimensions"]["campaign"]] += row["inquiries"]
    return days_


def totals(report: dict[str, Counter[str]]) -> dict[str, int]:
    return {day: sum(campaigns.values()) for day, campaigns in report.items()}


def test_every_archive_day_follows_the_static_channels_the_kpi_mode_and_the_history_start(
    client: Client, stack: dict[str, str]
) -> None:
    project = client.call("POST", "/projects", json={"name": "Backfill", "timezone": ZONE})
    connector = ringostat_connector(client, project["id"], history_days=FIRST_HISTORY)
    connector_id = connector["id"]
    wait_idle(client, connector_id, 1)
    before = by_day_and_campaign(client, project["id"], FIRST_HISTORY)
    assert len(before) >= FIRST_HISTORY - 1  # the demo data ends today in UTC, the project's day may be later

    # a static channel added: every archive day moves its pool's calls out of Undefined
    version = change(client, connector_id, {"static_channels": [CHANNEL]})
    wait_idle(client, connector_id, version)
    added = by_day_and_campaign(client, project["id"], FIRST_HISTORY)
    assert totals(added) == totals(before)
    for day, campaigns in before.items():
        assert added[day]["OLX"] > 0, day
        assert added[day]["OLX"] + added[day][UNDEFINED] == campaigns[UNDEFINED], day

    # its campaign edited: every day follows
    version = change(client, connector_id, {"static_channels": [{**CHANNEL, "campaign": "OLX spring"}]})
    wait_idle(client, connector_id, version)
    edited = by_day_and_campaign(client, project["id"], FIRST_HISTORY)
    assert {day: campaigns["OLX spring"] for day, campaigns in edited.items()} == {
        day: campaigns["OLX"] for day, campaigns in added.items()
    }
    assert all(campaigns["OLX"] == 0 for campaigns in edited.values())

    # removed: every day back to Undefined
    version = change(client, connector_id, {"static_channels": []})
    wait_idle(client, connector_id, version)
    assert by_day_and_campaign(client, project["id"], FIRST_HISTORY) == before

    # the KPI mode all → unique → all: every day consistent
    version = change(client, connector_id, {"kpi_mode": "unique"})
    wait_idle(client, connector_id, version)
    unique = by_day_and_campaign(client, project["id"], FIRST_HISTORY)
    assert all(totals(unique)[day] <= total for day, total in totals(before).items())
    assert sum(totals(unique).values()) < sum(totals(before).values())
    version = change(client, connector_id, {"kpi_mode": "all"})
    wait_idle(client, connector_id, version)
    assert by_day_and_campaign(client, project["id"], FIRST_HISTORY) == before

    # the history start moved earlier: the added days load, the cursor stays where it was
    cursor = _cursor(stack, connector_id)
    version = change(client, connector_id, {"history_days": FULL_HISTORY})
    status = wait_idle(client, connector_id, version)
    assert status["archive"]["days_total"] == FULL_HISTORY
    assert status["archive"]["summary"] == f"idle {FULL_HISTORY}/{FULL_HISTORY} days, settings v{version}"
    full = by_day_and_campaign(client, project["id"], FULL_HISTORY)
    assert len(full) >= len(before) + FULL_HISTORY - FIRST_HISTORY - 1
    assert {day: full[day] for day in before} == before
    assert _cursor(stack, connector_id) == cursor


def _cursor(stack: dict[str, str], connector_id: str) -> str:
    dynamodb = boto3.client("dynamodb", endpoint_url=stack["aws"], region_name="eu-central-1")
    items = dynamodb.query(
        TableName="leadhub-local-SyncStateTable",
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"CONNECTOR#{connector_id}"}},
    )["Items"]
    [state] = [item for item in items if item["sk"]["S"].startswith("STREAM#")]
    return str(state["cursor"]["S"])
