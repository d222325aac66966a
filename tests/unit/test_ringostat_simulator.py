"""The Ringostat simulator against roistat-ringostat.md Part B (requests go through `dispatch`)."""

from __future__ import annotations

import base64
import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest

from simulators.base import SimRequest, SimResponse
from simulators.ringostat import (
    DOCUMENTED_FIELDS,
    NEWER_FIELDS,
    ROW_CAP,
    RingostatKnobs,
    RingostatScenario,
    RingostatSimulator,
)

KEY = "unit-test-auth-key"
FIRST_DAY = {"from": "2024-06-01 00:00:00", "to": "2024-06-02 00:00:00"}
ALL_DAYS = {"from": "2024-06-01 00:00:00", "to": "2024-06-04 00:00:00"}


def get(
    sim: RingostatSimulator, params: dict[str, Any], *, key: str | None = KEY, path: str = "/calls/list"
) -> SimResponse:
    query = {name: value if isinstance(value, list) else [value] for name, value in params.items()}
    return sim.dispatch(SimRequest("GET", path, query, {"Auth-key": key} if key else {}, b""))


def rows(sim: RingostatSimulator, params: dict[str, Any]) -> list[dict[str, Any]]:
    response = get(sim, params)
    assert response.status == 200, response.body
    assert isinstance(response.body, list)
    return response.body


@pytest.fixture
def sim() -> RingostatSimulator:
    return RingostatSimulator(RingostatScenario(seed=3, days=3, calls_per_day=120), auth_key=KEY)


def test_same_seed_same_log_and_other_seed_another() -> None:
    first, again, other = (RingostatScenario(seed=seed) for seed in (1, 1, 2))
    assert [call.uniqueid for call in first.all_calls()] == [call.uniqueid for call in again.all_calls()]
    assert first.all_calls() == again.all_calls()
    assert first.all_calls() != other.all_calls()


def test_scale_knob_puts_more_than_the_cap_in_one_day() -> None:
    scenario = RingostatScenario(days=1, calls_per_day=ROW_CAP + 500)
    assert len(scenario.all_calls()) == ROW_CAP + 500
    assert len({call.uniqueid for call in scenario.all_calls()}) == ROW_CAP + 500


def test_rows_hold_only_requested_fields_in_requested_order(sim: RingostatSimulator) -> None:
    asked = ["uniqueid", "billsec", "calldate", "pool_name", "recording"]
    answer = rows(sim, {**FIRST_DAY, "fields": ",".join(asked)})
    assert answer
    for row in answer:
        assert list(row) == [name for name in asked if name in row]
    # no recording for a missed call: the key is left out (B2.4)
    assert any("recording" not in row for row in answer)
    assert any("recording" in row for row in answer)


def test_numeric_types_are_mixed_as_documented(sim: RingostatSimulator) -> None:
    row = rows(sim, {**FIRST_DAY, "fields": "waittime,duration_ms,has_recording,billsec,duration,call_counter"})[0]
    assert isinstance(row["waittime"], str) and row["waittime"].isdigit()
    assert isinstance(row["duration_ms"], str) and isinstance(row["has_recording"], str)
    assert all(isinstance(row[name], int) for name in ("billsec", "duration", "call_counter"))
    assert int(row["duration_ms"]) == row["duration"] * 1000


def test_every_documented_and_newer_field_is_accepted(sim: RingostatSimulator) -> None:
    answer = rows(sim, {**FIRST_DAY, "fields": ",".join(DOCUMENTED_FIELDS + NEWER_FIELDS)})
    assert "refferrer" in {name for row in answer for name in row}


def test_calldate_carries_the_project_offset() -> None:
    summer = RingostatSimulator(RingostatScenario(days=1), auth_key=KEY)
    winter = RingostatSimulator(RingostatScenario(days=1, start_date=date(2024, 1, 10)), auth_key=KEY)
    assert rows(summer, {**FIRST_DAY, "fields": "calldate"})[0]["calldate"].endswith("+0300")
    january = {"from": "2024-01-10 00:00:00", "to": "2024-01-11 00:00:00", "fields": "calldate"}
    assert rows(winter, january)[0]["calldate"].endswith("+0200")


def test_call_card_names_the_project_number(sim: RingostatSimulator) -> None:
    row = rows(sim, {**FIRST_DAY, "fields": "uniqueid,call_card"})[0]
    assert row["call_card"].endswith(f"/card/{row['uniqueid']}/?project_id={sim.scenario.project_id}")


def test_static_pool_calls_have_no_utm_and_truth_agrees(sim: RingostatSimulator) -> None:
    truth = sim.scenario.truth()
    answer = rows(sim, {**ALL_DAYS, "fields": "uniqueid,pool_name,utm_source,utm_campaign,call_counter"})
    assert {row["uniqueid"] for row in answer} == set(truth)
    for row in answer:
        fact = truth[row["uniqueid"]]
        assert row["pool_name"] == fact.pool
        assert fact.unique == (row["call_counter"] == 1)
        if fact.static:
            assert "utm_source" not in row and fact.utm_source is None
        else:
            assert row["utm_source"] == fact.utm_source and row["utm_campaign"] == fact.utm_campaign
    assert any(fact.static for fact in truth.values()) and any(not fact.static for fact in truth.values())


def test_repeat_callers_count_up_and_flag_repeats(sim: RingostatSimulator) -> None:
    answer = rows(sim, {**ALL_DAYS, "fields": "caller,call_counter,repeated_flag,proper_flag,disposition"})
    counters: dict[str, int] = {}
    for row in answer:
        counters[row["caller"]] = counters.get(row["caller"], 0) + 1
        assert row["call_counter"] == counters[row["caller"]]
        assert row["repeated_flag"] == int(row["call_counter"] > 1)  # all within one sale cycle
        assert row["proper_flag"] == int(row["disposition"] == "PROPER")
    assert any(row["disposition"] == "REPEATED" for row in answer)


def test_window_is_half_open_unless_to_is_inclusive(sim: RingostatSimulator) -> None:
    first = rows(sim, {**FIRST_DAY, "fields": "calldate"})[0]["calldate"]
    at_first = first[:10] + " " + first[11:19]
    assert rows(sim, {"from": "2024-06-01 00:00:00", "to": at_first, "fields": "calldate"}) == []
    sim.knobs.to_inclusive = True
    assert rows(sim, {"from": "2024-06-01 00:00:00", "to": at_first, "fields": "calldate"}) == [{"calldate": first}]


def test_window_zone_knob_reads_from_and_to_in_utc(sim: RingostatSimulator) -> None:
    kyiv_day = {row["uniqueid"] for row in rows(sim, {**FIRST_DAY, "fields": "uniqueid"})}
    sim.knobs.window_tz = "UTC"
    utc_day = {"from": "2024-05-31 21:00:00", "to": "2024-06-01 21:00:00", "fields": "uniqueid"}
    assert {row["uniqueid"] for row in rows(sim, utc_day)} == kyiv_day


def test_missing_from_means_24_hours_before_to(sim: RingostatSimulator) -> None:
    both = rows(sim, {**FIRST_DAY, "fields": "uniqueid"})
    assert rows(sim, {"to": FIRST_DAY["to"], "fields": "uniqueid"}) == both
    assert rows(sim, {"from": "2024-06-01", "to": "2024-06-02", "fields": "uniqueid"}) == both


def test_filters_by_value_and_by_base64_alternatives(sim: RingostatSimulator) -> None:
    everything = rows(sim, {**ALL_DAYS, "fields": "disposition,pool_name"})
    olx = rows(sim, {**ALL_DAYS, "fields": "disposition,pool_name", "filters": "pool_name=OLX static"})
    assert olx == [row for row in everything if row["pool_name"] == "OLX static"]
    wanted = base64.b64encode(b"no answer|busy").decode()  # lower case on purpose: the match ignores case
    missed = rows(sim, {**ALL_DAYS, "fields": "disposition,pool_name", "filters": f"disposition~{wanted}"})
    assert missed == [row for row in everything if row["disposition"] in ("NO ANSWER", "BUSY")]
    assert missed


def test_filter_on_an_unknown_field_is_refused(sim: RingostatSimulator) -> None:
    response = get(sim, {**FIRST_DAY, "filters": "colour=red"})
    assert (response.status, response.body) == (400, "incorrect field: colour")


def test_merge_keeps_one_row_per_caller_and_day_or_per_caller(sim: RingostatSimulator) -> None:
    fields = {"fields": "caller,calldate"}
    plain = rows(sim, {**ALL_DAYS, **fields, "merge": "0"})
    per_day = rows(sim, {**ALL_DAYS, **fields, "merge": "1"})
    per_caller = rows(sim, {**ALL_DAYS, **fields, "merge": "2"})
    assert len(per_caller) == len({row["caller"] for row in plain}) < len(per_day) < len(plain)
    assert len(per_day) == len({(row["caller"], row["calldate"][:10]) for row in plain})


def test_order_desc_reverses_the_log(sim: RingostatSimulator) -> None:
    ascending = rows(sim, {**FIRST_DAY, "fields": "uniqueid", "order": "calldate asc"})
    assert rows(sim, {**FIRST_DAY, "fields": "uniqueid", "order": "calldate desc"}) == ascending[::-1]
    assert get(sim, {**FIRST_DAY, "order": "caller asc"}).status == 400


def test_csv_export_is_semicolon_delimited(sim: RingostatSimulator) -> None:
    response = get(sim, {**FIRST_DAY, "export_type": "csv", "fields": "uniqueid,pool_name,utm_source"})
    assert response.status == 200 and response.content_type.startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(response.body), delimiter=";"))
    assert [row["uniqueid"] for row in table] == [
        row["uniqueid"] for row in rows(sim, FIRST_DAY | {"fields": "uniqueid"})
    ]
    assert list(table[0]) == ["uniqueid", "pool_name", "utm_source"]


def test_auth_key_header_is_required(sim: RingostatSimulator) -> None:
    assert get(sim, FIRST_DAY, key=None).status == 401
    assert get(sim, FIRST_DAY, key="someone-else").body == {"error": "Unauthorized", "message": "Invalid Auth-key"}
    sim.knobs.auth_error_format = "text"
    assert (get(sim, FIRST_DAY, key="someone-else").status, get(sim, FIRST_DAY, key="x").body) == (401, "Unauthorized")


def test_key_in_the_query_as_well_gets_the_gateway_400_page(sim: RingostatSimulator) -> None:
    response = get(sim, {**FIRST_DAY, "auth": KEY})
    assert response.status == 400 and "nginx" in response.body and response.content_type == "text/html"


def test_revoked_key_gets_the_revoked_status(sim: RingostatSimulator) -> None:
    sim.knobs.revoked_keys = frozenset({"old-key"})
    assert get(sim, FIRST_DAY, key="old-key").status == 403


@pytest.mark.parametrize(("mode", "status"), [("400", 400), ("200-text", 200)])
def test_unknown_and_rejected_fields(sim: RingostatSimulator, mode: str, status: int) -> None:
    sim.knobs.unknown_field_mode = mode  # type: ignore[assignment]
    unknown = get(sim, {**FIRST_DAY, "fields": "calldate,tags"})
    assert unknown.status == status and "field: tags" in unknown.body
    assert get(sim, {**FIRST_DAY, "fields": "calldate,employee_fio"}).status == 200
    sim.knobs.rejected_fields = frozenset({"employee_fio"})
    rejected = get(sim, {**FIRST_DAY, "fields": "calldate,employee_fio"})
    assert rejected.status == status and "field: employee_fio" in rejected.body


def test_cap_truncates_silently_or_refuses() -> None:
    sim = RingostatSimulator(RingostatScenario(days=1, calls_per_day=ROW_CAP + 100), auth_key=KEY)
    assert len(rows(sim, {**FIRST_DAY, "fields": "uniqueid"})) == ROW_CAP
    sim.knobs.cap_mode = "error"
    refused = get(sim, {**FIRST_DAY, "fields": "uniqueid"})
    assert refused.status == 400 and f"more than {ROW_CAP} calls" in refused.body
    assert len(rows(sim, {"from": "2024-06-01 00:00:00", "to": "2024-06-01 12:00:00", "fields": "uniqueid"})) < ROW_CAP


def test_empty_result_is_an_array_or_an_empty_body(sim: RingostatSimulator) -> None:
    before = {"from": "2020-01-01 00:00:00", "to": "2020-01-02 00:00:00"}
    assert get(sim, before).body == []
    sim.knobs.empty_result = "empty-body"
    response = get(sim, before)
    assert response.status == 200 and response.encoded() == b""


def test_rate_limit_knob_answers_429_with_retry_after() -> None:
    sim = RingostatSimulator(RingostatScenario(days=1), auth_key=KEY, knobs=RingostatKnobs(rate_limit=(2, 60.0)))
    assert [get(sim, FIRST_DAY).status for _ in range(2)] == [200, 200]
    limited = get(sim, FIRST_DAY)
    assert limited.status == 429 and 0 < int(limited.headers["Retry-After"]) <= 60


def test_projects_endpoint_is_off_unless_configured(sim: RingostatSimulator) -> None:
    assert get(sim, {}, path="/projects/list").status == 404
    listing = RingostatSimulator(auth_key=KEY, knobs=RingostatKnobs(projects_endpoint="/projects/list"))
    assert get(listing, {}, path="/projects/list").body == [listing.scenario.project_id]
    assert get(listing, {}, path="/projects/list", key="bad-key").status == 401


def test_dst_fall_back_day_has_25_hours_of_calls() -> None:
    scenario = RingostatScenario(days=1, start_date=date(2024, 10, 27), calls_per_day=500)
    calls = scenario.all_calls()
    assert calls[-1].epoch - calls[0].epoch > timedelta(hours=24).total_seconds()
