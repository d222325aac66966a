"""Reading at the vendor's pace, as the local stack's Roistat sees it (issue 14): a connector synced over
HTTP reads a month of orders with their visits on 1 000-row pages under the documented limits, and the
simulator, which enforces those limits, refused none of its requests."""

from __future__ import annotations

import pytest
import requests

from simulators.roistat import DEFAULT_API_KEY
from tests.e2e.backfill_api import Client, wait_idle

pytestmark = pytest.mark.e2e


def test_a_roistat_sync_keeps_to_the_documented_limits(stack: dict[str, str]) -> None:
    client = Client(stack)
    simulator = stack["roistat"].removesuffix("/api/v1")
    project = client.call("POST", "/projects", json={"name": "Темп", "timezone": "Europe/Moscow"})
    check = client.call(
        "POST", f"/projects/{project['id']}/connectors/roistat/check", json={"api_key": DEFAULT_API_KEY}
    )
    connector = client.call(
        "POST",
        f"/projects/{project['id']}/connectors",
        json={
            "vendor": "roistat",
            "name": "Темп",
            "vendor_account_id": check["accounts"][0]["id"],
            "credentials_ref": check["credentials_ref"],
        },
    )
    requests.post(f"{simulator}/__sim__/reset", timeout=10).raise_for_status()
    client.call("POST", f"/connectors/{connector['id']}/sync")
    status = wait_idle(client, connector["id"], 1)

    orders = next(stream for stream in status["streams"] if stream["stream"] == "orders")
    assert orders["rows_stored"] > 0
    made = requests.get(f"{simulator}/__sim__/requests", timeout=10).json()
    assert made.get("/api/v1/project/integration/order/list", 0) >= 1
    assert requests.get(f"{simulator}/__sim__/refused", timeout=10).json() == {}  # no 429 the vendor counted
