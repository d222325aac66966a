"""Reports in constant time, end to end (issue 14): a connector loaded through the HTTP API leaves a daily
summary beside each day's partition, a report not grouped by date reads whole months as one summary, and
every grouping of the same days adds up to the same figures."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import boto3

from tests.e2e.backfill_api import Client, ringostat_connector, wait_idle

ZONE = "Europe/Kyiv"


def test_a_loaded_connector_is_reported_from_its_daily_and_month_summaries(stack: dict[str, str]) -> None:
    client = Client(stack)
    project = client.call("POST", "/projects", json={"name": "Сводки", "timezone": ZONE})
    connector = ringostat_connector(client, project["id"])
    wait_idle(client, connector["id"], 1)

    today = datetime.now(ZoneInfo(ZONE)).date()
    days = {"from": (today - timedelta(days=62)).isoformat(), "to": today.isoformat()}
    by_campaign = client.call("GET", f"/projects/{project['id']}/conversions", params={**days, "group_by": "campaign"})
    by_date = client.call("GET", f"/projects/{project['id']}/conversions", params={**days, "group_by": "date,campaign"})

    assert by_campaign["totals"]["inquiries"] > 0
    assert by_campaign["totals"] == by_date["totals"]
    per_campaign: Counter[str] = Counter()
    for row in by_date["rows"]:
        per_campaign[row["dimensions"]["campaign"]] += row["inquiries"]
    assert {row["dimensions"]["campaign"]: row["inquiries"] for row in by_campaign["rows"]} == dict(per_campaign)

    s3 = boto3.client("s3", endpoint_url=stack["aws"], region_name="eu-central-1")
    bucket = next(found["Name"] for found in s3.list_buckets()["Buckets"] if "data" in found["Name"].lower())
    prefix = f"daily/project={project['id']}/connector={connector['id']}/stream=calls/"
    keys = [entry["Key"] for entry in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]
    partitions = s3.list_objects_v2(
        Bucket=bucket, Prefix=f"conversions/project={project['id']}/connector={connector['id']}/stream=calls/"
    ).get("Contents", [])
    assert len([key for key in keys if "/date=" in key]) == len(partitions)  # one summary per day loaded
    assert [key for key in keys if "/month=" in key]  # a whole month inside the range: read as one summary
