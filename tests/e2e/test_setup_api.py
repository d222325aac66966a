"""The connector setup API over HTTP on the local stack: what a BI front end does on the
«Коннекторы» page (seeds 000, 001), with the bad inputs a real user sends."""

from __future__ import annotations

import io
import time
import uuid
import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import boto3
import openpyxl
import pytest
import requests

from leadhub.store.tokens import hash_token
from simulators.amocrm import AmoCrmKnobs
from simulators.calltouch import DEMO_SITE_ID, DEMO_TOKEN
from simulators.roistat import DEFAULT_API_KEY as ROISTAT_KEY

pytestmark = pytest.mark.e2e

RINGOSTAT_KEY = "ringostat-demo-auth-key"
SECRETS = (ROISTAT_KEY, RINGOSTAT_KEY, DEMO_TOKEN, AmoCrmKnobs().client_secret)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_text(content: bytes) -> str:
    """Everything an XLSX holds, decompressed (its parts are zipped XML)."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return "".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())


class Api:
    """An HTTP client for one account that remembers every answer, to check none leaks a secret."""

    answers: ClassVar[list[str]] = []

    def __init__(self, base: str, token: str | None) -> None:
        self.base = base
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        answer = self.session.request(method, f"{self.base}{path}", timeout=30, **kwargs)
        Api.answers.append(answer.text)
        assert answer.status_code < 500, f"{method} {path} → {answer.status_code}: {answer.text}"
        return answer


@pytest.fixture(scope="module")
def api(stack: dict[str, str]) -> Api:
    return Api(stack["api"], stack["token"])


@pytest.fixture(scope="module")
def stranger(stack: dict[str, str]) -> Api:
    """A second account, registered straight in the embedded AWS's tokens table."""
    token = f"stranger-{uuid.uuid4().hex}"
    dynamodb = boto3.client("dynamodb", endpoint_url=stack["aws"], region_name="eu-central-1")
    dynamodb.put_item(
        TableName="leadhub-local-TokensTable",
        Item={"token_hash": {"S": hash_token(token)}, "account_id": {"S": "stranger"}, "version": {"N": "1"}},
    )
    return Api(stack["api"], token)


@pytest.fixture(scope="module")
def project(api: Api) -> dict[str, Any]:
    answer = api.call("POST", "/projects", json={"name": "Интернет-магазин", "timezone": "Europe/Moscow"})
    assert answer.status_code == 201
    return dict(answer.json())


def check(api: Api, project_id: str, vendor: str, credentials: dict[str, Any]) -> requests.Response:
    return api.call("POST", f"/projects/{project_id}/connectors/{vendor}/check", json=credentials)


def create(api: Api, project_id: str, vendor: str, credentials: dict[str, Any], **fields: Any) -> dict[str, Any]:
    checked = check(api, project_id, vendor, credentials)
    assert checked.status_code == 200, checked.text
    body = checked.json()
    account = fields.pop("vendor_account_id", None) or body["accounts"][0]["id"]
    answer = api.call(
        "POST",
        f"/projects/{project_id}/connectors",
        json={
            "vendor": vendor,
            "name": fields.pop("name", vendor),
            "vendor_account_id": account,
            "credentials_ref": body["credentials_ref"],
            **fields,
        },
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


@pytest.fixture(scope="module")
def roistat(api: Api, project: dict[str, Any]) -> dict[str, Any]:
    return create(api, project["id"], "roistat", {"api_key": ROISTAT_KEY}, name="Roistat shop")


# --- authentication ---------------------------------------------------------------------------------


def test_every_route_but_health_needs_a_token(stack: dict[str, str]) -> None:
    anonymous = Api(stack["api"], None)
    assert anonymous.call("GET", "/health").status_code == 200
    for method, path in (("GET", "/projects"), ("POST", "/projects"), ("GET", "/connectors/x/status")):
        answer = anonymous.call(method, path)
        assert answer.status_code == 401
        assert "Bearer" in answer.json()["message"]
    wrong = Api(stack["api"], "not-a-real-token")
    assert wrong.call("GET", "/projects").status_code == 401


# --- projects ---------------------------------------------------------------------------------------


def test_projects_are_created_listed_read_and_renamed(api: Api, project: dict[str, Any]) -> None:
    assert project["timezone"] == "Europe/Moscow"
    assert project["id"] in [p["id"] for p in api.call("GET", "/projects").json()]
    renamed = api.call("PATCH", f"/projects/{project['id']}", json={"name": "Магазин"})
    assert renamed.json()["name"] == "Магазин"
    assert api.call("GET", f"/projects/{project['id']}").json()["name"] == "Магазин"


@pytest.mark.parametrize(
    ("body", "status", "named"),
    [
        ('{"name": "x", ', 400, "not valid JSON"),
        ({"name": 42}, 422, "name"),
        ({"name": ""}, 422, "name"),
        ({"name": "x", "timezone": "Mars/Olympus"}, 422, "timezone"),
        ({"name": "x", "colour": "red"}, 422, "colour"),
        ([1, 2], 422, "body"),
    ],
)
def test_bad_project_input_is_a_4xx_naming_the_field(api: Api, body: Any, status: int, named: str) -> None:
    kwargs: dict[str, Any] = (
        {"data": body, "headers": {"Content-Type": "application/json"}} if isinstance(body, str) else {"json": body}
    )
    answer = api.call("POST", "/projects", **kwargs)
    assert answer.status_code == status
    assert named in answer.text


def test_another_accounts_project_is_not_found(stranger: Api, project: dict[str, Any]) -> None:
    assert stranger.call("GET", f"/projects/{project['id']}").status_code == 404
    assert stranger.call("PATCH", f"/projects/{project['id']}", json={"name": "mine"}).status_code == 404
    assert project["id"] not in [p["id"] for p in stranger.call("GET", "/projects").json()]


# --- credentials checks -----------------------------------------------------------------------------


def test_a_roistat_key_lists_its_projects_by_name(api: Api, project: dict[str, Any]) -> None:
    answer = check(api, project["id"], "roistat", {"api_key": ROISTAT_KEY})
    assert answer.status_code == 200
    accounts = answer.json()["accounts"]
    assert accounts and all(account["name"] for account in accounts)


def test_a_wrong_roistat_key_names_the_vendors_refusal(api: Api, project: dict[str, Any]) -> None:
    answer = check(api, project["id"], "roistat", {"api_key": "wrong-key-123456"})
    assert answer.status_code == 422
    assert "roistat" in answer.json()["message"]
    assert answer.json()["vendor_error"]["class"] == "config"


def test_ringostat_lists_accounts_by_number_and_says_names_are_not_passed(api: Api, project: dict[str, Any]) -> None:
    answer = check(api, project["id"], "ringostat", {"auth_key": RINGOSTAT_KEY})
    assert answer.status_code == 200
    body = answer.json()
    assert "names" in body["note"]
    assert all(account["name"] is None for account in body["accounts"])


def test_calltouch_checks_the_site_id(api: Api, project: dict[str, Any]) -> None:
    ok = check(api, project["id"], "calltouch", {"access_token": DEMO_TOKEN, "site_id": DEMO_SITE_ID})
    assert ok.status_code == 200
    assert ok.json()["accounts"] == [{"id": DEMO_SITE_ID, "name": None}]
    foreign = check(api, project["id"], "calltouch", {"access_token": DEMO_TOKEN, "site_id": "999"})
    assert foreign.status_code == 422


@pytest.mark.parametrize(
    ("vendor", "credentials", "named"),
    [
        ("roistat", {"key": ROISTAT_KEY}, "api_key"),
        ("roistat", {"api_key": 12345678}, "api_key"),
        ("calltouch", {"access_token": DEMO_TOKEN, "site_id": "abc"}, "site_id"),
    ],
)
def test_bad_credentials_input_names_the_field(
    api: Api, project: dict[str, Any], vendor: str, credentials: dict[str, Any], named: str
) -> None:
    answer = check(api, project["id"], vendor, credentials)
    assert answer.status_code == 422
    assert named in answer.text


def test_a_vendor_leadhub_does_not_connect_has_no_check(api: Api, project: dict[str, Any]) -> None:
    answer = check(api, project["id"], "bitrix", {"api_key": "x" * 10})
    assert answer.status_code == 404


# --- connectors -------------------------------------------------------------------------------------


def test_a_connector_is_created_scheduled_and_never_echoes_its_key(api: Api, roistat: dict[str, Any]) -> None:
    assert roistat["active"] and roistat["scheduled"]
    assert roistat["settings"]["kpi_mode"] == "all"
    assert roistat["settings"]["include_not_counted"] is True
    assert roistat["settings"]["streams"] == {"calls": True, "orders": True, "proxyleads": True}
    assert ROISTAT_KEY not in str(roistat)


def test_a_credentials_ref_is_single_use(api: Api, project: dict[str, Any]) -> None:
    checked = check(api, project["id"], "roistat", {"api_key": ROISTAT_KEY}).json()
    account = checked["accounts"][0]["id"]
    body = {
        "vendor": "roistat",
        "name": "a",
        "vendor_account_id": account,
        "credentials_ref": checked["credentials_ref"],
    }
    assert api.call("POST", f"/projects/{project['id']}/connectors", json=body).status_code == 201
    again = api.call("POST", f"/projects/{project['id']}/connectors", json=body)
    assert again.status_code == 422
    assert "credentials_ref" in again.text


def test_a_vendor_project_the_key_cannot_see_is_refused(api: Api, project: dict[str, Any]) -> None:
    ref = check(api, project["id"], "roistat", {"api_key": ROISTAT_KEY}).json()["credentials_ref"]
    answer = api.call(
        "POST",
        f"/projects/{project['id']}/connectors",
        json={"vendor": "roistat", "name": "x", "vendor_account_id": "424242", "credentials_ref": ref},
    )
    assert answer.status_code == 422
    assert "vendor_account_id" in answer.text


def test_a_refused_create_leaves_the_credentials_ref_usable(api: Api, project: dict[str, Any]) -> None:
    checked = check(api, project["id"], "roistat", {"api_key": ROISTAT_KEY}).json()
    body = {
        "vendor": "roistat",
        "name": "retry",
        "vendor_account_id": "424242",
        "credentials_ref": checked["credentials_ref"],
    }
    path = f"/projects/{project['id']}/connectors"
    assert api.call("POST", path, json=body).status_code == 422  # an account the key cannot see
    assert api.call("POST", path, json={**body, "vendor": "ringostat"}).status_code == 422  # the wrong vendor
    bad_settings = {**body, "vendor_account_id": checked["accounts"][0]["id"], "settings": {"kpi_mode": "tagged"}}
    assert api.call("POST", path, json=bad_settings).status_code == 422  # tagged needs tags
    created = api.call("POST", path, json={**body, "vendor_account_id": checked["accounts"][0]["id"]})
    assert created.status_code == 201, created.text
    assert api.call("POST", path, json={**body, "vendor_account_id": checked["accounts"][0]["id"]}).status_code == 422


def test_sync_while_a_run_holds_the_connector_says_so(api: Api, project: dict[str, Any], stack: dict[str, str]) -> None:
    connector = create(api, project["id"], "roistat", {"api_key": ROISTAT_KEY}, name="Busy")
    dynamodb = boto3.client("dynamodb", endpoint_url=stack["aws"], region_name="eu-central-1")
    lease = {"pk": {"S": f"CONNECTOR#{connector['id']}"}, "sk": {"S": "LEASE"}}
    held_until = str(time.time() + 600)
    dynamodb.put_item(
        TableName="leadhub-local-JobsTable",
        Item={**lease, "lease_owner": {"S": "another-run"}, "lease_until": {"N": held_until}},
    )
    busy = api.call("POST", f"/connectors/{connector['id']}/sync")
    assert busy.status_code == 409, busy.text
    assert "in progress" in busy.json()["message"]
    assert busy.json()["error"] == "Conflict"
    dynamodb.delete_item(TableName="leadhub-local-JobsTable", Key=lease)
    assert api.call("POST", f"/connectors/{connector['id']}/deactivate").status_code == 200  # no run started here


def test_settings_are_validated_with_the_field_named(api: Api, roistat: dict[str, Any]) -> None:
    path = f"/connectors/{roistat['id']}/settings"
    off = api.call("PATCH", path, json={"client_report": False})
    assert off.status_code == 422
    assert "Управление клиентами" in off.text
    tagged_without_tags = api.call("PATCH", path, json={"kpi_mode": "tagged", "tags": []})
    assert tagged_without_tags.status_code == 422
    channel = {"parameter": "utm_source", "value": "avito", "source": "Avito", "traffic_type": "cpc", "campaign": "A"}
    duplicate = api.call("PATCH", path, json={"static_channels": [channel, channel]})
    assert duplicate.status_code == 422
    assert "row 2" in duplicate.text
    empty = api.call("PATCH", path, json={"static_channels": [{**channel, "campaign": "  "}]})
    assert empty.status_code == 422
    assert "campaign" in empty.text
    assert api.call("PATCH", path, json={"kpi_mode": "sometimes"}).status_code == 422


def test_the_published_settings_example_of_each_vendor_is_accepted_and_null_restores_defaults(
    api: Api, project: dict[str, Any], roistat: dict[str, Any]
) -> None:
    """What Swagger UI's "Try it out" sends on PATCH settings: the example of the connector's vendor."""
    document = api.call("GET", "/openapi.json").json()
    content = document["paths"]["/connectors/{connector_id}/settings"]["patch"]["requestBody"]["content"]
    examples = content["application/json"]["examples"]
    ringostat = create(api, project["id"], "ringostat", {"auth_key": RINGOSTAT_KEY}, name="Ringostat example")
    for connector in (roistat, ringostat):
        example = examples[connector["vendor"]]["value"]
        path = f"/connectors/{connector['id']}/settings"
        answer = api.call("PATCH", path, json=example)
        assert answer.status_code == 200, answer.text
        assert {name: answer.json()["settings"][name] for name in example} == example
        restored = api.call("PATCH", path, json=dict.fromkeys(example))
        assert restored.status_code == 200, restored.text
        assert restored.json()["settings"] == connector["settings"]
    api.call("DELETE", f"/connectors/{ringostat['id']}")


def test_tags_are_kept_as_typed_but_trimmed_as_the_vendors_are(api: Api, roistat: dict[str, Any]) -> None:
    tags = [" Целевой ", "квал", "КВАЛ"]
    answer = api.call("PATCH", f"/connectors/{roistat['id']}/settings", json={"kpi_mode": "tagged", "tags": tags})
    assert answer.status_code == 200
    assert answer.json()["settings"]["tags"] == ["Целевой", "квал", "КВАЛ"]
    repeated = ["квал", " квал"]
    refused = api.call("PATCH", f"/connectors/{roistat['id']}/settings", json={"kpi_mode": "tagged", "tags": repeated})
    assert refused.status_code == 422
    api.call("PATCH", f"/connectors/{roistat['id']}/settings", json={"kpi_mode": "all"})


def test_two_call_sources_in_one_project_warn_of_duplicated_kpi(api: Api, stack: dict[str, str]) -> None:
    project = api.call("POST", "/projects", json={"name": "KPI"}).json()
    first = create(api, project["id"], "roistat", {"api_key": ROISTAT_KEY}, name="Roistat")
    assert first["warnings"] == []
    second = create(
        api, project["id"], "ringostat", {"auth_key": RINGOSTAT_KEY}, name="Ringostat", vendor_account_id="11111"
    )
    assert second["warnings"] and "Roistat" in second["warnings"][0] and "Ringostat" in second["warnings"][0]
    assert api.call("GET", f"/connectors/{first['id']}").json()["warnings"]
    listed = api.call("GET", f"/projects/{project['id']}/connectors").json()
    assert all(connector["warnings"] for connector in listed)
    api.call("PATCH", f"/connectors/{first['id']}/settings", json={"streams": {"calls": False}})
    assert api.call("GET", f"/connectors/{second['id']}").json()["warnings"] == []


def test_deactivate_unschedules_and_activate_schedules(api: Api, roistat: dict[str, Any]) -> None:
    off = api.call("POST", f"/connectors/{roistat['id']}/deactivate").json()
    assert (off["active"], off["scheduled"]) == (False, False)
    status = api.call("GET", f"/connectors/{roistat['id']}/status").json()
    assert {stream["state"] for stream in status["streams"]} == {"paused"}
    on = api.call("POST", f"/connectors/{roistat['id']}/activate").json()
    assert (on["active"], on["scheduled"]) == (True, True)


def test_status_lists_every_stream(api: Api) -> None:
    # a connector of its own: the shared one's settings changes leave backfill reads running
    project = api.call("POST", "/projects", json={"name": "Статус", "timezone": "Europe/Moscow"}).json()
    fresh = create(api, project["id"], "roistat", {"api_key": ROISTAT_KEY}, name="Status")
    status = api.call("GET", f"/connectors/{fresh['id']}/status").json()
    assert [stream["stream"] for stream in status["streams"]] == ["calls", "orders", "proxyleads", "clients"]
    assert all(stream["state"] in ("idle", "paused") for stream in status["streams"])


def test_reconnect_keeps_the_connector_and_a_wrong_key_changes_nothing(api: Api, roistat: dict[str, Any]) -> None:
    wrong = api.call("POST", f"/connectors/{roistat['id']}/reconnect", json={"credentials": {"api_key": "bad-key-000"}})
    assert wrong.status_code == 422
    good = api.call("POST", f"/connectors/{roistat['id']}/reconnect", json={"credentials": {"api_key": ROISTAT_KEY}})
    assert good.status_code == 200
    assert good.json()["id"] == roistat["id"]
    assert good.json()["settings"] == api.call("GET", f"/connectors/{roistat['id']}").json()["settings"]


def test_another_accounts_connector_is_not_found(stranger: Api, roistat: dict[str, Any]) -> None:
    for method, path in (
        ("GET", f"/connectors/{roistat['id']}"),
        ("GET", f"/connectors/{roistat['id']}/status"),
        ("POST", f"/connectors/{roistat['id']}/deactivate"),
        ("DELETE", f"/connectors/{roistat['id']}"),
        ("POST", f"/connectors/{roistat['id']}/static-channels/export"),
    ):
        assert stranger.call(method, path).status_code == 404, path


# --- static channels XLSX ---------------------------------------------------------------------------

CHANNELS = [
    {"parameter": "roistat", "value": "avito", "source": "Авито", "traffic_type": "Классифайды", "campaign": "Авито"},
    {"parameter": "roistat", "value": "billboard", "source": "Оффлайн", "traffic_type": "Наружка", "campaign": "=1+1"},
]


def test_static_channels_export_to_xlsx_and_import_back(api: Api, roistat: dict[str, Any]) -> None:
    api.call("PATCH", f"/connectors/{roistat['id']}/settings", json={"static_channels": CHANNELS})
    link = api.call("POST", f"/connectors/{roistat['id']}/static-channels/export").json()
    assert link["rows"] == 2 and link["expires_at"]
    download = requests.get(link["url"], timeout=30)
    assert download.status_code == 200
    assert not any(secret in xlsx_text(download.content) for secret in SECRETS)
    sheet = openpyxl.load_workbook(io.BytesIO(download.content)).active
    assert sheet is not None
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["Параметр", "Значение", "Источник трафика", "Тип трафика", "Кампания"]
    assert rows[1:] == [[c["parameter"], c["value"], c["source"], c["traffic_type"], c["campaign"]] for c in CHANNELS]
    assert sheet.freeze_panes == "A2"

    sheet.append(["roistat", "radio", "Радио", "Оффлайн", "Весна"])
    edited = io.BytesIO()
    sheet.parent.save(edited)
    imported = api.call(
        "POST",
        f"/connectors/{roistat['id']}/static-channels/import",
        data=edited.getvalue(),
        headers={"Content-Type": XLSX},
    )
    assert imported.status_code == 200, imported.text
    assert imported.json()["channels"] == 3
    stored = api.call("GET", f"/connectors/{roistat['id']}").json()["settings"]["static_channels"]
    assert [c["value"] for c in stored] == ["avito", "billboard", "radio"]


def test_an_import_with_bad_rows_names_them_and_changes_nothing(api: Api, roistat: dict[str, Any]) -> None:
    before = api.call("GET", f"/connectors/{roistat['id']}").json()["settings"]["static_channels"]
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Параметр", "Значение", "Источник трафика", "Тип трафика", "Кампания"])
    sheet.append(["roistat", "tv", "ТВ", "Оффлайн", None])
    sheet.append(["roistat", "tv", "ТВ", "Оффлайн", "Осень"])
    sheet.append(["roistat", "tv", "ТВ", "Оффлайн", "Осень"])
    data = io.BytesIO()
    book.save(data)
    upload = api.call("POST", f"/connectors/{roistat['id']}/static-channels/upload-url").json()
    put = requests.put(upload["url"], data=data.getvalue(), headers={"Content-Type": XLSX}, timeout=30)
    assert put.status_code == 200
    answer = api.call("POST", f"/connectors/{roistat['id']}/static-channels/import", json={"upload_key": upload["key"]})
    assert answer.status_code == 422
    rows = {error["row"] for error in answer.json()["rows"]}
    assert {2, 4} <= rows
    assert api.call("GET", f"/connectors/{roistat['id']}").json()["settings"]["static_channels"] == before
    garbage = api.call(
        "POST",
        f"/connectors/{roistat['id']}/static-channels/import",
        data=b"not a spreadsheet",
        headers={"Content-Type": XLSX},
    )
    assert garbage.status_code == 422


# --- deletion ---------------------------------------------------------------------------------------


def test_a_deleted_connector_is_gone(api: Api, project: dict[str, Any]) -> None:
    connector = create(api, project["id"], "calltouch", {"access_token": DEMO_TOKEN, "site_id": DEMO_SITE_ID})
    deleted = api.call("DELETE", f"/connectors/{connector['id']}")
    assert deleted.status_code == 200
    assert deleted.json()["data_kept"] is True
    for method, path in (
        ("GET", f"/connectors/{connector['id']}"),
        ("GET", f"/connectors/{connector['id']}/status"),
        ("PATCH", f"/connectors/{connector['id']}/settings"),
        ("POST", f"/connectors/{connector['id']}/activate"),
        ("DELETE", f"/connectors/{connector['id']}"),
    ):
        kwargs = {"json": {}} if method == "PATCH" else {}
        assert api.call(method, path, **kwargs).status_code == 404, path


def test_unknown_routes_and_methods_are_4xx(api: Api) -> None:
    assert api.call("GET", "/nope").status_code == 404
    assert api.call("PUT", "/projects").status_code in (404, 405)


# --- secrets ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def _no_secret_anywhere(stack: dict[str, str]) -> Iterator[None]:
    yield
    log = Path(stack["log"]).read_text()
    for secret in SECRETS:
        assert all(secret not in answer for answer in Api.answers), "a credential reached an API answer"
        assert secret not in log.split("Ctrl-C stops everything.", 1)[-1], "a credential reached the log"


def test_amocrm_connects_through_the_oauth_code_exchange(
    api: Api, project: dict[str, Any], stack: dict[str, str]
) -> None:
    knobs = AmoCrmKnobs()
    code = requests.post(f"{stack['amocrm']}/__sim__/amocrm/code", json={}, timeout=10).json()["code"]
    credentials = {
        "subdomain": knobs.subdomain,
        "client_id": knobs.client_id,
        "client_secret": knobs.client_secret,
        "redirect_uri": knobs.redirect_uri,
        "code": code,
    }
    connector = create(api, project["id"], "amocrm", credentials, name="CRM")
    assert connector["vendor_account_name"]
    assert code not in str(connector) and knobs.client_secret not in str(connector)
    spent = check(api, project["id"], "amocrm", credentials)
    assert spent.status_code == 422  # an authorization code is single-use


# --- extraction and reports over HTTP ------------------------------------------------------------


def test_sync_now_loads_data_that_the_report_and_its_xlsx_show(api: Api, stack: dict[str, str]) -> None:
    project = api.call("POST", "/projects", json={"name": "Отчёт", "timezone": "Europe/Kyiv"}).json()
    connector = create(api, project["id"], "ringostat", {"auth_key": RINGOSTAT_KEY}, name="Calls")
    started = api.call("POST", f"/connectors/{connector['id']}/sync")
    assert started.status_code == 202
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        streams = api.call("GET", f"/connectors/{connector['id']}/status").json()["streams"]
        # a stream that finished shows `done` until the run settles every stream to `idle`
        if streams[0]["last_success_at"] and streams[0]["state"] == "idle":
            break
        time.sleep(0.5)
    assert streams[0]["state"] == "idle", streams
    assert streams[0]["rows_stored"] > 0

    today = datetime.now(ZoneInfo("Europe/Kyiv")).date()
    params = {"from": (today - timedelta(days=40)).isoformat(), "to": today.isoformat(), "group_by": "campaign"}
    report = api.call("GET", f"/projects/{project['id']}/conversions", params=params).json()
    assert report["totals"]["inquiries"] > 0
    assert sum(row["inquiries"] for row in report["rows"]) == report["totals"]["inquiries"]
    # seed 001: Ringostat's label for no campaign
    assert "Неизвестная кампания" in {row["dimensions"]["campaign"] for row in report["rows"]}

    bad = api.call("GET", f"/projects/{project['id']}/conversions", params={**params, "group_by": "colour"})
    assert bad.status_code == 422 and "group_by" in bad.text
    backwards = api.call("GET", f"/projects/{project['id']}/conversions", params={**params, "to": "2000-01-01"})
    assert backwards.status_code == 200 and backwards.json()["rows"] == []  # an empty range, not a refusal

    body = {"from": params["from"], "to": params["to"], "group_by": ["source", "campaign"]}
    link = api.call("POST", f"/projects/{project['id']}/reports/conversions", json=body).json()
    content = requests.get(link["url"], timeout=30).content
    assert not any(secret in xlsx_text(content) for secret in SECRETS)
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book["Отчёт"]
    assert [cell.value for cell in sheet[1]][:3] == ["Источник трафика", "Кампания", "Обращения"]
    assert sheet.freeze_panes == "A2"
    assert len(book["Диаграмма"]._charts) == 1
    table = list(sheet.iter_rows(min_row=2, values_only=True))
    total_row = next(n for n, row in enumerate(table) if str(row[0]).startswith("Итого"))
    assert sum(row[2] for row in table[:total_row]) == table[total_row][2] == report["totals"]["inquiries"]
