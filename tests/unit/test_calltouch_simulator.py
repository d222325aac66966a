"""CalltouchSimulator on its own: the bodies seed 004 documents, verbatim, and the calls diary of A4.

Requests go straight to `dispatch` (no socket): these tests pin the fake to the vendor's docs, not to
what the client happens to send.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from simulators.base import SimRequest, SimResponse
from simulators.calltouch import DEMO_SITE_ID, DEMO_TOKEN, CalltouchKnobs, CalltouchSimulator

ADD = "/report-service/RestAPI/api/plans-import/add"
DIARY = f"/calls-service/RestAPI/{DEMO_SITE_ID}/calls-diary/calls"
HEADERS = {"Access-Token": DEMO_TOKEN, "SiteId": DEMO_SITE_ID}


def make(**knobs: Any) -> CalltouchSimulator:
    return CalltouchSimulator(knobs=CalltouchKnobs(**{"requests_per_second": None, **knobs}))


def post(sim: CalltouchSimulator, path: str, body: Any, headers: dict[str, str] = HEADERS) -> SimResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    return sim.dispatch(SimRequest("POST", path, {}, dict(headers), raw))


def diary(sim: CalltouchSimulator, **params: str) -> SimResponse:
    query = {"clientApiId": [DEMO_TOKEN], **{name: [value] for name, value in params.items()}}
    return sim.dispatch(SimRequest("GET", DIARY, query, {}, b""))


def item(**changes: Any) -> dict[str, Any]:
    return {
        "dateFrom": "01-04-2021",
        "dateTo": "02-04-2021",
        "source": "yandex",
        "metric": {"type": "Лиды", "name": "Уникальные лиды", "value": 100},
        **changes,
    }


def violations(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {
        "meta": [],
        "data": {
            "type": "validationError",
            "apiErrorData": None,
            "validationErrorData": {"violations": [{"fieldPath": p, "message": m} for p, m in pairs]},
        },
    }


def test_success_answers_an_import_log_id_and_status_goes_in_progress_then_success() -> None:
    sim = make()
    added = post(sim, ADD, {"items": [item()]})
    import_id = added.body["data"]["importLogId"]

    polls = [post(sim, f"/report-service/RestAPI/api/plans-import/{import_id}/status", b"") for _ in range(2)]

    assert added.status == 200 and added.body == {"meta": [], "data": {"importLogId": import_id}}
    assert [poll.body["data"]["status"] for poll in polls] == ["in progress...", "success"]
    assert polls[1].body == {"meta": [], "data": {"status": "success", "items": [item()]}}


def test_bad_token_gets_the_documented_body() -> None:
    response = post(make(), ADD, {"items": [item()]}, {"Access-Token": "nope", "SiteId": DEMO_SITE_ID})

    assert (response.status, response.body) == (401, {"message": "Access token не найден"})


@pytest.mark.parametrize("body", [b"", b"{not json", b"[]", b'{"items": {}}'])
def test_unreadable_body_is_api_error_1(body: bytes) -> None:
    response = post(make(), ADD, body)

    assert response.status == 400
    assert response.body == {
        "meta": [],
        "data": {
            "type": "apiError",
            "apiErrorData": {
                "errorCode": 1,
                "errorMessage": "Синтаксическая ошибка JSON в запросе или запрос пустой",
                "errorDescription": None,
            },
            "validationErrorData": None,
        },
    }


def test_missing_field_is_named_bare() -> None:
    incomplete = item()
    del incomplete["dateTo"]

    response = post(make(), ADD, {"items": [incomplete]})

    assert response.body == {"meta": [], "data": {"message": 'В запросе не указано обязательное поле "dateTo"'}}


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([], [("items", "Эта коллекция должна содержать 1 элемент или больше.")]),
        (
            [item(source="")],
            [
                (
                    "items[0].source",
                    "Должно быть заполнено одно или несколько из полей: source, medium, campaign, content, keyword",
                )
            ],
        ),
        ([item(dateTo="31-02-2021")], [("items[0].dateTo", "Значение не является правильной датой.")]),
        ([item(dateTo="2021-04-02")], [("items[0].dateTo", "Значение не является правильной датой.")]),
        (
            [item(), item(dateFrom="03-04-2021")],
            [("items[1].dateFrom", "Значение dateFrom должно быть меньше или равно dateTo")],
        ),
        (
            [item(metric={"type": "", "name": "Выручка", "value": 1})],
            [("items[0].metric.type", "Значение не должно быть пустым.")],
        ),
        (
            [item(metric={"type": "Лидогенерация", "name": "Выручка", "value": 1})],
            [("items[0].metric.type", "Значение не совпадает с одним из допустимых.")],
        ),
        (
            [item(metric={"type": "Лиды", "name": "Выручка", "value": 1})],
            [("items[0].metric.name", "Значение не совпадает с одним из допустимых.")],
        ),
        (
            [item(metric={"type": "Пользовательские", "name": "Сессии", "value": 1})],
            [("items[0].metric.name", "Название пользовательского столбца не уникально, импорт невозможен.")],
        ),
        (
            [item(metric={"type": "Цели", "name": "Лиды", "value": 1.5})],
            [("items[0].metric.value", "Тип значения должен быть integer.")],
        ),
        (
            [item(medium="cpc") for _ in range(101)],
            [("items", "Эта коллекция должна содержать 100 элементов или меньше.")],
        ),
    ],
)
def test_validation_errors_have_the_seed_shape_and_texts(
    items: list[dict[str, Any]], expected: list[tuple[str, str]]
) -> None:
    sim = make()

    response = post(sim, ADD, {"items": items})

    assert (response.status, response.body) == (400, violations(*expected))
    assert sim.points_left(DEMO_SITE_ID) == 50_000  # refused requests cost no points


def test_every_documented_metric_is_accepted() -> None:
    sim = make()
    names = {kind: names for kind, names in sim.knobs.metric_names.items() if names}
    items = [item(metric={"type": kind, "name": name, "value": 1}) for kind in names for name in names[kind]]
    # a free name per free type: one name given as both a column and a goal is not unique (seed 004 error 6)
    free = {"Пользовательские": "Мой столбец", "Цели": "Моя цель"}
    items += [item(metric={"type": kind, "name": name, "value": 1}) for kind, name in free.items()]

    for start in range(0, len(items), 100):
        assert post(sim, ADD, {"items": items[start : start + 100]}).status == 200


def test_status_is_post_by_default_and_get_when_configured() -> None:
    by_default, with_get = make(), make(status_methods=("GET",))
    for sim in (by_default, with_get):
        post(sim, ADD, {"items": [item()]})
    get = SimRequest("GET", "/report-service/RestAPI/api/plans-import/1/status", {}, HEADERS, b"")

    assert by_default.dispatch(get).status == 405
    assert with_get.dispatch(get).status == 404  # routed; that id does not exist


def test_rate_limit_lets_five_through_a_second_and_refuses_the_rest() -> None:
    sim = CalltouchSimulator()

    statuses = [diary(sim, dateFrom="01/03/2024", dateTo="01/03/2024").status for _ in range(11)]

    assert statuses == [200] * 5 + [429] * 6


def test_diary_without_paging_is_a_bare_array_for_one_day_only() -> None:
    sim = make()

    one_day = diary(sim, dateFrom="01/03/2024", dateTo="01/03/2024")
    two_days = diary(sim, dateFrom="01/03/2024", dateTo="02/03/2024")

    assert isinstance(one_day.body, list) and one_day.body
    assert all(call["date"].startswith("01/03/2024 ") for call in one_day.body)
    assert two_days.status == 400


def test_diary_pages_carry_the_envelope_and_respect_the_caps() -> None:
    sim = make(calls_per_day=50)

    first = diary(sim, dateFrom="01/03/2024", dateTo="10/03/2024", page="1", limit="100").body
    last = diary(sim, dateFrom="01/03/2024", dateTo="10/03/2024", page=str(first["pageTotal"]), limit="100").body

    assert set(first) == {"page", "pageTotal", "pageSize", "recordsTotal", "records"}
    assert len(first["records"]) == 100
    assert (first["pageTotal"] - 1) * 100 + len(last["records"]) == first["recordsTotal"]
    assert diary(sim, dateFrom="01/03/2024", dateTo="01/03/2024", page="1", limit="1001").status == 400
    assert diary(sim, dateFrom="01/01/2024", dateTo="31/03/2024", page="1", limit="10").status == 400  # 91 days


def test_diary_is_deterministic_per_seed_and_scales() -> None:
    params = {"dateFrom": "01/01/2024", "dateTo": "30/03/2024", "page": "150", "limit": "1000"}
    big = make(calls_per_day=5000)
    page = diary(big, **params).body

    assert page["recordsTotal"] > 300_000 and len(page["records"]) == 1000
    assert diary(make(calls_per_day=5000), **params).body == page
    assert diary(CalltouchSimulator(seed=1, knobs=big.knobs), **params).body != page


REQUESTS = "/calls-service/RestAPI/requests"


def journal(sim: CalltouchSimulator, **params: str) -> SimResponse:
    query = {
        "clientApiId": [DEMO_TOKEN],
        "siteId": [DEMO_SITE_ID],
        **{name: [value] for name, value in params.items()},
    }
    return sim.dispatch(SimRequest("GET", REQUESTS, query, {}, b""))


def test_requests_take_us_ordered_dates_and_answer_a_bare_array_in_milliseconds() -> None:
    sim = make(nasty_rate=0.0)

    answer = journal(sim, dateFrom="03/13/2024", dateTo="03/13/2024", withRequestTags="true")

    assert answer.status == 200 and isinstance(answer.body, list) and answer.body
    assert all(lead["dateStr"].startswith("13/03/2024 ") for lead in answer.body)
    assert all(isinstance(lead["date"], int) and lead["date"] > 10**12 for lead in answer.body)
    assert all("RequestTags" in lead for lead in answer.body)
    assert journal(sim, dateFrom="13/03/2024", dateTo="13/03/2024").status == 400  # dd/mm is refused
    assert "RequestTags" not in journal(sim, dateFrom="03/13/2024", dateTo="03/13/2024").body[0]


def test_requests_need_a_token_with_rights_to_the_site() -> None:
    sim = make()
    query = {"clientApiId": ["nope"], "siteId": [DEMO_SITE_ID], "dateFrom": ["03/13/2024"], "dateTo": ["03/13/2024"]}

    assert sim.dispatch(SimRequest("GET", REQUESTS, query, {}, b"")).status == 401
    assert (
        sim.dispatch(
            SimRequest("GET", REQUESTS, {**query, "clientApiId": [DEMO_TOKEN], "siteId": ["9"]}, {}, b"")
        ).status
        == 403
    )


def test_the_truth_counts_every_generated_call_and_request_once() -> None:
    sim = make(calls_per_day=30, requests_per_day=10)
    calls = diary(sim, dateFrom="01/03/2024", dateTo="02/03/2024", page="1", limit="1000").body["recordsTotal"]
    leads = len(journal(sim, dateFrom="03/01/2024", dateTo="03/02/2024").body)

    truth = sim.inquiries_truth(
        DEMO_SITE_ID, date(2024, 3, 1), date(2024, 3, 2), project_zone="Europe/Moscow", undefined_campaign="?"
    )

    assert sum(n for key, n in truth.items() if key[1] == "call") == calls
    assert sum(n for key, n in truth.items() if key[1] == "form") == leads
    assert {key[0] for key in truth} == {"2024-03-01", "2024-03-02"}
    over_http = sim.dispatch(
        SimRequest("GET", "/__sim__/calltouch/truth", {"from": ["2024-03-01"], "to": ["2024-03-02"]}, {}, b"")
    )
    assert sum(row["inquiries"] for row in over_http.body["inquiries"]) == calls + leads
