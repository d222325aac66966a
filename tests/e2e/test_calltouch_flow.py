"""A Calltouch connector as a user meets it on the local stack: credentials checked, the connector saved
and synced over HTTP, its calls and requests read back through the conversions report — equal, day by day
and per kind, source, traffic type and campaign, to what the Calltouch simulator says it generated (its
truth, over HTTP); and the KPI duplication warning once another call tracker joins the project."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from simulators.calltouch import DEMO_SITE_ID, DEMO_TOKEN
from tests.e2e.backfill_api import Client, wait_idle

pytestmark = pytest.mark.e2e

#: The simulated Calltouch project's zone (UTC+3), so its days and the project's agree.
ZONE = "Europe/Moscow"
HISTORY = 4
UNDEFINED = "Неизвестная кампания (Undefined)"
RINGOSTAT_KEY = "ringostat-demo-auth-key"


@pytest.fixture(scope="module")
def client(stack: dict[str, str]) -> Client:
    return Client(stack)


def connect(client: Client, name: str) -> tuple[str, dict[str, Any]]:
    """A project with a Calltouch connector to the demo site; (project id, connector)."""
    project = client.call("POST", "/projects", json={"name": name, "timezone": ZONE})
    check = client.call(
        "POST",
        f"/projects/{project['id']}/connectors/calltouch/check",
        json={"access_token": DEMO_TOKEN, "site_id": DEMO_SITE_ID},
    )
    assert [account["id"] for account in check["accounts"]] == [DEMO_SITE_ID]
    connector = client.call(
        "POST",
        f"/projects/{project['id']}/connectors",
        json={
            "vendor": "calltouch",
            "name": name,
            "vendor_account_id": DEMO_SITE_ID,
            "credentials_ref": check["credentials_ref"],
            "settings": {"history_days": HISTORY},
        },
    )
    return project["id"], connector


def past_days() -> list[date]:
    """The loaded days that are over."""
    today = datetime.now(ZoneInfo(ZONE)).date()
    return [today - timedelta(days=back) for back in range(HISTORY - 1, 0, -1)]


def report(client: Client, project_id: str, days: list[date]) -> Counter[tuple[str, ...]]:
    answer = client.call(
        "GET",
        f"/projects/{project_id}/conversions",
        params={
            "from": days[0].isoformat(),
            "to": days[-1].isoformat(),
            "group_by": "date,kind,source,traffic_type,campaign",
        },
    )
    assert answer["partial"] is False
    return +Counter({tuple(row["dimensions"].values()): row["inquiries"] for row in answer["rows"]})


def truth(stack: dict[str, str], days: list[date]) -> Counter[tuple[str, ...]]:
    answer = requests.get(
        f"{stack['calltouch']}/__sim__/calltouch/truth",
        params={
            "site": DEMO_SITE_ID,
            "from": days[0].isoformat(),
            "to": days[-1].isoformat(),
            "zone": ZONE,
            "undefined": UNDEFINED,
        },
        timeout=30,
    )
    answer.raise_for_status()
    return Counter(
        {
            (row["date"], row["kind"], row["source"], row["traffic_type"], row["campaign"]): row["inquiries"]
            for row in answer.json()["inquiries"]
        }
    )


def test_a_synced_calltouch_connector_reports_its_calls_and_requests_as_calltouch_generated_them(
    client: Client, stack: dict[str, str]
) -> None:
    project_id, connector = connect(client, "Calltouch")
    assert client.call("POST", f"/connectors/{connector['id']}/sync")
    status = wait_idle(client, connector["id"], 1)
    streams = {stream["stream"]: stream for stream in status["streams"]}
    assert set(streams) == {"calls", "requests"}
    assert all(stream["rows_stored"] > 0 and stream["days_stored"] == HISTORY for stream in streams.values())

    days = past_days()
    expected = truth(stack, days)
    assert {key[1] for key in expected} == {"call", "form"}
    assert report(client, project_id, days) == expected


def test_calltouch_beside_another_call_tracker_is_warned_of(client: Client) -> None:
    project_id, calltouch = connect(client, "Two trackers")
    assert client.call("GET", f"/connectors/{calltouch['id']}")["warnings"] == []
    check = client.call("POST", f"/projects/{project_id}/connectors/ringostat/check", json={"auth_key": RINGOSTAT_KEY})
    client.call(
        "POST",
        f"/projects/{project_id}/connectors",
        json={
            "vendor": "ringostat",
            "name": "Ringostat",
            "vendor_account_id": check["accounts"][0]["id"],
            "credentials_ref": check["credentials_ref"],
        },
    )
    [warning] = client.call("GET", f"/connectors/{calltouch['id']}")["warnings"]
    assert "calls come from several connectors" in warning and "calltouch" in warning and "ringostat" in warning
