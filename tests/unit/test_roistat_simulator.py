"""The Roistat simulator's own behaviour (roistat-ringostat.md Part A), over raw HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from simulators.roistat import (
    DEFAULT_API_KEY,
    RoistatData,
    RoistatKnobs,
    RoistatScenario,
    RoistatSimulator,
)

PROJECT = 10001
CALLS = "/project/calltracking/call/list"
ORDERS = "/project/integration/order/list"
# Moscow midnight of 2024-03-03 and 2024-03-04, written the way the Roistat doc does.
DAY = [["date", ">=", "2024-03-02T21:00:00+0000"], ["date", "<", "2024-03-03T21:00:00+0000"]]


class FakeClock:
    def __init__(self) -> None:
        self.now = 5_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
def sim(clock: FakeClock) -> Iterator[RoistatSimulator]:
    simulator = RoistatSimulator(clock=clock)
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture(autouse=True)
def fresh_state(sim: RoistatSimulator, clock: FakeClock) -> None:
    clock.now += 7200
    sim.reset_faults()
    sim.knobs = RoistatKnobs()


def call(
    sim: RoistatSimulator,
    path: str,
    body: Any = None,
    *,
    method: str = "POST",
    params: dict[str, Any] | None = None,
    http_codes: bool = False,
    key: str | None = DEFAULT_API_KEY,
    raw: bytes | None = None,
) -> requests.Response:
    headers = {"Use-Http-Code": "1"} if http_codes else {}
    if key:
        headers["Api-key"] = key
    return requests.request(
        method,
        sim.api_url + path,
        params={"project": PROJECT, **(params or {})},
        json=body,
        data=raw,
        headers=headers,
        timeout=10,
    )


def error_of(response: requests.Response) -> str:
    body = response.json()
    assert body["status"] == "error"
    assert body["description"]
    return str(body["error"])


# --- data ---------------------------------------------------------------------------------------


def test_data_is_deterministic_from_the_seed() -> None:
    first, again = RoistatData(RoistatScenario(seed=7)), RoistatData(RoistatScenario(seed=7))
    other = RoistatData(RoistatScenario(seed=8))

    rows = [row.data for row in first.day(PROJECT, 3).calls]
    assert rows == [row.data for row in again.day(PROJECT, 3).calls]
    assert rows != [row.data for row in other.day(PROJECT, 3).calls]
    assert first.truth(PROJECT) == again.truth(PROJECT)


def test_scale_multiplies_the_daily_counts() -> None:
    data = RoistatData(RoistatScenario(scale=10))

    assert len(data.day(PROJECT, 0).calls) == 400
    assert sum(1 for lead in data.day(PROJECT, 0).leads if not lead.artificial) == 80


def test_truth_matches_the_rows() -> None:
    data = RoistatData(RoistatScenario())
    rows = {row.data["id"]: row.data for index in range(14) for row in data.day(PROJECT, index).calls}

    kinds = set()
    for fact in data.truth(PROJECT):
        row = rows[fact.call_id]
        kinds.add(fact.kind)
        assert row["caller"] == fact.caller
        assert row["tags"] == list(fact.tags)
        if fact.kind == "static":
            assert row["static_source"]["system_name"] == fact.channel
            assert row["visit_id"] is None
        else:
            assert row["static_source"] is None
            assert (row["visit_id"] is None) == (fact.kind == "unattributed")
    assert kinds == {"static", "dynamic", "unattributed"}


@pytest.mark.parametrize(("shape", "untagged", "tag_type"), [("null_if_empty", None, str), ("objects", [], dict)])
def test_tags_shape_knob(shape: str, untagged: Any, tag_type: type) -> None:
    calls = [row.data for row in RoistatData(RoistatScenario(tags_shape=shape)).day(PROJECT, 0).calls]

    assert any(call["tags"] == untagged for call in calls)
    tags = [tag for call in calls for tag in call["tags"] or []]
    assert tags
    assert all(isinstance(tag, tag_type) for tag in tags)


def test_not_counted_status_can_come_without_a_type() -> None:
    data = RoistatData(RoistatScenario(not_counted_status_shape="absent"))

    shown = [data.status_object(status) for status in data.scenario.statuses]

    assert [status for status in shown if "type" not in status] == [{"id": "5", "name": "Спам / дубль"}]


# --- envelope and auth (A1, A2) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_kwargs", "code", "status"),
    [
        ({"key": "rs-not-a-key"}, "authentication_failed", 401),
        ({"key": None}, "authentication_failed", 401),
        ({"params": {"project": 99999}}, "access_denied", 403),
        ({"params": {"project": ""}}, "incorrect_request", 400),
        ({"raw": b"{not json"}, "incorrect_request", 400),
        ({"body": [1, 2]}, "incorrect_request", 400),
        ({"body": {"filters": [["nope", "=", 1]]}}, "request_data_validation_error", 400),
        ({"body": {"filters": [["date", "~", "x"]]}}, "request_data_validation_error", 400),
        ({"body": {"filters": [["date", ">", "yesterday"]]}}, "request_data_validation_error", 400),
        ({"body": {"limit": -1}}, "request_data_validation_error", 400),
    ],
)
def test_errors_are_http_200_unless_asked(
    sim: RoistatSimulator, request_kwargs: dict[str, Any], code: str, status: int
) -> None:
    plain = call(sim, CALLS, **request_kwargs)
    coded = call(sim, CALLS, http_codes=True, **request_kwargs)

    assert plain.status_code == 200
    assert error_of(plain) == code
    assert coded.status_code == status
    assert error_of(coded) == code


def test_unknown_path_and_wrong_method_are_resource_not_found(sim: RoistatSimulator) -> None:
    assert error_of(call(sim, "/project/integration/client/list")) == "resource_not_found"
    wrong_method = call(sim, "/project/clients", method="GET", http_codes=True)
    assert wrong_method.status_code == 404
    assert error_of(wrong_method) == "resource_not_found"


def test_key_in_query_and_revoked_key(sim: RoistatSimulator) -> None:
    sim.api_keys["rs-revocable-key"] = {PROJECT}
    url = sim.api_url + "/user/projects"

    assert requests.get(url, params={"key": "rs-revocable-key"}, timeout=10).json()["status"] == "success"
    sim.revoke_key("rs-revocable-key")
    assert error_of(requests.get(url, params={"key": "rs-revocable-key"}, timeout=10)) == "authentication_failed"


def test_account_state_and_options(sim: RoistatSimulator) -> None:
    sim.knobs.disabled_options = {PROJECT: {"clients", "calltracking"}}
    sim.knobs.crm_unreachable = {PROJECT}

    clients = call(sim, "/project/clients", {}, http_codes=True)
    assert (clients.status_code, error_of(clients)) == (402, "option_not_enabled")
    assert clients.json()["details"] == {"option": "clients"}
    assert error_of(call(sim, CALLS, {})) == "option_not_enabled"
    assert error_of(call(sim, ORDERS, {})) == "authorization_failed"

    sim.knobs.blocked_projects = {PROJECT: "project_frozen"}
    assert error_of(call(sim, "/project/integration/status/list", {})) == "project_frozen"


# --- list grammar (A4, A5) ----------------------------------------------------------------------


def total(response: requests.Response) -> int:
    body = response.json()
    assert body["status"] == "success", body
    return int(body["total"])


def test_one_condition_and_is_the_internal_error_bug(sim: RoistatSimulator) -> None:
    single = {"filters": {"and": [DAY[0]]}}

    coded = call(sim, CALLS, single, http_codes=True)
    assert (coded.status_code, error_of(coded)) == (500, "internal_error")
    assert total(call(sim, CALLS, {"filters": [DAY[0]]})) > 0
    assert total(call(sim, CALLS, {"filters": {"and": DAY}})) == 40

    sim.knobs.single_condition_and_bug = False
    assert total(call(sim, CALLS, single)) == total(call(sim, CALLS, {"filters": [DAY[0]]}))


def test_or_trees_nest(sim: RoistatSimulator) -> None:
    ids = [row["id"] for row in call(sim, CALLS, {"filters": DAY, "limit": 3}).json()["data"]]

    either = {"or": [["id", "=", ids[0]], ["id", "=", ids[2]]]}
    body = call(sim, CALLS, {"filters": {"and": [*DAY, either]}}).json()

    assert [row["id"] for row in body["data"]] == [ids[0], ids[2]]


@pytest.mark.parametrize(
    "bounds",
    [
        ("2024-03-03T00:00:00+0300", "2024-03-04T00:00:00+0300"),
        ("2024-03-03T00:00:00+03:00", "2024-03-04T00:00:00+03:00"),
        ("2024-03-02T21:00:00Z", "2024-03-03T21:00:00Z"),
        ("2024-03-02 21:00:00", "2024-03-03 21:00:00"),  # naive is read as UTC
    ],
)
def test_every_offset_spelling_means_the_same_window(sim: RoistatSimulator, bounds: tuple[str, str]) -> None:
    filters = [["date", ">=", bounds[0]], ["date", "<", bounds[1]]]

    assert call(sim, CALLS, {"filters": filters}).json()["data"] == call(sim, CALLS, {"filters": DAY}).json()["data"]


def test_unknown_body_keys_are_ignored(sim: RoistatSimulator) -> None:
    ignored = {"period": {"from": "2024-03-03", "to": "2024-03-04"}, "page": 3, "skip": 10}

    assert total(call(sim, CALLS, ignored)) == total(call(sim, CALLS, {})) == 14 * 40


def test_limit_is_clamped_silently_and_total_counts_everything(sim: RoistatSimulator) -> None:
    sim.knobs.max_limit = 100

    body = call(sim, CALLS, {"limit": 5000, "offset": 500}).json()

    assert body["status"] == "success"
    assert len(body["data"]) == 60
    assert body["total"] == 560
    assert len(call(sim, CALLS, {}).json()["data"]) == 100


def test_sort_and_paging(sim: RoistatSimulator) -> None:
    newest_first = call(sim, CALLS, {"filters": DAY, "sort": ["date", "desc"]}).json()["data"]
    pages = [call(sim, CALLS, {"filters": DAY, "sort": ["date"], "limit": 15, "offset": o}).json() for o in (0, 15, 30)]

    assert [page["total"] for page in pages] == [40, 40, 40]
    assert [row["id"] for page in pages for row in page["data"]] == [row["id"] for row in reversed(newest_first)]


def test_page_shift_repeats_rows(sim: RoistatSimulator) -> None:
    sim.knobs.page_shift = 2
    first = call(sim, CALLS, {"filters": DAY, "limit": 10}).json()["data"]
    second = call(sim, CALLS, {"filters": DAY, "limit": 10, "offset": 10}).json()["data"]

    assert [row["id"] for row in first[-2:]] == [row["id"] for row in second[:2]]


def test_extend_gives_objects_or_null(sim: RoistatSimulator) -> None:
    plain = call(sim, CALLS, {"filters": DAY}).json()["data"]
    extended = call(sim, CALLS, {"filters": DAY, "extend": ["visit", "order"]}).json()["data"]

    assert all(row["visit"] is None and row["order"] is None for row in plain)
    with_visit = [row for row in extended if row["visit_id"]]
    assert with_visit
    assert all(row["visit"]["id"] == row["visit_id"] for row in with_visit)
    with_order = [row for row in extended if row["order_id"]]
    assert with_order
    assert all(isinstance(row["order"]["client_id"], int) for row in with_order)


def test_list_methods_answer_get_with_query_arguments(sim: RoistatSimulator) -> None:
    params = {"filters": json.dumps(DAY), "limit": "5"}
    body = call(sim, CALLS, method="GET", params=params).json()

    assert body["total"] == 40
    assert len(body["data"]) == 5


def test_order_status_group_filter(sim: RoistatSimulator) -> None:
    paid = call(sim, ORDERS, {"filters": [["status", "=", "1"]]}).json()["data"]

    assert paid
    assert {row["status"]["type"] for row in paid} == {"paid"}


def test_statuses_hold_the_not_counted_one(sim: RoistatSimulator) -> None:
    statuses = call(sim, "/project/integration/status/list", {}).json()["data"]

    assert {status["type"] for status in statuses} == {"progress", "paid", "canceled", None}


def test_static_scripts(sim: RoistatSimulator) -> None:
    scripts = call(sim, "/project/calltracking/script/list", {}).json()["data"]

    static = [
        script["options"]["static_source"] for script in scripts if script["options"]["calltracking_type"] == "static"
    ]
    assert static == [channel.value for channel in sim.scenario.static_channels]


# --- proxy leads and clients (A6.5, A6.6) -------------------------------------------------------


def test_proxy_leads_period(sim: RoistatSimulator) -> None:
    body = call(sim, "/project/proxy-leads", method="GET", params={"period": "2024-03-03-2024-03-04"}).json()
    genuine = [lead for lead in body["ProxyLeads"] if lead["title"] != "Сделка из CRM"]
    assert len(genuine) == 16  # 8 forms and chats a day
    assert len(body["ProxyLeads"]) > len(genuine)  # and the leads Roistat made for deals without an inquiry
    assert "total" not in body

    for period in ("2024-03-03", "2024-03-04-2024-03-03", "2024-02-30-2024-03-01"):
        refused = call(sim, "/project/proxy-leads", method="GET", params={"period": period}, http_codes=True)
        assert (refused.status_code, error_of(refused)) == (400, "incorrect_request")
        assert refused.json()["description"] == "Argument period is not a valid date interval"


def test_proxy_period_time_zone_knob(sim: RoistatSimulator) -> None:
    params = {"period": "2024-03-03-2024-03-03"}
    moscow = call(sim, "/project/proxy-leads", method="GET", params=params).json()["ProxyLeads"]
    sim.knobs.proxy_period_timezone = "utc"
    utc = call(sim, "/project/proxy-leads", method="GET", params=params).json()["ProxyLeads"]

    assert all(lead["creation_date"].startswith("2024-03-03") for lead in utc)
    assert [lead["id"] for lead in moscow] != [lead["id"] for lead in utc]


def test_single_proxy_lead_envelope_knob(sim: RoistatSimulator) -> None:
    lead_id = call(sim, "/project/proxy-leads", method="GET", params={"period": "2024-03-03-2024-03-03"}).json()[
        "ProxyLeads"
    ][0]["id"]

    single = call(sim, f"/project/proxy-leads/{lead_id}", method="GET").json()
    sim.knobs.proxy_lead_key = "ProxyLeads"
    listed = call(sim, f"/project/proxy-leads/{lead_id}", method="GET").json()

    assert single["ProxyLead"]["id"] == lead_id
    assert listed["ProxyLeads"] == [single["ProxyLead"]]
    assert error_of(call(sim, "/project/proxy-leads/123", method="GET")) == "resource_not_found"


def test_clients_filter_and_page(sim: RoistatSimulator) -> None:
    body = call(sim, "/project/clients", {"filters": [["phone", "=", "79160010007"]]}).json()
    page = call(sim, "/project/clients", {"limit": 10, "offset": 55}).json()

    assert [client["id"] for client in body["clients"]] == [7]
    assert page["total"] == 60
    assert [client["id"] for client in page["clients"]] == [56, 57, 58, 59, 60]


# --- rate limits and faults (A3) ----------------------------------------------------------------


def hammer(sim: RoistatSimulator, path: str, body: dict[str, Any], times: int) -> list[str]:
    return [call(sim, path, body).json()["status"] for _ in range(times)]


@pytest.mark.parametrize(
    ("body", "allowed"),
    [
        ({"limit": 10}, 20),
        ({"limit": 100, "extend": ["visit"]}, 10),
        ({"limit": 101, "extend": ["visit"]}, 5),
        ({"limit": 1001, "extend": ["visit"]}, 1),
    ],
)
def test_order_list_limits(sim: RoistatSimulator, clock: FakeClock, body: dict[str, Any], allowed: int) -> None:
    sim.knobs.project_per_second = None
    statuses = hammer(sim, ORDERS, body, allowed + 1)

    assert statuses == ["success"] * allowed + ["error"]
    clock.now += 61
    assert hammer(sim, ORDERS, body, 1) == ["success"]


def test_project_limit_per_second_and_retry_after_knob(sim: RoistatSimulator, clock: FakeClock) -> None:
    assert hammer(sim, CALLS, {"limit": 1}, 10) == ["success"] * 10
    refused = call(sim, CALLS, {"limit": 1}, http_codes=True)
    assert (refused.status_code, error_of(refused)) == (429, "request_limit_error")
    assert "Retry-After" not in refused.headers

    sim.knobs.limit_retry_after = True
    assert call(sim, CALLS, {"limit": 1}).headers["Retry-After"] == "1"
    clock.now += 1
    assert hammer(sim, CALLS, {"limit": 1}, 1) == ["success"]


@pytest.mark.parametrize(
    ("fault", "code", "status"), [("429", "request_limit_error", 429), ("500", "internal_error", 500)]
)
def test_faults_are_dressed_the_roistat_way(sim: RoistatSimulator, fault: str, code: str, status: int) -> None:
    sim.inject(fault)
    plain = call(sim, CALLS, {})
    sim.inject(fault)
    coded = call(sim, CALLS, {}, http_codes=True)

    assert (plain.status_code, error_of(plain)) == (200, code)
    assert (coded.status_code, error_of(coded)) == (status, code)


def test_truth_window_is_half_open() -> None:
    data = RoistatData(RoistatScenario())
    facts = data.truth(PROJECT)
    cut = facts[100].date

    assert data.truth(PROJECT, end=cut) == [fact for fact in facts if fact.date < cut]
    assert data.truth(PROJECT, start=cut) == [fact for fact in facts if fact.date >= cut]
    assert all(fact.date.tzinfo == UTC for fact in facts)
    assert facts[-1].date < datetime(2024, 3, 15, tzinfo=UTC) - timedelta(hours=3)


def test_devstack_contract_seed_and_demo_credentials() -> None:
    simulator = RoistatSimulator(RoistatScenario(days=3), seed=7)

    assert (simulator.scenario.seed, simulator.scenario.days) == (7, 3)
    assert DEFAULT_API_KEY in simulator.demo_credentials()
