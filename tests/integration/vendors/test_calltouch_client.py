"""CalltouchClient against CalltouchSimulator over real HTTP on 127.0.0.1.

The plans-import response and status shapes come from seed 004; the [GAP] parts (error HTTP status,
429 and points answers) are simulator knobs, and these tests pin the client to work across them.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from leadhub.vendors import errors
from leadhub.vendors.calltouch import (
    DEFAULT_POLICY,
    CalltouchClient,
    ImportStillRunning,
    PlanItem,
    PlanMetric,
    PlanValidationError,
)
from leadhub.vendors.transport import RetryPolicy, VendorPolicy
from simulators.base import SimRequest, SimResponse
from simulators.calltouch import CalltouchKnobs, CalltouchSimulator

SITE_ID = "52011"
FOREIGN_SITE_ID = "77777"

# The request body documented in seed 004 (also fixtures/calltouch/calltouch_docs_plans_import_add_request.json).
DOC_ITEMS: list[dict[str, Any]] = [
    {
        "dateFrom": "01-04-2021",
        "dateTo": "02-04-2021",
        "source": "yandex",
        "medium": "cpc",
        "campaign": "april",
        "content": "sale",
        "keyword": "распродажа",
        "metric": {"type": "Лиды", "name": "Уникальные лиды", "value": 100},
    },
    {
        "dateFrom": "01-04-2021",
        "dateTo": "20-04-2021",
        "source": "google",
        "medium": "cpc",
        "metric": {"type": "Сделки и ROI", "name": "Выручка", "value": 23423},
    },
    {
        "dateFrom": "01-04-2021",
        "dateTo": "20-04-2021",
        "medium": "cpc",
        "metric": {"type": "Пользовательские", "name": "Название столбца", "value": 22},
    },
]

FAST_POLICY = VendorPolicy(vendor="calltouch", rates=(), read_timeout=5.0)


@dataclass
class Sleeps:
    delays: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@dataclass
class World:
    token: str
    sleeps: Sleeps
    start: Callable[..., CalltouchSimulator]
    client: Callable[..., CalltouchClient]


@pytest.fixture
def world() -> Iterator[World]:
    # A fresh token per test: the client's rate limiter is shared per credential set.
    world_token = f"ct-{secrets.token_hex(8)}"
    sleeps = Sleeps()
    started: list[CalltouchSimulator] = []
    current: dict[str, CalltouchSimulator] = {}

    def start(
        simulator: type[CalltouchSimulator] = CalltouchSimulator,
        clock: Callable[[], float] = time.time,
        legacy_tokens: dict[str, list[str]] | None = None,
        **knobs: Any,
    ) -> CalltouchSimulator:
        tokens = {world_token: [SITE_ID], "ct-other-token": [FOREIGN_SITE_ID]}
        sim = simulator(seed=7, knobs=CalltouchKnobs(**knobs), tokens=tokens, legacy_tokens=legacy_tokens, clock=clock)
        sim.start()
        started.append(sim)
        current["sim"] = sim
        return sim

    def client(policy: VendorPolicy | None = FAST_POLICY, token: str | None = None, **options: Any) -> CalltouchClient:
        return CalltouchClient(
            token or world_token,
            options.pop("site_id", SITE_ID),
            base_url=current["sim"].base_url,
            sleep=sleeps,
            policy=policy,
            **options,
        )

    yield World(world_token, sleeps, start, client)
    for sim in started:
        # Shutting a server down waits out its 0.5 s poll; nothing needs this one to be gone yet.
        threading.Thread(target=sim.stop, daemon=True).start()


def plan(index: int, **changes: Any) -> dict[str, Any]:
    return {
        "dateFrom": "01-04-2021",
        "dateTo": "30-04-2021",
        "source": f"source-{index}",
        "metric": {"type": "Лиды", "name": "Все лиды", "value": index},
        **changes,
    }


# --- success -----------------------------------------------------------------------------------------
def test_doc_example_imports_and_wait_polls_until_success(world: World) -> None:
    sim = world.start(import_progress_polls=2)
    client = world.client()

    [batch] = client.add_plans(DOC_ITEMS)
    status = client.wait_for_import(batch.import_id, poll_interval=3.0, timeout=60.0)

    assert batch.accepted == 3 and batch.first_index == 0
    assert status.succeeded and status.status == "success"
    assert status.items == DOC_ITEMS
    assert world.sleeps.delays == [3.0, 3.0]
    assert sim.points_left(SITE_ID) == 50_000 - 10 - 3 * 1


def test_plan_item_models_are_sent_with_vendor_names_and_dashed_dates(world: World) -> None:
    world.start()
    client = world.client()
    item = PlanItem(
        date_from=date(2024, 3, 1),
        date_to=date(2024, 3, 31),
        medium="cpc",
        metric=PlanMetric(type="Площадки", name="Бюджет", value=150_000),
    )

    [batch] = client.add_plans([item])
    status = client.import_status(batch.import_id)

    assert status.status == "in progress..." and not status.finished
    assert status.items == [
        {
            "dateFrom": "01-03-2024",
            "dateTo": "31-03-2024",
            "medium": "cpc",
            "metric": {"type": "Площадки", "name": "Бюджет", "value": 150_000},
        }
    ]


def test_failed_import_reports_per_row_status(world: World) -> None:
    world.start(import_outcomes=["error"], per_item_status=True, import_progress_polls=0)
    client = world.client()

    [batch] = client.add_plans(DOC_ITEMS)
    status = client.wait_for_import(batch.import_id, poll_interval=1.0, timeout=10.0)

    assert status.finished and not status.succeeded
    row_statuses = {row["status"] for row in status.items}
    assert "error" in row_statuses and row_statuses <= {"error", "success"}


def test_wait_for_import_gives_up_after_timeout(world: World) -> None:
    world.start(import_progress_polls=100, requests_per_second=None)
    client = world.client()
    [batch] = client.add_plans(DOC_ITEMS)

    with pytest.raises(ImportStillRunning) as caught:
        client.wait_for_import(batch.import_id, poll_interval=5.0, timeout=20.0)

    assert world.sleeps.delays == [5.0] * 4
    assert caught.value.retryable


# --- paging and caps ---------------------------------------------------------------------------------
def test_add_plans_sends_at_most_100_items_a_request(world: World) -> None:
    sim = world.start()
    client = world.client()

    batches = client.add_plans([plan(i) for i in range(250)])

    assert [(b.first_index, b.accepted) for b in batches] == [(0, 100), (100, 100), (200, 50)]
    assert len({b.import_id for b in batches}) == 3
    assert sim.request_counts["/report-service/RestAPI/api/plans-import/add"] == 3


def test_iter_calls_pages_through_the_envelope(world: World) -> None:
    sim = world.start(calls_per_day=30, requests_per_second=None)
    client = world.client(calls_page_size=25)

    calls = list(client.iter_calls(date(2024, 3, 1), date(2024, 3, 3)))

    first_page = sim_page(sim, world.token, "01/03/2024", "03/03/2024")
    assert len(calls) == first_page["recordsTotal"] > 50
    assert len({call["callId"] for call in calls}) == len(calls)
    pages_read = sim.request_counts[f"/calls-service/RestAPI/{SITE_ID}/calls-diary/calls"] - 1  # minus sim_page
    assert pages_read == first_page["pageTotal"] >= 3


def test_iter_calls_splits_ranges_longer_than_90_days(world: World) -> None:
    sim = world.start(calls_per_day=2)
    client = world.client()

    calls = list(client.iter_calls(date(2024, 1, 1), date(2024, 4, 9)))  # 100 days

    days = {call["date"].split(" ")[0] for call in calls}
    assert "01/01/2024" in days and "09/04/2024" in days
    assert sim.request_counts[f"/calls-service/RestAPI/{SITE_ID}/calls-diary/calls"] == 2


def test_default_policy_paces_to_five_a_second_so_the_server_never_refuses(world: World) -> None:
    sim = world.start(calls_per_day=60)
    client = world.client(policy=DEFAULT_POLICY, calls_page_size=5)

    list(client.iter_calls(date(2024, 3, 1), date(2024, 3, 1)))

    assert sim.request_counts[f"/calls-service/RestAPI/{SITE_ID}/calls-diary/calls"] > 5
    assert sim.rate_limited == 0
    assert world.sleeps.delays == []  # no 429 was retried


# --- documented errors ---------------------------------------------------------------------------------
def test_validation_errors_carry_the_callers_indexes_across_chunks(world: World) -> None:
    world.start()
    client = world.client()
    items = [plan(i) for i in range(150)]
    items[120] = plan(120, metric={"type": "Лидогенерация", "name": "Все лиды", "value": 1})
    items[130] = plan(130, dateFrom="05-04-2021", dateTo="01-04-2021")
    items[140] = plan(140, dateTo="2021-04-30", source="")

    with pytest.raises(PlanValidationError) as caught:
        client.add_plans(items)

    assert caught.value.violations == [
        {"fieldPath": "items[120].metric.type", "message": "Значение не совпадает с одним из допустимых."},
        {"fieldPath": "items[130].dateFrom", "message": "Значение dateFrom должно быть меньше или равно dateTo"},
        {
            "fieldPath": "items[140].source",
            "message": "Должно быть заполнено одно или несколько из полей: source, medium, campaign, content, keyword",
        },
        {"fieldPath": "items[140].dateTo", "message": "Значение не является правильной датой."},
    ]
    assert [b.accepted for b in caught.value.accepted_batches] == [100]
    assert isinstance(caught.value, errors.RequestRejected)
    assert caught.value.to_dict()["violations"] == caught.value.violations


def test_missing_field_is_a_validation_error_naming_the_field(world: World) -> None:
    world.start()
    client = world.client()
    item = plan(0)
    del item["dateTo"]

    with pytest.raises(PlanValidationError) as caught:
        client.add_plans([item])

    assert caught.value.violations == [
        {"fieldPath": "dateTo", "message": 'В запросе не указано обязательное поле "dateTo"'}
    ]


@pytest.mark.parametrize("error_status", [200, 422])
def test_validation_errors_are_read_from_the_body_whatever_the_status(world: World, error_status: int) -> None:
    world.start(plans_error_status=error_status)
    client = world.client()

    with pytest.raises(PlanValidationError) as caught:
        client.add_plans([plan(0, metric={"type": "", "name": "Все лиды", "value": 1})])

    assert caught.value.violations == [
        {"fieldPath": "items[0].metric.type", "message": "Значение не должно быть пустым."}
    ]
    assert caught.value.status == error_status


def test_custom_column_clashing_with_a_metric_name_is_rejected(world: World) -> None:
    world.start()
    client = world.client()

    with pytest.raises(PlanValidationError) as caught:
        client.add_plans([plan(0, metric={"type": "Пользовательские", "name": "Выручка", "value": 1})])

    assert caught.value.violations == [
        {
            "fieldPath": "items[0].metric.name",
            "message": "Название пользовательского столбца не уникально, импорт невозможен.",
        }
    ]


def test_unknown_import_id_is_a_rejected_request(world: World) -> None:
    world.start()
    client = world.client()

    with pytest.raises(errors.RequestRejected) as caught:
        client.import_status(1)

    assert caught.value.status == 404 and not isinstance(caught.value, PlanValidationError)


def test_bad_token_is_invalid_credentials_on_both_auth_styles(world: World) -> None:
    world.start()
    client = world.client(token="ct-wrong-token-123")

    with pytest.raises(errors.InvalidCredentials) as on_headers:
        client.add_plans(DOC_ITEMS)
    with pytest.raises(errors.InvalidCredentials) as on_query:
        client.verify_site()

    assert on_headers.value.status == on_query.value.status == 401
    assert "Access token не найден" in str(on_headers.value)


def test_token_without_rights_to_the_site_is_access_denied(world: World) -> None:
    world.start()
    client = world.client(site_id=FOREIGN_SITE_ID)

    with pytest.raises(errors.AccessDenied):
        client.verify_site()
    with pytest.raises(errors.AccessDenied):
        client.add_plans(DOC_ITEMS)


def test_verify_site_succeeds_and_spends_one_point(world: World) -> None:
    sim = world.start()
    client = world.client()

    client.verify_site()

    assert sim.points_left(SITE_ID) == 50_000 - 1


def test_a_separate_calls_api_token_is_used_for_the_calls_diary(world: World) -> None:
    world.start(legacy_tokens={"ct-legacy-token": [SITE_ID]})
    client = world.client(calls_api_token="ct-legacy-token")

    client.verify_site()
    client.add_plans(DOC_ITEMS)

    with pytest.raises(errors.InvalidCredentials):
        world.client().verify_site()  # the header token is not a clientApiId here


# --- limits ----------------------------------------------------------------------------------------------
def test_429_with_retry_after_waits_that_long(world: World) -> None:
    sim = world.start()
    sim.set_faults(retry_after=2)
    sim.inject("429")
    client = world.client()

    client.verify_site()

    assert world.sleeps.delays == [2.0]


def test_429_without_retry_after_backs_off_exponentially(world: World) -> None:
    sim = world.start()
    sim.inject("429-no-retry-after", "429-no-retry-after", "429-no-retry-after")
    client = world.client()

    client.verify_site()

    first, second, third = world.sleeps.delays
    assert 0.25 <= first <= 0.5 and 0.5 <= second <= 1.0 and 1.0 <= third <= 2.0


def test_persistent_429_exhausts_the_retries(world: World) -> None:
    sim = world.start()
    sim.inject(*["429"] * 5)
    client = world.client()

    with pytest.raises(errors.RateLimited) as caught:
        client.verify_site()

    assert caught.value.retry_after == 1.0
    assert len(world.sleeps.delays) == 4


def test_server_refuses_the_sixth_request_in_a_second(world: World) -> None:
    sim = world.start()
    client = world.client(policy=FAST_POLICY)  # no client-side pacing: the server's limit shows
    for _ in range(5):
        client.verify_site()

    with pytest.raises(errors.RateLimited):
        client.verify_site()

    assert sim.rate_limited == 5  # every attempt of the sixth call was refused
    assert world.sleeps.delays == [1.0] * 4


def test_exhausted_points_budget_is_raised_without_sleeping_until_midnight(world: World) -> None:
    midnight_in = 82_000  # the simulator's clock: 1h13m20s past midnight at UTC+3
    sim = world.start(daily_points=12, clock=lambda: 1_700_000_000.0)  # add costs 10, a diary page 1
    client = world.client()
    client.verify_site()
    with pytest.raises(PlanValidationError):
        client.add_plans([plan(0, source="")])  # refused, so free
    client.add_plans([plan(0)])
    assert sim.points_left(SITE_ID) == 1
    client.verify_site()

    with pytest.raises(errors.RateLimited) as caught:
        client.verify_site()

    assert caught.value.retry_after == midnight_in
    assert world.sleeps.delays == []  # a wait until midnight is not slept through


# --- transient failures and garbage ----------------------------------------------------------------------
def test_500_on_a_read_is_retried(world: World) -> None:
    sim = world.start()
    sim.inject("500", "503")
    client = world.client()

    client.verify_site()

    assert len(world.sleeps.delays) == 2


def test_500_on_a_plan_import_is_not_repeated_since_it_may_have_been_applied(world: World) -> None:
    sim = world.start()
    sim.inject("500")
    client = world.client()

    with pytest.raises(errors.ServerError):
        client.add_plans(DOC_ITEMS)

    assert world.sleeps.delays == []


def test_timeout_is_retried_then_raised_when_it_persists(world: World) -> None:
    sim = world.start()
    sim.set_faults(timeout_seconds=1.0)
    policy = VendorPolicy(vendor="calltouch", read_timeout=0.2, retry=RetryPolicy(max_attempts=3))
    client = world.client(policy=policy)

    sim.inject("timeout")
    client.verify_site()
    assert len(world.sleeps.delays) == 1

    sim.inject("timeout", "timeout", "timeout")
    with pytest.raises(errors.VendorTimeout):
        client.verify_site()


def test_garbled_body_is_retried_then_malformed(world: World) -> None:
    sim = world.start()
    client = world.client()

    sim.inject("malformed")
    client.verify_site()

    sim.inject(*["malformed"] * 5)
    with pytest.raises(errors.MalformedResponse):
        client.verify_site()


class _UndocumentedShapeSimulator(CalltouchSimulator):
    """Answers plans-import/add with a body whose shape the docs do not describe."""

    def dispatch(self, request: SimRequest) -> SimResponse:
        response = super().dispatch(request)
        if request.path.endswith("/plans-import/add") and response.status == 200:
            response.body = {"meta": [], "data": {"logId": 1}}
        return response


def test_json_of_the_wrong_shape_is_malformed(world: World) -> None:
    world.start(simulator=_UndocumentedShapeSimulator)
    client = world.client()

    with pytest.raises(errors.MalformedResponse, match="importLogId"):
        client.add_plans(DOC_ITEMS)


# --- secrets -------------------------------------------------------------------------------------------
def test_the_token_never_leaks_into_errors_or_logs(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    sim = world.start()
    sim.inject(*["malformed"] * 5)  # retried with warnings that name the URL carrying clientApiId
    client = world.client()
    with pytest.raises(errors.MalformedResponse) as garbled:
        client.verify_site()
    with pytest.raises(errors.InvalidCredentials) as refused:
        world.client(token=f"{world.token}-revoked").add_plans(DOC_ITEMS)

    output = capsys.readouterr().out
    assert "retrying" in output  # the log lines were captured, so the check below means something
    for error in (garbled.value, refused.value):
        assert world.token not in str(error)
        assert world.token not in str(error.to_dict())
    assert world.token not in output


def sim_page(sim: CalltouchSimulator, token: str, date_from: str, date_to: str) -> dict[str, Any]:
    """The first page's envelope, read straight from the simulator (no HTTP, no client)."""
    query = {"clientApiId": [token], "dateFrom": [date_from], "dateTo": [date_to], "page": ["1"], "limit": ["25"]}
    response = sim.dispatch(SimRequest("GET", f"/calls-service/RestAPI/{SITE_ID}/calls-diary/calls", query, {}, b""))
    assert response.status == 200
    body: dict[str, Any] = response.body
    return body


# --- requests (form leads, A5) -----------------------------------------------------------------------------
REQUESTS_PATH = "/calls-service/RestAPI/requests"


def test_iter_requests_asks_in_us_date_order_and_reads_the_bare_array_with_its_tags(world: World) -> None:
    sim = world.start(requests_per_day=20)
    client = world.client()

    leads = list(client.iter_requests(date(2024, 3, 13), date(2024, 3, 14), with_tags=True))

    days = {lead["dateStr"].split(" ")[0] for lead in leads}
    assert days == {"13/03/2024", "14/03/2024"}  # a day past 12: only mm/dd/yyyy reads it
    assert len({lead["requestId"] for lead in leads}) == len(leads) > 0
    assert all("RequestTags" in lead and isinstance(lead["date"], int | None) for lead in leads)
    assert sim.request_counts[REQUESTS_PATH] == 1


def test_iter_requests_splits_ranges_longer_than_its_window(world: World) -> None:
    sim = world.start(requests_per_day=2, requests_max_range_days=10)
    client = world.client(requests_max_days=10)

    leads = list(client.iter_requests(date(2024, 1, 1), date(2024, 1, 25)))

    assert {lead["dateStr"][:10] for lead in leads} >= {"01/01/2024", "25/01/2024"}
    assert sim.request_counts[REQUESTS_PATH] == 3


def test_iter_requests_errors_are_those_of_the_calls_service(world: World) -> None:
    world.start()

    with pytest.raises(errors.InvalidCredentials):
        list(world.client(token="ct-wrong-token-123").iter_requests(date(2024, 3, 1), date(2024, 3, 1)))
    with pytest.raises(errors.AccessDenied):
        list(world.client(site_id=FOREIGN_SITE_ID).iter_requests(date(2024, 3, 1), date(2024, 3, 1)))


class _EnvelopedRequestsSimulator(CalltouchSimulator):
    """Answers the requests journal with an envelope the docs do not describe."""

    def dispatch(self, request: SimRequest) -> SimResponse:
        response = super().dispatch(request)
        if request.path == REQUESTS_PATH and response.status == 200:
            response.body = {"records": response.body}
        return response


def test_requests_of_the_wrong_shape_are_malformed(world: World) -> None:
    world.start(simulator=_EnvelopedRequestsSimulator)

    with pytest.raises(errors.MalformedResponse, match="array of requests"):
        list(world.client().iter_requests(date(2024, 3, 1), date(2024, 3, 1)))
