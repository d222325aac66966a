"""The amoCRM lead sync over HTTP on the local stack (seed 002): a user connects amoCRM, picks the
responsible user, pipeline and fields from the lists the API reads from the account, switches the sync
on, and inquiries reach it through its queue as extraction puts them there; the queue and the re-check
schedule run as in AWS. The deals land in the amoCRM simulator."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import requests

from simulators.amocrm import AmoCrmKnobs
from tests.e2e.backfill_api import RINGOSTAT_KEY
from tests.integration.amocrm_connect import INTEGRATION_FIELDS

pytestmark = pytest.mark.e2e

QUEUE = "leadhub-local-CrmSyncQueue"
#: The test looks into amoCRM from another IP than Leadhub's: amoCRM counts requests per IP.
TEST_IP = "10.0.0.8"
PROJECT = "Диваны"


class Api:
    def __init__(self, stack: dict[str, str]) -> None:
        self.base = stack["api"]
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {stack['token']}"

    def call(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        answer = self.session.request(method, f"{self.base}{path}", timeout=60, **kwargs)
        assert answer.status_code == expect, f"{method} {path} → {answer.status_code}: {answer.text}"
        return answer.json()


class Crm:
    """The amoCRM simulator seen from outside, as a person in the account would."""

    def __init__(self, base: str) -> None:
        self.base = base
        token = requests.post(f"{base}/__sim__/amocrm/long-lived-token", json={}, timeout=10).json()["access_token"]
        self.headers = {"Authorization": f"Bearer {token}", "X-Forwarded-For": TEST_IP}

    def call(self, method: str, path: str, body: Any = None) -> Any:
        answer = requests.request(method, f"{self.base}{path}", json=body, headers=self.headers, timeout=10)
        answer.raise_for_status()
        return answer.json() if answer.content else None

    def lead(self, lead_id: int) -> dict[str, Any]:
        return dict(self.call("GET", f"/api/v4/leads/{lead_id}?with=contacts"))

    def stats(self) -> dict[str, Any]:
        return dict(requests.post(f"{self.base}/__sim__/amocrm/stats", json={}, timeout=10).json())


def value_named(entity: dict[str, Any], name: str) -> str | None:
    for entry in entity.get("custom_fields_values") or []:
        if entry["field_name"] == name:
            return str(entry["values"][0]["value"])
    return None


def eventually(check: Callable[[], Any], what: str, seconds: float = 60) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.3)


def inquiry(source: str, number: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": f"{source}.calls.{number}",
        "source_connector_id": source,
        "type": "phone",
        "occurred_at": (datetime.now(UTC) - timedelta(minutes=4)).isoformat(),
        **fields,
    }


class Flow:
    def __init__(self, stack: dict[str, str]) -> None:
        self.api = Api(stack)
        self.crm = Crm(stack["amocrm"])
        self.sqs = boto3.client(
            "sqs",
            endpoint_url=stack["aws"],
            region_name="eu-central-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        self.queue = self.sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
        project = self.api.call("POST", "/projects", 201, json={"name": PROJECT, "timezone": "Europe/Moscow"})
        code = requests.post(f"{stack['amocrm']}/__sim__/amocrm/code", json={}, timeout=10).json()["code"]
        credentials = {name: getattr(AmoCrmKnobs(), name) for name in INTEGRATION_FIELDS} | {"code": code}
        self.connector = self.connect(project["id"], "amocrm", credentials)
        # the inquiries' source: a call tracker of the project (never synced here: the test delivers its inquiries)
        self.source = self.connect(project["id"], "ringostat", {"auth_key": RINGOSTAT_KEY})

    def connect(self, project_id: str, vendor: str, credentials: dict[str, Any]) -> str:
        """A connector made as a user makes one: the credentials checked, then the first account taken."""
        checked = self.api.call("POST", f"/projects/{project_id}/connectors/{vendor}/check", json=credentials)
        body = {
            "vendor": vendor,
            "name": vendor,
            "vendor_account_id": checked["accounts"][0]["id"],
            "credentials_ref": checked["credentials_ref"],
        }
        return str(self.api.call("POST", f"/projects/{project_id}/connectors", 201, json=body)["id"])

    def settings(self, **lead_sync: Any) -> None:
        body = {"lead_sync": {"enabled": True, **lead_sync}}
        self.api.call("PATCH", f"/connectors/{self.connector}/settings", json=body)

    def deliver(self, message: dict[str, Any]) -> None:
        """What extraction (or the re-check schedule) puts on the sync's queue."""
        self.sqs.send_message(QueueUrl=self.queue, MessageBody=json.dumps({"connector_id": self.connector, **message}))

    def state(self, inquiry_id: str) -> dict[str, Any] | None:
        answer = self.api.session.get(
            f"{self.api.base}/connectors/{self.connector}/crm-sync/inquiries/{inquiry_id}", timeout=30
        )
        return answer.json() if answer.status_code == 200 else None

    def settled(self, inquiry_id: str, state: str) -> dict[str, Any]:
        return dict(
            eventually(lambda: (s := self.state(inquiry_id)) and s["state"] == state and s, f"{inquiry_id} {state}")
        )


@pytest.fixture(scope="module")
def flow(stack: dict[str, str]) -> Flow:
    return Flow(stack)


def test_a_call_in_mode_1_creates_one_deal_and_contact_then_the_campaign_fills_in(flow: Flow) -> None:
    options = flow.api.call("GET", f"/connectors/{flow.connector}/crm-sync/options")
    assert len(options["parameters"]) == 18
    pipeline = options["pipelines"][0]
    utm_source = next(field for field in options["fields"]["deal"] if field["code"] == "UTM_SOURCE")
    flow.settings(
        create={"deal": True, "contact": True, "company": False},
        responsible_user_id=options["users"][1]["id"],
        pipeline_id=pipeline["id"],
        status_id=pipeline["statuses"][1]["id"],
        source_connector_ids=[flow.source],
        fields={"deal": {"source": {"mode": "existing", "field_id": utm_source["id"]}, "campaign": {"mode": "new"}}},
    )
    call = inquiry(flow.source, "1", phone="+7 916 700-00-01", name="Пётр", params={"source": "yandex"})
    flow.deliver({"inquiries": [call]})
    state = flow.settled(call["id"], "synced")
    deal = flow.crm.lead(state["entities"]["deal"]["amocrm_id"])
    assert value_named(deal, "utm_source") == "yandex"
    assert {tag["name"] for tag in deal["_embedded"]["tags"]} >= {PROJECT}
    assert deal["responsible_user_id"] == options["users"][1]["id"]
    assert [contact["id"] for contact in deal["_embedded"]["contacts"]] == [state["entities"]["contact"]["amocrm_id"]]

    flow.deliver({"inquiries": [{**call, "params": {"source": "yandex", "campaign": "sofas_msk"}}]})
    eventually(lambda: value_named(flow.crm.lead(deal["id"]), "Кампания") == "sofas_msk", "the campaign filled in")

    updates = lambda: [write["path"] for write in flow.crm.stats()["writes"] if write["method"] == "PATCH"]  # noqa: E731
    assert eventually(lambda: len(updates()) == 2 and updates(), "the deal and contact updated") == [
        "/api/v4/leads",
        "/api/v4/contacts",
    ]
    writes = len(flow.crm.stats()["writes"])
    flow.deliver({"inquiries": [{**call, "params": {"source": "yandex", "campaign": "sofas_msk"}}]})
    # a new call queued behind the duplicate: once it is synced, the duplicate has been through the sync
    marker = inquiry(flow.source, "1b", phone="+7 916 700-00-02", name="Ольга")
    flow.deliver({"inquiries": [marker]})
    flow.settled(marker["id"], "synced")
    new_writes = [write["path"] for write in flow.crm.stats()["writes"][writes:]]
    assert sorted(new_writes) == ["/api/v4/contacts", "/api/v4/leads"]  # the marker's contact and deal only
    status = flow.api.call("GET", f"/connectors/{flow.connector}/crm-sync")
    assert status["entities"]["created"] == 4 and status["config_error"] is None


def test_mode_2_updates_the_newest_deal_and_gives_up_after_three_hours(flow: Flow) -> None:
    options = flow.api.call("GET", f"/connectors/{flow.connector}/crm-sync/options")
    ga = next(field for field in options["fields"]["deal"] if field["code"] == "GCLIENTID")
    flow.settings(
        create={"deal": False, "contact": False, "company": False},
        fields={"deal": {"campaign": {"mode": "new"}, "ga_client_id": {"mode": "existing", "field_id": ga["id"]}}},
    )
    [contact] = flow.crm.call(
        "POST",
        "/api/v4/contacts",
        [{"name": "Анна", "custom_fields_values": [{"field_code": "EMAIL", "values": [{"value": "anna@shop.ru"}]}]}],
    )["_embedded"]["contacts"]
    now = int(time.time())
    older, newer = (
        flow.crm.call(
            "POST",
            "/api/v4/leads",
            [{"name": "Сделка", "created_at": now - age, "_embedded": {"contacts": [{"id": contact["id"]}]}}],
        )["_embedded"]["leads"][0]["id"]
        for age in (172_800, 86_400)
    )
    form = inquiry(flow.source, "2", type="form", email="Anna@Shop.ru", params={"campaign": "spring"})
    lost = inquiry(flow.source, "3", type="form", email="nobody@shop.ru", params={"campaign": "spring"})
    flow.deliver({"inquiries": [form, lost]})
    state = flow.settled(form["id"], "synced")
    assert state["entities"]["deal"]["amocrm_id"] == newer
    assert value_named(flow.crm.lead(newer), "Кампания") == "spring"
    assert value_named(flow.crm.lead(older), "Кампания") is None
    assert flow.settled(lost["id"], "waiting")["entities"].get("deal") in (None, {"amocrm_id": None, "action": None})

    # the schedule's tick three hours on (its scheduled time is the sync's clock)
    later = (datetime.now(UTC) + timedelta(hours=3, minutes=5)).isoformat()
    writes = len(flow.crm.stats()["writes"])
    flow.deliver({"recheck": [lost["id"]], "at": later})
    flow.settled(lost["id"], "expired")
    assert len(flow.crm.stats()["writes"]) == writes


def test_a_deal_whose_ga_client_id_is_filled_in_is_not_updated(flow: Flow) -> None:
    [contact] = flow.crm.call(
        "POST",
        "/api/v4/contacts",
        [{"name": "Гоша", "custom_fields_values": [{"field_code": "EMAIL", "values": [{"value": "ga@shop.ru"}]}]}],
    )["_embedded"]["contacts"]
    deal = flow.crm.call(
        "POST",
        "/api/v4/leads",
        [
            {
                "name": "Сделка с GA",
                "custom_fields_values": [{"field_code": "GCLIENTID", "values": [{"value": "GA1.2.3.4"}]}],
                "_embedded": {"contacts": [{"id": contact["id"]}]},
            }
        ],
    )["_embedded"]["leads"][0]["id"]
    form = inquiry(flow.source, "4", type="form", email="ga@shop.ru", params={"campaign": "autumn"})
    flow.deliver({"inquiries": [form]})
    state = flow.settled(form["id"], "synced")
    assert state["entities"]["deal"] == {"amocrm_id": deal, "action": "guarded"}
    assert value_named(flow.crm.lead(deal), "Кампания") is None
