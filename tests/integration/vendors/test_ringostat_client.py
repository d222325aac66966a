"""The Ringostat client against the Ringostat simulator over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from leadhub.vendors import errors
from leadhub.vendors.ringostat import EVERY_FIELD, MINIMAL_FIELDS, RingostatAccount, RingostatClient
from leadhub.vendors.transport import RetryPolicy, VendorPolicy
from simulators.base import FaultKnobs
from simulators.ringostat import RingostatKnobs, RingostatScenario, RingostatSimulator

SECRET = "rs-auth-3f9c1e7a2b"
WRONG_KEY = "rs-auth-wrong-77d0c4"


class Sleeps(list[float]):
    """Stands in for time.sleep: records the delays instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture(scope="module")
def shared_sim() -> Iterator[RingostatSimulator]:
    # one server for the module: stopping one waits out its accept loop's poll interval
    scenario = RingostatScenario(seed=11, days=2, calls_per_day=150)
    simulator = RingostatSimulator(scenario, auth_key=SECRET, faults=FaultKnobs(timeout_seconds=1.0))
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def sim(shared_sim: RingostatSimulator) -> RingostatSimulator:
    shared_sim.knobs = RingostatKnobs()
    shared_sim.reset_faults()
    return shared_sim


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def make_client(sim: RingostatSimulator, sleeps: Sleeps, **options: object) -> RingostatClient:
    settings: dict[str, object] = {"clock": lambda: sim.scenario.end, **options}
    key = str(settings.pop("auth_key", SECRET))
    return RingostatClient(key, base_url=sim.base_url, sleep=sleeps, **settings)  # type: ignore[arg-type]


def calls_made(sim: RingostatSimulator) -> int:
    return sim.request_counts["/calls/list"]


def whole_period(client: RingostatClient, scenario: RingostatScenario) -> list[dict[str, object]]:
    return list(client.iter_calls(scenario.start, scenario.end))


def clean_requests(sim: RingostatSimulator, sleeps: Sleeps) -> int:
    """How many requests reading the whole period takes without faults (then the counts start again)."""
    whole_period(make_client(sim, sleeps), sim.scenario)
    made = calls_made(sim)
    sim.request_counts.clear()
    return made


# --- success ---------------------------------------------------------------------------------------
def test_reads_every_call_once_as_raw_rows(sim: RingostatSimulator, sleeps: Sleeps) -> None:
    client = make_client(sim, sleeps, fields=EVERY_FIELD)
    rows = whole_period(client, sim.scenario)
    truth = sim.scenario.truth()
    assert [row["uniqueid"] for row in rows] == list(truth)
    for row in rows:
        assert list(row) == [name for name in client.fields if name in row]  # requested order, gaps allowed
        fact = truth[str(row["uniqueid"])]
        assert row["pool_name"] == fact.pool
        assert row.get("utm_source") == fact.utm_source  # static-pool calls come without UTM keys
    assert isinstance(rows[0]["waittime"], str) and isinstance(rows[0]["billsec"], int)  # raw, not parsed
    assert sleeps == []


def test_a_local_day_is_exactly_that_day_in_one_or_two_requests(sim: RingostatSimulator, sleeps: Sleeps) -> None:
    client = make_client(sim, sleeps)
    day_start, day_end = sim.scenario.day_start(1), sim.scenario.day_start(2)
    rows = list(client.iter_calls(day_start.astimezone(UTC), day_end.astimezone(UTC)))
    expected = [fact.uniqueid for fact in sim.scenario.truth().values() if day_start <= fact.calldate < day_end]
    assert [row["uniqueid"] for row in rows] == expected
    # two when the margins around a quiet day hold no call to prove the bounds by: then sent wide
    assert calls_made(sim) in (1, 2)


def test_a_busy_day_is_downloaded_about_once(sleeps: Sleeps) -> None:
    busy_day = RingostatScenario(seed=4, days=3, calls_per_day=20_000)
    sim = RingostatSimulator(busy_day, auth_key=SECRET)
    downloaded = []
    with sim:
        client = make_client(sim, sleeps)
        real_rows = client._rows

        def counted(params: dict[str, str]) -> list[dict[str, object]]:
            rows = real_rows(params)
            downloaded.append(len(rows))
            return rows

        client._rows = counted  # type: ignore[method-assign]
        day_start, day_end = busy_day.day_start(1), busy_day.day_start(2)
        rows = list(client.iter_calls(day_start, day_end))
        # the same calls with the JSON each came as: answers kept whole and answers kept in part
        raw = make_client(sim, sleeps).calls_between(day_start, day_end)
    expected = [fact.uniqueid for fact in busy_day.truth().values() if day_start <= fact.calldate < day_end]
    assert [row["uniqueid"] for row in rows] == expected
    assert sum(downloaded) <= 1.05 * len(expected)  # cut answers continue: no window read twice
    assert len(downloaded) == 4  # 20 000 calls, 6500 an answer
    assert raw == rows
    assert [json.loads(line) for line in (raw.json_lines() or b"").splitlines()] == rows


@pytest.mark.parametrize("to_inclusive", [False, True])
@pytest.mark.parametrize("nudge", [timedelta(0), timedelta(milliseconds=500)])
def test_adjacent_windows_neither_lose_nor_duplicate(
    sim: RingostatSimulator, sleeps: Sleeps, to_inclusive: bool, nudge: timedelta
) -> None:
    sim.knobs.to_inclusive = to_inclusive
    client = make_client(sim, sleeps)
    truth = sim.scenario.truth()
    cut = list(truth.values())[len(truth) // 2].calldate + nudge  # exactly on a call, or inside its second
    left = {row["uniqueid"] for row in client.iter_calls(sim.scenario.start, cut)}
    right = {row["uniqueid"] for row in client.iter_calls(cut, sim.scenario.end)}
    assert left.isdisjoint(right)
    assert left | right == set(truth)


def test_rejects_naive_datetimes(sim: RingostatSimulator, sleeps: Sleeps) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        list(make_client(sim, sleeps).iter_calls(datetime(2024, 6, 1), datetime(2024, 6, 2)))


@pytest.mark.parametrize("mode", ["array", "empty-body"])
def test_a_window_without_calls_is_empty(sim: RingostatSimulator, sleeps: Sleeps, mode: str) -> None:
    sim.knobs.empty_result = mode  # type: ignore[assignment]
    before = sim.scenario.start - timedelta(days=1)
    assert list(make_client(sim, sleeps).iter_calls(before, sim.scenario.start)) == []
    assert sleeps == []


# --- the 6500-row cap -------------------------------------------------------------------------------
@pytest.mark.parametrize("cap_mode", ["truncate", "error"])
def test_a_window_over_the_cap_is_read_whole(sleeps: Sleeps, cap_mode: str) -> None:
    busy_day = RingostatScenario(seed=4, days=1, calls_per_day=7000)
    sim = RingostatSimulator(busy_day, auth_key=SECRET, knobs=RingostatKnobs(cap_mode=cap_mode))  # type: ignore[arg-type]
    with sim:
        client = make_client(sim, sleeps, fields=MINIMAL_FIELDS)
        rows = whole_period(client, busy_day)
        assert [row["uniqueid"] for row in rows] == list(busy_day.truth())
        # cut: continued from the last call; refused: halved
        # cut: continued from the last call (the first day has no call before it, so its `from` is
        # sent wide once); refused: halved
        assert calls_made(sim) <= (4 if cap_mode == "truncate" else 5)
    assert sleeps == []


def test_a_smaller_client_cap_continues_as_often_as_needed(sim: RingostatSimulator, sleeps: Sleeps) -> None:
    sim.knobs.row_cap = 40
    client = make_client(sim, sleeps, cap=40)
    rows = whole_period(client, sim.scenario)
    assert [row["uniqueid"] for row in rows] == list(sim.scenario.truth())
    assert calls_made(sim) > 300 / 40


# --- time zones -------------------------------------------------------------------------------------
def test_dst_fall_back_hour_is_read_without_loss(sleeps: Sleeps) -> None:
    fall_back = RingostatScenario(seed=8, days=1, start_date=date(2024, 10, 27), calls_per_day=2500)
    sim = RingostatSimulator(fall_back, auth_key=SECRET)
    with sim:
        client = make_client(sim, sleeps)
        hour, moment, end, seen = timedelta(hours=1), fall_back.start.astimezone(UTC), fall_back.end, []
        while moment < end:  # 25 one-hour windows, two of them both local 03:00-04:00, given in local time
            window = (moment.astimezone(fall_back.tz), min(moment + hour, end).astimezone(fall_back.tz))
            seen += [row["uniqueid"] for row in client.iter_calls(*window)]
            moment += hour
    assert seen == list(fall_back.truth())


def test_project_tz_setting_matches_an_api_that_reads_utc(sim: RingostatSimulator, sleeps: Sleeps) -> None:
    sim.knobs.window_tz = "UTC"
    rows = whole_period(make_client(sim, sleeps, project_tz="UTC"), sim.scenario)
    assert [row["uniqueid"] for row in rows] == list(sim.scenario.truth())


def test_an_api_reading_the_window_in_another_zone_loses_nothing(sim: RingostatSimulator, sleeps: Sleeps) -> None:
    sim.knobs.window_tz = "UTC"  # the API reads from/to as UTC while the client expects Kyiv
    client = make_client(sim, sleeps)
    first_day = [row["uniqueid"] for row in client.iter_calls(sim.scenario.start, sim.scenario.day_start(1))]
    expected = [f.uniqueid for f in sim.scenario.truth().values() if f.calldate < sim.scenario.day_start(1)]
    assert first_day == expected
    assert client.zone_mismatch is None  # the calls' own times are Kyiv's, as expected


def test_a_kyiv_account_under_a_moscow_project_keeps_every_moscow_hour_of_a_winter_day(sleeps: Sleeps) -> None:
    winter = RingostatScenario(seed=5, days=3, calls_per_day=400, start_date=date(2026, 1, 14))
    moscow = ZoneInfo("Europe/Moscow")
    with RingostatSimulator(winter, auth_key=SECRET) as sim:
        client = make_client(sim, sleeps, project_tz="Europe/Moscow")
        for day in (date(2026, 1, 14) + timedelta(days=n) for n in range(1, 3)):
            start = datetime.combine(day, datetime.min.time(), tzinfo=moscow)
            end = start + timedelta(days=1)
            rows = [row["uniqueid"] for row in client.iter_calls(start, end)]
            expected = [f.uniqueid for f in winter.truth().values() if start <= f.calldate < end]
            first_hour = [f for f in winter.truth().values() if start <= f.calldate < start + timedelta(hours=1)]
            assert first_hour  # 00:00-01:00 MSK is 23:00-24:00 in Kyiv: the hour the old window lost
            assert rows == expected
    assert client.zone_mismatch is not None
    assert client.zone_mismatch.offsets == ("+02:00",)
    assert client.zone_mismatch.candidates[0] == "Europe/Kyiv"
    assert client.zone_mismatch.configured == "Europe/Moscow"


# --- field fallback ---------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["400", "200-text"])
def test_rejected_field_falls_back_once_and_for_good(
    sim: RingostatSimulator, sleeps: Sleeps, capsys: pytest.CaptureFixture[str], mode: str
) -> None:
    sim.knobs.unknown_field_mode = mode  # type: ignore[assignment]
    sim.knobs.rejected_fields = frozenset({"employee_fio"})
    clean = clean_requests(sim, sleeps)
    client = make_client(sim, sleeps, fields=EVERY_FIELD)
    rows = whole_period(client, sim.scenario)
    assert [row["uniqueid"] for row in rows] == list(sim.scenario.truth())
    assert client.fields == MINIMAL_FIELDS
    assert all(set(row) <= set(MINIMAL_FIELDS) for row in rows)
    assert calls_made(sim) == clean + 1  # the one refused
    log = capsys.readouterr().out
    assert "dropped_fields" in log and "employee_fio" in log and "recording_wav" in log
    whole_period(client, sim.scenario)
    assert calls_made(sim) == 2 * clean + 1  # the fallback list is remembered
    assert sleeps == []


def test_a_rejected_fallback_field_is_a_rejected_request(sim: RingostatSimulator, sleeps: Sleeps) -> None:
    sim.knobs.rejected_fields = frozenset({"pool_name"})
    with pytest.raises(errors.RequestRejected) as caught:
        whole_period(make_client(sim, sleeps), sim.scenario)
    assert caught.value.status == 400 and "pool_name" in str(caught.value)
    assert calls_made(sim) == 2 and sleeps == []


# --- account discovery and the credential check -------------------------------------------------------
def test_discovers_the_project_number_from_call_cards(sim: RingostatSimulator, sleeps: Sleeps) -> None:
    accounts = make_client(sim, sleeps).discover_projects()
    assert accounts == [RingostatAccount(id=sim.scenario.project_id, source="call_card")]
    assert accounts[0].name is None and accounts[0].name_available is False


def test_no_recent_calls_means_no_project_found(sim: RingostatSimulator, sleeps: Sleeps) -> None:
    later = sim.scenario.end + timedelta(days=90)
    assert make_client(sim, sleeps, clock=lambda: later).discover_projects() == []


def test_discovers_projects_from_a_configured_endpoint(sleeps: Sleeps) -> None:
    knobs = RingostatKnobs(projects_endpoint="/projects/list")
    sim = RingostatSimulator(RingostatScenario(project_id=424242), auth_key=SECRET, knobs=knobs)
    with sim:
        accounts = make_client(sim, sleeps, projects_path="/projects/list").discover_projects()
        assert calls_made(sim) == 0
    assert [(account.id, account.source) for account in accounts] == [(424242, "projects_endpoint")]


def test_check_accepts_the_key(sim: RingostatSimulator, sleeps: Sleeps) -> None:
    make_client(sim, sleeps).check()
    assert calls_made(sim) == 1


# --- errors -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("body", ["json", "text"])
def test_bad_key_is_invalid_credentials_without_retries(sim: RingostatSimulator, sleeps: Sleeps, body: str) -> None:
    sim.knobs.auth_error_format = body  # type: ignore[assignment]
    with pytest.raises(errors.InvalidCredentials) as caught:
        make_client(sim, sleeps, auth_key=WRONG_KEY).check()
    assert caught.value.status == 401
    assert calls_made(sim) == 1 and sleeps == []


def test_revoked_key_is_access_denied(sim: RingostatSimulator, sleeps: Sleeps) -> None:
    sim.knobs.revoked_keys = frozenset({WRONG_KEY})
    with pytest.raises(errors.AccessDenied):
        whole_period(make_client(sim, sleeps, auth_key=WRONG_KEY), sim.scenario)
    assert sleeps == []


def test_429_with_retry_after_waits_that_long(sim: RingostatSimulator, sleeps: Sleeps) -> None:
    sim.set_faults(retry_after=2)
    sim.inject("429")
    assert len(whole_period(make_client(sim, sleeps), sim.scenario)) == sim.scenario.days * 150
    assert sleeps == [2.0]


def test_429_without_retry_after_backs_off_exponentially(sim: RingostatSimulator, sleeps: Sleeps) -> None:
    sim.inject("429-no-retry-after", "429-no-retry-after")
    assert whole_period(make_client(sim, sleeps), sim.scenario)
    assert len(sleeps) == 2
    assert 0.25 <= sleeps[0] <= 0.5 and 0.5 <= sleeps[1] <= 1.0  # base 0.5 s, doubled, half-jittered


def test_429_until_retries_run_out_is_rate_limited(sim: RingostatSimulator, sleeps: Sleeps) -> None:
    sim.set_faults(retry_after=3)
    sim.inject(*["429"] * 5)
    with pytest.raises(errors.RateLimited) as caught:
        whole_period(make_client(sim, sleeps), sim.scenario)
    assert caught.value.retry_after == 3.0
    assert sleeps == [3.0] * 4 and calls_made(sim) == 5


@pytest.mark.parametrize("fault", ["500", "503", "html"])
def test_server_errors_are_retried(sim: RingostatSimulator, sleeps: Sleeps, fault: str) -> None:
    clean = clean_requests(sim, sleeps)
    sim.inject(fault)
    assert len(whole_period(make_client(sim, sleeps), sim.scenario)) == sim.scenario.days * 150
    assert len(sleeps) == 1 and calls_made(sim) == clean + 1


def test_persistent_server_errors_raise_server_error(sim: RingostatSimulator, sleeps: Sleeps) -> None:
    sim.inject(*["500"] * 5)
    with pytest.raises(errors.ServerError):
        whole_period(make_client(sim, sleeps), sim.scenario)
    assert len(sleeps) == 4


def quick_timeouts(attempts: int) -> VendorPolicy:
    return VendorPolicy(vendor="ringostat", read_timeout=0.3, retry=RetryPolicy(max_attempts=attempts))


def test_a_timeout_is_retried(sim: RingostatSimulator, sleeps: Sleeps) -> None:
    sim.inject("timeout")
    client = make_client(sim, sleeps, policy=quick_timeouts(3))
    assert len(whole_period(client, sim.scenario)) == sim.scenario.days * 150
    assert len(sleeps) == 1


def test_a_persistent_timeout_is_vendor_timeout(sim: RingostatSimulator, sleeps: Sleeps) -> None:
    sim.inject("timeout", "timeout")
    with pytest.raises(errors.VendorTimeout):
        whole_period(make_client(sim, sleeps, policy=quick_timeouts(2)), sim.scenario)
    assert len(sleeps) == 1


def test_a_garbled_body_is_read_again(sim: RingostatSimulator, sleeps: Sleeps) -> None:
    sim.inject("malformed")
    assert len(whole_period(make_client(sim, sleeps), sim.scenario)) == sim.scenario.days * 150
    assert len(sleeps) == 1


def test_a_body_that_stays_garbled_is_malformed_response(sim: RingostatSimulator, sleeps: Sleeps) -> None:
    sim.inject(*["malformed"] * 5)
    with pytest.raises(errors.MalformedResponse):
        whole_period(make_client(sim, sleeps), sim.scenario)
    assert len(sleeps) == 4


def test_a_json_answer_of_the_wrong_shape_is_malformed_response(sim: RingostatSimulator, sleeps: Sleeps) -> None:
    # the call log answers objects; read where project numbers are expected, that is the wrong shape
    client = make_client(sim, sleeps, projects_path="/calls/list")
    with pytest.raises(errors.MalformedResponse, match="project numbers"):
        client.discover_projects()


# --- secrets ------------------------------------------------------------------------------------------
def test_no_secret_in_errors_or_logs(
    sim: RingostatSimulator, sleeps: Sleeps, capsys: pytest.CaptureFixture[str]
) -> None:
    caught: list[errors.VendorError] = []
    sim.inject(*["429-no-retry-after"] * 5)
    with pytest.raises(errors.RateLimited) as limited:
        whole_period(make_client(sim, sleeps), sim.scenario)
    caught.append(limited.value)
    sim.knobs.unknown_field_mode = "200-text"
    sim.knobs.rejected_fields = frozenset({"pool_name"})
    with pytest.raises(errors.RequestRejected) as rejected:
        whole_period(make_client(sim, sleeps), sim.scenario)
    caught.append(rejected.value)
    with pytest.raises(errors.InvalidCredentials) as refused:
        make_client(sim, sleeps, auth_key=WRONG_KEY).check()
    caught.append(refused.value)
    output = capsys.readouterr()
    assert "retrying" in output.out and "dropped_fields" in output.out  # the logs were captured
    for secret in (SECRET, WRONG_KEY):
        for error in caught:
            assert secret not in str(error)
            assert secret not in json.dumps(error.to_dict(), ensure_ascii=False)
        assert secret not in output.out and secret not in output.err
