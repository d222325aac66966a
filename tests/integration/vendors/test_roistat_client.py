"""RoistatClient against the Roistat simulator over real HTTP on 127.0.0.1.

Time is fake and shared: the client's rate limiters, its retry sleeps and the simulator's rate-limit
windows all read one clock that only moves when something "sleeps", so limit tests are exact and fast.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from leadhub.vendors import errors
from leadhub.vendors import transport as transport_module
from leadhub.vendors.ratelimit import Rate, RateLimiter
from leadhub.vendors.roistat import (
    CrmUnreachable,
    RoistatClient,
    call_tags,
    filter_expression,
    filter_time,
    order_list_rates,
    status_group,
)
from leadhub.vendors.transport import RetryPolicy, VendorPolicy
from simulators.roistat import RoistatKnobs, RoistatSimulator

API_KEY = "rs-key-3f9a7c21e5b84d06"
NARROW_KEY = "rs-key-narrow-8d1e4b7a"  # sees only the second project
REVOCABLE_KEY = "rs-key-revocable-2c6f0a9e"
PROJECT, OTHER_PROJECT = 10001, 10002
MSK = ZoneInfo("Europe/Moscow")
DAY_START = datetime(2024, 3, 3, tzinfo=MSK)
DAY_END = datetime(2024, 3, 4, tzinfo=MSK)
CALLS_PATH = "/api/v1/project/calltracking/call/list"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class SleepRecorder:
    """Stands in for time.sleep: records the delay and moves the fake clock on."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.clock.now += seconds


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
def sim(clock: FakeClock) -> Iterator[RoistatSimulator]:
    keys = {API_KEY: [PROJECT, OTHER_PROJECT], NARROW_KEY: [OTHER_PROJECT], REVOCABLE_KEY: [PROJECT]}
    simulator = RoistatSimulator(api_keys=keys, clock=clock)
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture(autouse=True)
def fresh_state(sim: RoistatSimulator, clock: FakeClock) -> None:
    clock.now += 7200  # past every server-side limit window (the longest is an hour)
    sim.reset_faults()
    sim.knobs = RoistatKnobs()
    sim.revoked_keys.clear()


@pytest.fixture(autouse=True)
def limiter_waits(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> SleepRecorder:
    """Client-side limiters on the fake clock, fresh for each test: a wait is recorded, never slept."""
    waits = SleepRecorder(clock)
    registry: dict[tuple[str, str, str], RateLimiter] = {}

    def shared_limiter(vendor: str, scope: str, fingerprint: str, rates: tuple[Rate, ...]) -> RateLimiter:
        key = (vendor, scope, fingerprint)
        if key not in registry:
            registry[key] = RateLimiter(rates, clock=clock, sleep=waits)
        return registry[key]

    monkeypatch.setattr(transport_module, "shared_limiter", shared_limiter)
    return waits


@pytest.fixture
def retry_sleeps(clock: FakeClock) -> SleepRecorder:
    return SleepRecorder(clock)


@pytest.fixture
def make_client(sim: RoistatSimulator, retry_sleeps: SleepRecorder) -> Callable[..., RoistatClient]:
    def make(api_key: str = API_KEY, **options: Any) -> RoistatClient:
        return RoistatClient(api_key, base_url=sim.api_url, sleep=retry_sleeps, **options)

    return make


@pytest.fixture
def client(make_client: Callable[..., RoistatClient]) -> RoistatClient:
    return make_client()


def call_ids(calls: Any) -> list[str]:
    return [call["id"] for call in calls]


# --- success ------------------------------------------------------------------------------------


def test_projects_are_typed(client: RoistatClient) -> None:
    projects = client.list_projects()

    assert [project.id for project in projects] == [PROJECT, OTHER_PROJECT]
    assert projects[0].currency == "RUB"
    assert projects[0].is_owner is True
    assert projects[1].is_owner is False


def test_key_in_query_string_works(make_client: Callable[..., RoistatClient]) -> None:
    assert [project.id for project in make_client(key_in_query=True).list_projects()] == [PROJECT, OTHER_PROJECT]


def test_calls_are_exactly_the_half_open_window_oldest_first(client: RoistatClient, sim: RoistatSimulator) -> None:
    calls = list(client.iter_calls(PROJECT, DAY_START, DAY_END))

    truth = sim.truth(PROJECT, DAY_START, DAY_END)
    assert call_ids(calls) == [fact.call_id for fact in truth]
    assert len(calls) == sim.scenario.calls_per_day
    dates = [datetime.fromisoformat(call["date"]) for call in calls]
    assert dates == sorted(dates)
    assert all(DAY_START <= moment < DAY_END for moment in dates)


def test_window_bounds_in_any_offset_mean_the_same_instants(client: RoistatClient) -> None:
    utc_start = DAY_START.astimezone(ZoneInfo("UTC"))
    utc_end = DAY_END.astimezone(ZoneInfo("UTC"))

    assert call_ids(client.iter_calls(PROJECT, utc_start, utc_end)) == call_ids(
        client.iter_calls(PROJECT, DAY_START, DAY_END)
    )


def test_a_call_exactly_at_the_end_bound_is_left_for_the_next_window(
    client: RoistatClient, sim: RoistatSimulator
) -> None:
    boundary = sim.truth(PROJECT, DAY_START, DAY_END)[5].date

    before = call_ids(client.iter_calls(PROJECT, DAY_START, boundary))
    after = call_ids(client.iter_calls(PROJECT, boundary, DAY_END))

    assert len(before) == 5
    assert set(before).isdisjoint(after)
    assert before + after == [fact.call_id for fact in sim.truth(PROJECT, DAY_START, DAY_END)]


def test_calls_carry_the_channel_the_truth_names(client: RoistatClient, sim: RoistatSimulator) -> None:
    end = DAY_START + timedelta(days=3)
    calls = {call["id"]: call for call in client.iter_calls(PROJECT, DAY_START, end)}

    kinds = set()
    for fact in sim.truth(PROJECT, DAY_START, end):
        call = calls[fact.call_id]
        kinds.add(fact.kind)
        if fact.kind == "static":
            assert call["static_source"]["system_name"] == fact.channel
            assert call["visit"] is None
        elif fact.kind == "dynamic":
            assert call["visit"]["source"]["system_name"] == fact.marker
            assert call["visit"]["source"]["utm_campaign"] == fact.campaign
        else:
            assert call["visit"] is None and call["static_source"] is None
        assert tuple(call_tags(call)) == fact.tags
    assert kinds == {"static", "dynamic", "unattributed"}


def test_without_extend_the_visit_is_null(client: RoistatClient) -> None:
    calls = list(client.iter_calls(PROJECT, DAY_START, DAY_END, extend=()))

    assert calls
    assert all(call["visit"] is None for call in calls)
    assert any(call["visit_id"] for call in calls)


def test_naive_datetimes_are_refused_before_any_request(client: RoistatClient, sim: RoistatSimulator) -> None:
    with pytest.raises(ValueError, match="aware"):
        client.iter_calls(PROJECT, datetime(2024, 3, 3), datetime(2024, 3, 4))
    assert sim.request_counts[CALLS_PATH] == 0


# --- paging and caps ----------------------------------------------------------------------------


def test_small_pages_fetch_everything_once(client: RoistatClient, sim: RoistatSimulator) -> None:
    calls = call_ids(client.iter_calls(PROJECT, DAY_START, DAY_END, page_size=7))

    assert calls == [fact.call_id for fact in sim.truth(PROJECT, DAY_START, DAY_END)]
    assert sim.request_counts[CALLS_PATH] == 6  # 40 calls in pages of 7


def test_a_silently_clamped_page_is_not_mistaken_for_the_last(client: RoistatClient, sim: RoistatSimulator) -> None:
    sim.knobs.max_limit = 15

    calls = call_ids(client.iter_calls(PROJECT, DAY_START, DAY_END, page_size=1000))

    assert calls == [fact.call_id for fact in sim.truth(PROJECT, DAY_START, DAY_END)]
    assert sim.request_counts[CALLS_PATH] == 3


def test_rows_repeated_by_shifting_pages_are_yielded_once(client: RoistatClient, sim: RoistatSimulator) -> None:
    sim.knobs.page_shift = 1

    calls = call_ids(client.iter_calls(PROJECT, DAY_START, DAY_END, page_size=6))

    assert len(calls) == len(set(calls))
    assert set(calls) == {fact.call_id for fact in sim.truth(PROJECT, DAY_START, DAY_END)}
    assert sim.request_counts[CALLS_PATH] == 7  # each page after the first repeated a row


def test_clients_page_through_everything(client: RoistatClient, sim: RoistatSimulator) -> None:
    clients = list(client.iter_clients(PROJECT, page_size=25))

    assert [row["id"] for row in clients] == list(range(1, sim.scenario.clients + 1))


def test_one_client_condition_goes_as_a_flat_array(client: RoistatClient) -> None:
    # The simulator answers internal_error to a one-condition "and", as Roistat does.
    found = list(client.iter_clients(PROJECT, conditions=[("phone", "=", "79160010007")]))

    assert [row["id"] for row in found] == [7]
    assert filter_expression([("phone", "=", "1")]) == [["phone", "=", "1"]]
    assert filter_expression([("a", ">", 1), ("a", "<", 5)]) == {"and": [["a", ">", 1], ["a", "<", 5]]}


def test_orders_with_and_without_visit(client: RoistatClient) -> None:
    plain = list(client.iter_orders(PROJECT, DAY_START, DAY_END))
    extended = list(client.iter_orders(PROJECT, DAY_START, DAY_END, extend_visit=True))

    assert [order["id"] for order in plain] == [order["id"] for order in extended]
    assert all(order["visit"] is None for order in plain)
    linked = [order for order in extended if order["visit_id"]]
    assert linked
    assert all(order["visit"]["id"] == order["visit_id"] for order in linked)
    created = [datetime.fromisoformat(order["creation_date"]) for order in plain]
    assert created == sorted(created)
    assert all(DAY_START <= moment < DAY_END for moment in created)


def test_order_pages_wait_for_the_20_a_minute_limit(
    client: RoistatClient, limiter_waits: SleepRecorder, retry_sleeps: SleepRecorder
) -> None:
    orders = list(client.iter_orders(PROJECT, DAY_START, DAY_START + timedelta(days=2), page_size=1))

    assert len(orders) > 20
    assert sum(limiter_waits.delays) >= 59  # the 21st request waited out the minute
    assert retry_sleeps.delays == []  # the simulator, on the same clock, never refused


def test_order_pages_with_visit_wait_for_the_10_a_minute_limit(
    client: RoistatClient, limiter_waits: SleepRecorder, retry_sleeps: SleepRecorder
) -> None:
    orders = list(client.iter_orders(PROJECT, DAY_START, DAY_END, extend_visit=True, page_size=1))

    assert len(orders) > 10
    assert sum(limiter_waits.delays) >= 59
    assert retry_sleeps.delays == []


def test_order_limit_tiers_follow_the_page_size() -> None:
    assert order_list_rates(extend_visit=False, page_size=5000) == ("order-list", (Rate(20, 60.0),))
    assert order_list_rates(extend_visit=True, page_size=100)[1] == (Rate(10, 60.0),)
    assert order_list_rates(extend_visit=True, page_size=101)[1] == (Rate(5, 60.0),)
    assert order_list_rates(extend_visit=True, page_size=1000)[1] == (Rate(5, 60.0),)
    assert order_list_rates(extend_visit=True, page_size=1001)[1] == (Rate(1, 60.0),)


def test_a_limit_shared_with_other_integrations_is_waited_out(
    client: RoistatClient, sim: RoistatSimulator, retry_sleeps: SleepRecorder
) -> None:
    # Something else uses the project too: the server allows this client 2 calls a second, not 10.
    sim.knobs.project_per_second = 2

    calls = call_ids(client.iter_calls(PROJECT, DAY_START, DAY_END, page_size=5))

    assert calls == [fact.call_id for fact in sim.truth(PROJECT, DAY_START, DAY_END)]
    assert retry_sleeps.delays  # request_limit_error came back and was retried


# --- other resources ----------------------------------------------------------------------------


def test_statuses_include_the_not_counted_bucket(client: RoistatClient) -> None:
    groups = {status["name"]: status_group(status) for status in client.list_statuses(PROJECT)}

    assert groups["Оплачено"] == "paid"
    assert groups["Отказ"] == "canceled"
    assert groups["Спам / дубль"] == "not_counted"
    assert status_group({"id": "9", "name": "no type at all"}) == "not_counted"


@pytest.mark.parametrize("envelope_key", ["ProxyLeads", "ProxyLead"])
def test_proxy_leads_of_one_day_in_one_request(client: RoistatClient, sim: RoistatSimulator, envelope_key: str) -> None:
    sim.knobs.proxy_leads_list_key = envelope_key

    leads = client.proxy_leads(PROJECT, date(2024, 3, 3))

    genuine = [lead for lead in leads if lead["title"] != "Сделка из CRM"]  # and those made for deals (seed 000)
    assert len(genuine) == sim.scenario.proxy_leads_per_day
    utc = ZoneInfo("UTC")
    for lead in leads:
        created = datetime.fromisoformat(lead["creation_date"]).replace(tzinfo=utc)
        assert DAY_START <= created < DAY_END
    assert sim.request_counts["/api/v1/project/proxy-leads"] == 1


def test_static_channels_are_the_static_scripts(client: RoistatClient, sim: RoistatSimulator) -> None:
    channels = client.list_static_channels(PROJECT)

    assert [channel.value for channel in channels] == [channel.value for channel in sim.scenario.static_channels]
    assert all(channel.script["options"]["calltracking_type"] == "static" for channel in channels)


def test_call_tags_reads_every_shape() -> None:
    assert call_tags({"tags": ["квал", "целевой"]}) == ["квал", "целевой"]
    assert call_tags({"tags": [{"name": "квал"}, {"title": "спам"}]}) == ["квал", "спам"]
    assert call_tags({"tags": None}) == []
    assert call_tags({}) == []
    assert call_tags({"tags": "квал, спам"}) == ["квал", "спам"]


def test_filter_time_is_utc_and_rounds_fractions_up() -> None:
    assert filter_time(datetime(2024, 3, 3, tzinfo=MSK)) == "2024-03-02T21:00:00+0000"
    assert filter_time(datetime(2024, 3, 3, 0, 0, 0, 1, tzinfo=MSK)) == "2024-03-02T21:00:01+0000"


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("use_http_code", "status"), [(True, 401), (False, 200)])
def test_bad_key_is_invalid_credentials(
    make_client: Callable[..., RoistatClient], use_http_code: bool, status: int, retry_sleeps: SleepRecorder
) -> None:
    with pytest.raises(errors.InvalidCredentials) as caught:
        make_client("rs-wrong-key-51c7", use_http_code=use_http_code).list_projects()

    assert caught.value.code == "authentication_failed"
    assert caught.value.status == status
    assert retry_sleeps.delays == []


def test_revoked_key_stops_working(make_client: Callable[..., RoistatClient], sim: RoistatSimulator) -> None:
    client = make_client(REVOCABLE_KEY)
    assert client.list_statuses(PROJECT)

    sim.revoke_key(REVOCABLE_KEY)

    with pytest.raises(errors.InvalidCredentials):
        client.list_statuses(PROJECT)


def test_project_the_key_cannot_see_is_access_denied(make_client: Callable[..., RoistatClient]) -> None:
    with pytest.raises(errors.AccessDenied) as caught:
        list(make_client(NARROW_KEY).iter_calls(PROJECT, DAY_START, DAY_END))

    assert caught.value.code == "access_denied"
    assert caught.value.status == 403


def test_clients_without_client_management_is_feature_disabled(client: RoistatClient, sim: RoistatSimulator) -> None:
    sim.knobs.disabled_options = {PROJECT: {"clients"}}

    with pytest.raises(errors.FeatureDisabled) as caught:
        list(client.iter_clients(PROJECT))

    assert caught.value.code == "option_not_enabled"
    assert "«Управление клиентами» (client management) is off in this Roistat project" in caught.value.message


@pytest.mark.parametrize("state", ["insufficient_funds", "project_frozen"])
def test_blocked_project_is_feature_disabled(client: RoistatClient, sim: RoistatSimulator, state: str) -> None:
    sim.knobs.blocked_projects = {PROJECT: state}

    with pytest.raises(errors.FeatureDisabled) as caught:
        client.list_statuses(PROJECT)

    assert caught.value.code == state


def test_unreachable_crm_is_a_config_error_not_retried(
    client: RoistatClient, sim: RoistatSimulator, retry_sleeps: SleepRecorder
) -> None:
    sim.knobs.crm_unreachable = {PROJECT}

    with pytest.raises(CrmUnreachable) as caught:
        list(client.iter_orders(PROJECT, DAY_START, DAY_END))

    assert caught.value.error_class == errors.ErrorClass.CONFIG
    assert retry_sleeps.delays == []


def test_rejected_filter_is_request_rejected(client: RoistatClient, retry_sleeps: SleepRecorder) -> None:
    with pytest.raises(errors.RequestRejected) as caught:
        list(client.iter_clients(PROJECT, conditions=[("no_such_field", "=", "x")]))

    assert caught.value.code == "request_data_validation_error"
    assert caught.value.status == 400
    assert retry_sleeps.delays == []


# --- transient failures -------------------------------------------------------------------------


@pytest.mark.parametrize("use_http_code", [True, False])
def test_429_with_retry_after_waits_that_long(
    make_client: Callable[..., RoistatClient], sim: RoistatSimulator, retry_sleeps: SleepRecorder, use_http_code: bool
) -> None:
    sim.set_faults(retry_after=2)
    sim.inject("429")

    statuses = make_client(use_http_code=use_http_code).list_statuses(PROJECT)

    assert statuses
    assert retry_sleeps.delays == [2.0]


def test_429_without_retry_after_backs_off_exponentially(
    client: RoistatClient, sim: RoistatSimulator, retry_sleeps: SleepRecorder
) -> None:
    sim.inject("429-no-retry-after", "429-no-retry-after", "429-no-retry-after")

    assert client.list_statuses(PROJECT)

    base = 2.0  # the client's default backoff; each wait is jittered into [half, full]
    assert len(retry_sleeps.delays) == 3
    for attempt, delay in enumerate(retry_sleeps.delays):
        assert base * 2**attempt / 2 <= delay <= base * 2**attempt


def test_429_that_persists_is_rate_limited(
    client: RoistatClient, sim: RoistatSimulator, retry_sleeps: SleepRecorder
) -> None:
    sim.set_faults(retry_after=2)
    sim.inject(*["429"] * 5)

    with pytest.raises(errors.RateLimited) as caught:
        client.list_statuses(PROJECT)

    assert caught.value.code == "request_limit_error"
    assert caught.value.retry_after == 2.0
    assert retry_sleeps.delays == [2.0] * 4


@pytest.mark.parametrize("fault", ["500", "503", "html"])
def test_server_errors_are_retried(
    client: RoistatClient, sim: RoistatSimulator, retry_sleeps: SleepRecorder, fault: str
) -> None:
    sim.inject(fault)

    assert client.list_statuses(PROJECT)
    assert len(retry_sleeps.delays) == 1


def test_server_error_that_persists_is_server_error(client: RoistatClient, sim: RoistatSimulator) -> None:
    sim.inject(*["500"] * 5)

    with pytest.raises(errors.ServerError) as caught:
        client.list_statuses(PROJECT)

    assert caught.value.code == "internal_error"


def test_timeout_is_retried_then_reported(
    make_client: Callable[..., RoistatClient], sim: RoistatSimulator, retry_sleeps: SleepRecorder
) -> None:
    client = make_client(policy=VendorPolicy("roistat", read_timeout=0.2, retry=RetryPolicy(max_attempts=2)))
    sim.set_faults(timeout_seconds=0.6)

    sim.inject("timeout")
    assert client.list_statuses(PROJECT)
    assert len(retry_sleeps.delays) == 1

    sim.inject("timeout", "timeout")
    with pytest.raises(errors.VendorTimeout):
        client.list_statuses(PROJECT)


def test_garbled_body_is_retried_then_malformed(
    client: RoistatClient, sim: RoistatSimulator, retry_sleeps: SleepRecorder
) -> None:
    sim.inject("malformed")
    assert client.list_statuses(PROJECT)
    assert len(retry_sleeps.delays) == 1

    sim.inject(*["malformed"] * 5)
    with pytest.raises(errors.MalformedResponse):
        client.list_statuses(PROJECT)


def test_success_without_the_payload_is_malformed(client: RoistatClient, sim: RoistatSimulator) -> None:
    sim.knobs.proxy_leads_list_key = "Leads"

    with pytest.raises(errors.MalformedResponse, match="no ProxyLeads"):
        client.proxy_leads(PROJECT, date(2024, 3, 3))


# --- secrets ------------------------------------------------------------------------------------


def test_key_never_leaks_into_errors_or_logs(
    make_client: Callable[..., RoistatClient], sim: RoistatSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong_key = "rs-wrong-key-in-query-9e0b"
    with pytest.raises(errors.InvalidCredentials) as refused:
        make_client(wrong_key, key_in_query=True).list_projects()

    sim.inject(*["500"] * 5)
    with pytest.raises(errors.ServerError) as failed:
        make_client(key_in_query=True).list_statuses(PROJECT)

    logged = capsys.readouterr().out
    assert "vendor call failed, retrying" in logged  # the retries were logged, with the URL
    for key, error in ((wrong_key, refused.value), (API_KEY, failed.value)):
        assert key not in str(error)
        assert key not in repr(error.to_dict())
        assert key not in logged
