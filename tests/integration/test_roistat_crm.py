"""Roistat pulls a project's CRM records from Leadhub's export page (seed 003): Roistat's server is
played by a plain HTTP client over real HTTP, the page and the API are the real Lambda handlers
behind the local gateway stand-in, on the embedded AWS."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from roistat_crm.app import lambda_handler as page_handler

from devstack.apigw import LocalHttpApi
from leadhub.api.app import build_resolver, resolve
from leadhub.roistat_crm import config
from leadhub.store.crm import CrmStore
from leadhub.store.tokens import TokenStore, new_token
from tests.integration.roistat_server import RoistatServer

pytestmark = pytest.mark.usefixtures("aws")

STATUSES = [{"id": "1", "name": "Новая"}, {"id": "2", "name": "Оплачена"}]
FIELDS = [{"id": "f1", "name": "Способ доставки"}]
MANAGERS = [{"id": "m1", "name": "Анна Смирнова", "email": "anna@example.ru"}]
CLIENTS = [
    {
        "id": "c1",
        "name": "Иван Иванов",
        "phone": "71111111111",
        "email": "ivan@client.ru",
        "company": "ООО «Ромашка»",
        "birth_date": "1990-04-15",
        "fields": {"Проблемный": "Да"},
    },
    {"id": "c2", "name": "Jane Doe", "phone": "3311111111, 3311111222"},
]


def deal(number: int, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": f"d{number}",
        "date_create": 1_700_000_000 + number,
        "status": "1",
        "price": 2331.5 + number,
    }
    if number % 2:
        base.update(
            name=f"Сделка №{number}",
            cost=1220.25,
            roistat=f"{300000 + number}",
            client_id="c1",
            fields={"Способ доставки": "Курьер", "Delivery method": "Collection <by> a customer"},
        )
    return {**base, **changes}


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    # small pages, so that a few dozen deals already take several
    monkeypatch.setenv("ROISTAT_CRM_PAGE_LIMIT", "7")
    config.crm_settings.cache_clear()
    token = new_token()
    TokenStore().register(token, "acc-crm")
    # a resolver of its own: the routers answer for the resolver built last (another test may build one)
    resolver = build_resolver()
    gateway = LocalHttpApi(
        lambda event, context: resolve(resolver, event, context), port=0, routes={"/roistat-crm/": page_handler}
    )
    base = gateway.start()
    yield {"base": base, "token": token}
    gateway.stop()
    config.crm_settings.cache_clear()


def call(api: dict[str, str], method: str, path: str, body: Any = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {api['token']}"}
    return requests.request(method, f"{api['base']}{path}", json=body, headers=headers, timeout=60)


def project_with_page(api: dict[str, str], fmt: str = "json", deals: int = 30) -> tuple[str, RoistatServer]:
    project = call(api, "POST", "/projects", {"name": "Магазин"}).json()["id"]
    for kind, items in (
        ("statuses", STATUSES),
        ("fields", FIELDS),
        ("managers", MANAGERS),
        ("clients", CLIENTS),
        ("deals", [deal(number) for number in range(1, deals + 1)]),
    ):
        answer = call(api, "POST", f"/projects/{project}/crm/{kind}", {"items": items})
        assert answer.status_code == 200, answer.text
        assert answer.json()["refused"] == []
    page = call(api, "POST", f"/projects/{project}/roistat-crm", {"format": fmt, "lead_status": "1"})
    assert page.status_code == 201, page.text
    created = page.json()
    return project, RoistatServer(created["url"], created["login"], created["password"])


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_roistat_gets_every_status_field_manager_deal_and_client_in_both_formats(api: dict[str, str], fmt: str) -> None:
    _, roistat = project_with_page(api, fmt)

    scheme = roistat.scheme()
    orders, paginations = roistat.pull("export", date=1)
    clients, _ = roistat.pull("export_clients", date=1)

    assert [(s["id"], s["name"]) for s in scheme["statuses"]] == [("1", "Новая"), ("2", "Оплачена")]
    assert [f["name"] for f in scheme["fields"]] == ["Способ доставки"]
    assert scheme["managers"][0]["name"] == "Анна Смирнова"
    assert len(paginations) == 5 and {p["limit"] for p in paginations} == {7}
    assert sorted(order["id"] for order in orders) == sorted(f"d{n}" for n in range(1, 31))
    first = next(order for order in orders if order["id"] == "d1")
    assert first["name"] == "Сделка №1"
    assert float(first["price"]) == 2332.5 and float(first["cost"]) == 1220.25
    assert first["fields"] == {"Способ доставки": "Курьер", "Delivery method": "Collection <by> a customer"}
    plain = next(order for order in orders if order["id"] == "d2")
    assert "name" not in plain and "fields" not in plain and "roistat" not in plain  # empty optionals left out
    if fmt == "json":
        assert first["date_create"] == "1700000001" and isinstance(first["price"], float)
    else:
        assert first["date_create"] == "2023-11-14 22:13:21" and first["price"] == "2332.50"
    ivan = next(client for client in clients if client["id"] == "c1")
    assert ivan["company"] == "ООО «Ромашка»" and ivan["birth_date"] == "1990-04-15"
    assert ivan["fields"] == {"Проблемный": "Да"}
    jane = next(client for client in clients if client["id"] == "c2")
    assert jane["email"] in ("", None) and "company" not in jane


LEAD = {
    "id": "777",
    "visit": "402211",
    "title": "Звонок с сайта",
    "name": "Пётр",
    "phone": "79160000000",
    "createdDate": "2026-12-01 10:00:00",
    "data": '{"page": "https://shop.example/каталог", "roistat": "402211", "nested": {"x": 1}}',
}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_lead_roistat_pushes_comes_back_in_the_next_export_under_the_answered_id(
    api: dict[str, str], fmt: str
) -> None:
    project, roistat = project_with_page(api, fmt, deals=3)

    answer = roistat.push_lead(**LEAD)
    orders, _ = roistat.pull("export", date=1)
    # the CRM moves the deal on; Roistat sending the same lead again changes nothing
    moved = {"id": answer["order_id"], "date_create": 1_764_583_200, "status": "2", "roistat": "402211"}
    call(api, "POST", f"/projects/{project}/crm/deals", {"items": [moved]})
    again = roistat.push_lead(**LEAD)
    after, _ = roistat.pull("export", date=1)

    assert answer["status"] == "ok"
    lead = next(order for order in orders if order["id"] == answer["order_id"])
    assert lead["roistat"] == "402211" and lead["name"] == "Звонок с сайта" and lead["status"] == "1"
    assert lead["fields"] == {"page": "https://shop.example/каталог", "roistat": "402211"}
    assert lead["client_id"] == answer["order_id"]
    assert again["order_id"] == answer["order_id"]
    assert next(order for order in after if order["id"] == answer["order_id"])["status"] == "2"


def test_only_deals_updated_after_date_come_back_and_an_updated_deal_comes_back_again(api: dict[str, str]) -> None:
    project, roistat = project_with_page(api, deals=10)
    time.sleep(1.1)
    since = int(time.time())
    time.sleep(1.1)

    nothing, _ = roistat.pull("export", date=since)
    resent = call(api, "POST", f"/projects/{project}/crm/deals", {"items": [deal(3), deal(4, status="2")]}).json()
    changed, _ = roistat.pull("export", date=since)

    assert nothing == []
    assert (resent["unchanged"], resent["updated"]) == (1, 1)
    assert [(order["id"], order["status"]) for order in changed] == [("d4", "2")]


def test_pages_of_one_export_stay_consistent_while_deals_change(api: dict[str, str]) -> None:
    project, roistat = project_with_page(api, deals=30)
    first = roistat.parsed(roistat.call("export", date=1))
    total, limit = first["pagination"]["totalCount"], first["pagination"]["limit"]
    seen = [order["id"] for order in first["orders"]]

    # the first page's deals change, and new ones arrive, while Roistat pages
    call(api, "POST", f"/projects/{project}/crm/deals", {"items": [deal(1, status="2"), deal(2, price=1.5), deal(99)]})
    for offset in range(limit, total, limit):
        page = roistat.parsed(roistat.call("export", date=1, offset=offset, limit=limit))
        assert page["pagination"]["totalCount"] == total
        seen.extend(order["id"] for order in page["orders"])

    assert sorted(seen) == sorted(f"d{n}" for n in range(1, 31))  # none skipped, none twice
    again, _ = roistat.pull("export", date=1)
    assert {"d1", "d2", "d99"} <= {order["id"] for order in again}


def test_pages_shrink_to_stay_under_the_byte_budget_even_for_deals_written_around_the_size_mark(
    api: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROISTAT_CRM_MAX_PAGE_BYTES", str(64 * 1024))
    config.crm_settings.cache_clear()
    project, roistat = project_with_page(api, deals=2)
    heavy = {f"Поле {n}": "ж" * 1000 for n in range(10)}  # 20 KB a deal
    pushed = call(
        api, "POST", f"/projects/{project}/crm/deals", {"items": [deal(n, fields=heavy) for n in range(3, 13)]}
    )
    # written straight to the store, as a concurrent writer would between the size mark and the scan
    CrmStore().write(
        "DEAL", project, [({**deal(13), "fields": {**heavy, "Ещё": "ж" * 1000}}, "x", time.time_ns() // 1000)]
    )

    answers = [roistat.call("export", date=1)]
    total, limit = answers[0].json()["pagination"]["totalCount"], answers[0].json()["pagination"]["limit"]
    answers += [roistat.call("export", date=1, offset=offset, limit=limit) for offset in range(limit, total, limit)]

    assert pushed.status_code == 200 and total == 13 and limit == 2
    assert all(len(answer.content) <= 64 * 1024 for answer in answers)
    assert sum(len(answer.json()["orders"]) for answer in answers) == 13


def test_push_api_names_every_bad_item_and_stores_a_batch_only_when_all_are_readable(api: dict[str, str]) -> None:
    project, roistat = project_with_page(api, deals=1)
    bad = [deal(5), {"id": "d6", "status": "1"}, deal(7, cost=0)]

    refused = call(api, "POST", f"/projects/{project}/crm/deals", {"items": bad})
    duplicated = call(api, "POST", f"/projects/{project}/crm/deals", {"items": [deal(5), deal(8), deal(5, price=1.0)]})
    too_many = call(api, "POST", f"/projects/{project}/crm/deals", {"items": [deal(1)] * 1001})
    orders, _ = roistat.pull("export", date=1)

    assert refused.status_code == 422
    assert {problem["field"] for problem in refused.json()["fields"]} == {"items.1.date_create", "items.2.cost"}
    assert duplicated.status_code == 200
    result = duplicated.json()
    assert (result["created"], [(item["index"], item["id"]) for item in result["refused"]]) == (2, [(2, "d5")])
    assert too_many.status_code == 422
    assert sorted(order["id"] for order in orders) == ["d1", "d5", "d8"]


def test_the_page_settings_show_url_login_counts_and_never_the_password(api: dict[str, str]) -> None:
    project, roistat = project_with_page(api, deals=4)
    roistat.scheme()

    shown = call(api, "GET", f"/projects/{project}/roistat-crm")
    rotated = call(api, "POST", f"/projects/{project}/roistat-crm", {}).json()

    assert shown.status_code == 200
    view = shown.json()
    assert view["url"] == roistat.url and view["login"] == roistat.user
    assert view["counts"] == {"deals": 4, "clients": 2, "statuses": 2, "fields": 1, "managers": 1}
    assert view["last_pull_action"] == "import_scheme"
    assert roistat.password not in shown.text
    assert roistat.call("import_scheme").status_code == 401  # the old credentials stopped working
    assert RoistatServer(rotated["url"], rotated["login"], rotated["password"]).call("import_scheme").status_code == 200
    other = new_token()
    TokenStore().register(other, "acc-other")
    foreign = requests.get(
        f"{api['base']}/projects/{project}/roistat-crm", headers={"Authorization": f"Bearer {other}"}, timeout=30
    )
    assert foreign.status_code == 404


BAD_INPUTS = [
    ({"token": "0" * 32}, 401),
    ({"token": None}, 401),
    ({"user": "somebody"}, 401),
    ({"user": None}, 401),
    ({"date": "yesterday"}, 400),
    ({"date": None}, 400),
    ({"offset": "-7"}, 400),
    ({"limit": "0"}, 400),
    ({"action": "drop_tables"}, 400),
    ({"format": "csv"}, 400),
]


@pytest.mark.parametrize(("change", "status"), BAD_INPUTS)
def test_bad_input_is_a_clear_error_without_data(
    api: dict[str, str], change: dict[str, Any], status: int, caplog: pytest.LogCaptureFixture
) -> None:
    _, roistat = project_with_page(api, deals=2)
    params = {"action": "export", "user": roistat.user, "token": roistat.token, "date": "1", **change}

    with caplog.at_level(logging.INFO):
        answer = requests.get(roistat.url, params={k: v for k, v in params.items() if v is not None}, timeout=30)

    assert answer.status_code == status
    body = answer.json()
    assert body["status"] == "error" and body["error"]
    assert "orders" not in body and "d1" not in answer.text and "Новая" not in answer.text
    assert roistat.token not in caplog.text and roistat.password not in caplog.text


def test_an_unknown_project_is_a_clear_error(api: dict[str, str]) -> None:
    answer = requests.get(
        f"{api['base']}/roistat-crm/nosuchproject", params={"action": "export", "date": "1"}, timeout=30
    )

    assert answer.status_code == 404
    assert answer.json() == {"status": "error", "error": "unknown project: it has no Roistat export page"}


def test_the_project_is_throttled_beyond_its_requests_per_minute(
    api: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, roistat = project_with_page(api, deals=1)
    monkeypatch.setenv("ROISTAT_CRM_REQUESTS_PER_MINUTE", "3")
    config.crm_settings.cache_clear()

    statuses = [roistat.call("import_scheme").status_code for _ in range(8)]  # one minute window holds 4+

    assert statuses.count(429) >= 1 and statuses[0] == 200
