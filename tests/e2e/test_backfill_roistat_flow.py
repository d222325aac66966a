"""Backfill on a Roistat connector, as a user meets it on the local stack: tags changed in tagged mode
and a stream switched on, saved over HTTP, and the archive read back through the report — checked
day by day against what the Roistat simulator says it generated (its truth, over HTTP)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from simulators.roistat import DEFAULT_API_KEY
from tests.e2e.backfill_api import Client, change, wait_idle

pytestmark = pytest.mark.e2e

#: Roistat's own zone in the demo data, so the vendor's days and the project's agree.
ZONE = "Europe/Moscow"
#: Few days: each settings change re-attributes or re-reads all of them.
HISTORY = 4
TARGET, QUALIFIED = "целевой", "квал"


@pytest.fixture(scope="module")
def client(stack: dict[str, str]) -> Client:
    return Client(stack)


def past_days() -> list[date]:
    """The loaded days that are over: today's calls are still being made (the demo data runs all day)."""
    today = datetime.now(ZoneInfo(ZONE)).date()
    return [today - timedelta(days=back) for back in range(HISTORY - 1, 0, -1)]


def connect(client: Client, name: str, settings: dict[str, Any]) -> tuple[str, str, str]:
    """A project with a Roistat connector to the demo key's first project, loaded once; (project id,
    connector id, Roistat project id)."""
    project = client.call("POST", "/projects", json={"name": name, "timezone": ZONE})
    check = client.call(
        "POST", f"/projects/{project['id']}/connectors/roistat/check", json={"api_key": DEFAULT_API_KEY}
    )
    account = check["accounts"][0]["id"]
    connector = client.call(
        "POST",
        f"/projects/{project['id']}/connectors",
        json={
            "vendor": "roistat",
            "name": name,
            "vendor_account_id": account,
            "credentials_ref": check["credentials_ref"],
            "settings": {"history_days": HISTORY, **settings},
        },
    )
    client.call("POST", f"/connectors/{connector['id']}/sync")
    wait_idle(client, connector["id"], 1)
    return project["id"], connector["id"], str(account)


def inquiries_by_day(client: Client, project_id: str, kind: str) -> Counter[str]:
    days = past_days()
    report = client.call(
        "GET",
        f"/projects/{project_id}/conversions",
        params={"from": days[0].isoformat(), "to": days[-1].isoformat(), "group_by": "date", "kind": kind},
    )
    return Counter({row["dimensions"]["date"]: row["inquiries"] for row in report["rows"] if row["inquiries"]})


def truth(stack: dict[str, str], account: str) -> dict[str, list[dict[str, Any]]]:
    """What the simulator generated for the Roistat project over the past loaded days."""
    days, zone = past_days(), ZoneInfo(ZONE)
    start = datetime(days[0].year, days[0].month, days[0].day, tzinfo=zone)
    end = start + timedelta(days=len(days))
    root = stack["roistat"].removesuffix("/api/v1")
    answer = requests.get(
        f"{root}/__sim__/roistat/truth",
        params={"project": account, "from": start.isoformat(), "to": end.isoformat()},
        timeout=30,
    )
    answer.raise_for_status()
    return dict(answer.json())


def by_day(records: list[dict[str, Any]], field: str) -> Counter[str]:
    zone = ZoneInfo(ZONE)
    return Counter(datetime.fromisoformat(record[field]).astimezone(zone).date().isoformat() for record in records)


def test_a_tag_added_in_tagged_mode_brings_its_archive_calls_and_removed_takes_them_away(
    client: Client, stack: dict[str, str]
) -> None:
    project_id, connector_id, account = connect(
        client,
        "Tagged",
        {"kpi_mode": "tagged", "tags": [TARGET], "streams": {"orders": False, "proxyleads": False}},
    )
    calls = truth(stack, account)["calls"]

    def tagged(*tags: str) -> Counter[str]:
        return by_day([call for call in calls if set(call["tags"]) & set(tags)], "date")

    target_only = inquiries_by_day(client, project_id, "call")
    assert target_only == tagged(TARGET)
    assert len(target_only) == HISTORY - 1
    assert tagged(TARGET, QUALIFIED) != tagged(TARGET)  # the demo data has calls tagged only «квал»

    version = change(client, connector_id, {"tags": [TARGET, QUALIFIED]})
    wait_idle(client, connector_id, version)
    assert inquiries_by_day(client, project_id, "call") == tagged(TARGET, QUALIFIED)

    version = change(client, connector_id, {"tags": [TARGET]})
    wait_idle(client, connector_id, version)
    assert inquiries_by_day(client, project_id, "call") == target_only


def test_a_stream_switched_on_loads_its_history(client: Client, stack: dict[str, str]) -> None:
    # deals on: they tell Roistat's artificial proxy leads (made for a deal) from the visitors' ones
    project_id, connector_id, account = connect(client, "Forms later", {"streams": {"proxyleads": False}})
    assert inquiries_by_day(client, project_id, "form") == Counter()
    leads = [lead for lead in truth(stack, account)["proxy_leads"] if not lead["artificial"]]
    assert leads

    version = change(client, connector_id, {"streams": {"proxyleads": True}})
    status = wait_idle(client, connector_id, version)
    [proxyleads] = [stream for stream in status["streams"] if stream["stream"] == "proxyleads"]
    assert proxyleads["days_stored"] == HISTORY
    loaded = inquiries_by_day(client, project_id, "form") + inquiries_by_day(client, project_id, "chat")
    # every genuine proxy lead is an inquiry in «Все обращения»; those Roistat made for a deal are not
    assert loaded == by_day(leads, "created")
