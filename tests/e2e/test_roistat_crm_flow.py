"""The Roistat custom-CRM export on the local stack, as a user meets it after `make run`: the demo
page printed at start answers Roistat's server, and a new project set up over HTTP (records pushed,
page created) is pulled page by page, the lead Roistat pushes coming back in the next export."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.integration.roistat_server import RoistatServer

pytestmark = pytest.mark.e2e


def signed_in(stack: dict[str, Any], method: str, path: str, body: Any = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {stack['token']}"}
    return requests.request(method, f"{stack['api']}{path}", json=body, headers=headers, timeout=60)


def test_the_demo_page_in_the_ready_file_answers_roistat(stack: dict[str, Any]) -> None:
    demo = stack["roistat_crm"]
    roistat = RoistatServer(demo["url"], demo["login"], demo["password"])

    scheme = roistat.scheme()
    orders, paginations = roistat.pull("export", date=1)
    clients, _ = roistat.pull("export_clients", date=1)

    assert {status["name"] for status in scheme["statuses"]} >= {"Новая", "Оплачена"}
    assert len(orders) == paginations[0]["totalCount"] == 300
    assert len(clients) == 120


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_project_pushed_over_http_is_pulled_by_roistat_with_its_lead(stack: dict[str, Any], fmt: str) -> None:
    project = signed_in(stack, "POST", "/projects", {"name": "CRM e2e"}).json()["id"]
    statuses = {"items": [{"id": "1", "name": "Новая"}, {"id": "2", "name": "Оплачена"}]}
    deals = {
        "items": [
            {"id": f"e{n}", "date_create": 1_760_000_000 + n, "status": "1", "price": n + 0.5} for n in range(1500)
        ]
    }
    for kind, body in (
        ("statuses", statuses),
        ("deals", {"items": deals["items"][:1000]}),
        ("deals", {"items": deals["items"][1000:]}),
    ):
        assert signed_in(stack, "POST", f"/projects/{project}/crm/{kind}", body).status_code == 200
    page = signed_in(stack, "POST", f"/projects/{project}/roistat-crm", {"format": fmt, "lead_status": "1"}).json()
    roistat = RoistatServer(page["url"], page["login"], page["password"])

    answer = roistat.push_lead(id="e2e-1", visit="555", title="Заявка с формы", phone="79161234567")
    orders, paginations = roistat.pull("export", date=1)
    view = signed_in(stack, "GET", f"/projects/{project}/roistat-crm").json()

    assert len(paginations) == 2  # the default page limit: 1 000
    assert sorted(order["id"] for order in orders) == sorted([*(f"e{n}" for n in range(1500)), answer["order_id"]])
    assert next(order for order in orders if order["id"] == answer["order_id"])["roistat"] == "555"
    assert view["counts"]["deals"] == 1501 and view["last_pull_action"] == "export"
    assert page["password"] not in str(view)
