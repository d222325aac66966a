"""Calltouch plan import over HTTP on the local stack, as a marketer does it: download the template,
fill it in, upload it, read the report, fix the rows, watch the chunks go, download the result."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
import requests
from openpyxl import load_workbook

from simulators.calltouch import DEMO_SITE_ID, DEMO_TOKEN
from tests.e2e.test_setup_api import Api

pytestmark = pytest.mark.e2e

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ADD_PATH = "/report-service/RestAPI/api/plans-import/add"
#: Rows of the sheet that break a rule, and what they break (row number as Excel counts it).
BROKEN: dict[int, dict[str, Any]] = {
    12: {"dateTo": "31-04-2026"},
    102: {"metric.type": "Звонки"},
    203: {"source": None, "campaign": None},
}


@pytest.fixture(scope="module")
def api(stack: dict[str, str]) -> Api:
    return Api(stack["api"], stack["token"])


@pytest.fixture(scope="module")
def connectors(api: Api) -> list[str]:
    project = api.call("POST", "/projects", json={"name": "Планы", "timezone": "Europe/Moscow"}).json()
    made = []
    for name in ("Calltouch сайт", "Calltouch лендинг"):
        checked = api.call(
            "POST",
            f"/projects/{project['id']}/connectors/calltouch/check",
            json={"access_token": DEMO_TOKEN, "site_id": DEMO_SITE_ID},
        ).json()
        created = api.call(
            "POST",
            f"/projects/{project['id']}/connectors",
            json={
                "vendor": "calltouch",
                "name": name,
                "vendor_account_id": DEMO_SITE_ID,
                "credentials_ref": checked["credentials_ref"],
            },
        )
        assert created.status_code == 201, created.text
        made.append(created.json()["id"])
    return made


def sim(stack: dict[str, str], action: str, method: str = "GET") -> Any:
    answer = requests.request(method, f"{stack['calltouch']}/__sim__/{action}", timeout=10)
    answer.raise_for_status()
    return answer.json()


def plan_sheet(template: bytes, rows: int, broken: dict[int, dict[str, Any]]) -> bytes:
    workbook = load_workbook(io.BytesIO(template))
    sheet = workbook.worksheets[0]
    column = {header.value: header.column for header in sheet[1]}
    fields = {
        "dateFrom": "Начало периода (dateFrom)",
        "dateTo": "Конец периода (dateTo)",
        "source": "Источник (source)",
        "campaign": "Кампания (campaign)",
        "metric.type": "Тип метрики (metric.type)",
        "metric.name": "Название метрики (metric.name)",
        "metric.value": "Значение (metric.value)",
    }
    for number in range(2, rows + 2):
        values: dict[str, Any] = {
            "dateFrom": "01-05-2026",
            "dateTo": "31-05-2026",
            "source": "yandex",
            "campaign": f"май-{number}",
            "metric.type": "Лиды",
            "metric.name": "Целевые лиды",
            "metric.value": number,
        }
        values.update(broken.get(number, {}))
        for field, header in fields.items():
            sheet.cell(row=number, column=column[header], value=values[field])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(api: Api, connector: str, data: bytes) -> str:
    link = api.call("POST", f"/connectors/{connector}/plan-imports/upload-url").json()
    put = requests.put(link["url"], data=data, headers={"Content-Type": XLSX}, timeout=30)
    assert put.status_code == 200
    return str(link["key"])


def import_progress(api: Api, import_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = api.call("GET", f"/plan-imports/{import_id}").json()
    return answer


def until(done: Callable[[], dict[str, Any]], seconds: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        seen = done()
        if seen["state"] in ("done", "failed") or time.monotonic() > deadline:
            return seen
        time.sleep(0.5)


def test_a_plan_file_is_checked_fixed_sent_in_3_chunks_and_not_imported_twice(
    api: Api, connectors: list[str], stack: dict[str, str]
) -> None:
    connector = connectors[0]
    link = api.call("GET", f"/connectors/{connector}/plan-imports/template")
    assert link.status_code == 200, link.text
    template = requests.get(link.json()["url"], timeout=30)
    assert template.status_code == 200
    sent_before = sim(stack, "requests").get(ADD_PATH, 0)

    # 250 valid rows and 3 invalid ones: a clear report, nothing sent
    broken = plan_sheet(template.content, 253, BROKEN)
    refused = api.call(
        "POST", f"/connectors/{connector}/plan-imports", json={"upload_key": upload(api, connector, broken)}
    )
    assert refused.status_code == 422, refused.text
    report = refused.json()["violations"]
    assert [(v["row"], v["cell"], v["field"], v["message"]) for v in report] == [
        (12, "B12", "items[10].dateTo", "Значение не является правильной датой."),
        (102, "H102", "items[100].metric.type", "Значение не совпадает с одним из допустимых."),
        (
            203,
            "C203",
            "items[201].source",
            "Должно быть заполнено одно или несколько из полей: source, medium, campaign, content, keyword",
        ),
    ]
    assert sim(stack, "requests").get(ADD_PATH, 0) == sent_before

    # fixed: 253 rows, 3 chunks, all confirmed, and a result with a status per row
    fixed = plan_sheet(template.content, 253, {})
    started = api.call(
        "POST", f"/connectors/{connector}/plan-imports", json={"upload_key": upload(api, connector, fixed)}
    )
    assert started.status_code == 202, started.text
    finished = until(partial(import_progress, api, started.json()["id"]))
    assert finished["state"] == "done", finished
    progress = finished["progress"]
    assert (progress["chunks"], progress["chunks_sent"], progress["chunks_confirmed"], progress["chunks_failed"]) == (
        3,
        3,
        3,
        0,
    )
    assert [chunk["rows"] for chunk in finished["chunks"]] == [100, 100, 53]
    assert sim(stack, "requests").get(ADD_PATH, 0) == sent_before + 3
    result = requests.get(finished["result"]["url"], timeout=30)
    assert result.status_code == 200
    rows = list(load_workbook(io.BytesIO(result.content)).worksheets[0].iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert len(body) == 253
    status, campaign = header.index("Статус"), header.index("Кампания (campaign)")
    assert {row[status] for row in body} == {"импортирована"}
    assert [row[campaign] for row in body] == [f"май-{number}" for number in range(2, 255)]
    assert [row[header.index("Строка файла")] for row in body] == list(range(2, 255))

    # the same file again: the first import, nothing sent
    again = api.call(
        "POST", f"/connectors/{connector}/plan-imports", json={"upload_key": upload(api, connector, fixed)}
    )
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["id"] == started.json()["id"]
    assert sim(stack, "requests").get(ADD_PATH, 0) == sent_before + 3


def test_two_imports_started_together_stay_within_5_requests_a_second(
    api: Api, connectors: list[str], stack: dict[str, str]
) -> None:
    sim(stack, "reset", "POST")
    started = []
    for number, connector in enumerate(connectors):
        items = [
            {
                "dateFrom": "01-06-2026",
                "dateTo": "30-06-2026",
                "medium": "cpc",
                "campaign": f"июнь-{number}-{row}",
                "metric": {"type": "Площадки", "name": "Клики", "value": row},
            }
            for row in range(600)
        ]
        answer = api.call("POST", f"/connectors/{connector}/plan-imports", json={"items": items})
        assert answer.status_code == 202, answer.text
        started.append(answer.json()["id"])
    finished = [until(partial(import_progress, api, import_id)) for import_id in started]
    assert [f["state"] for f in finished] == ["done", "done"]
    assert all(f["progress"]["chunks_confirmed"] == 6 for f in finished)
    rates = sim(stack, "rates")
    assert rates["rate_limited"] == 0, rates
    assert rates["ips"]["local"]["requests"] >= 24
    assert rates["ips"]["local"]["peak_per_window"] <= 5
