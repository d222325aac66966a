"""Issue 10, the Roistat side and the attribution rules, one defect at a time (the truth harness,
tests/integration/test_roistat_truth.py, checks them together through the engine)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from leadhub.attribution import ringostat as ringostat_attribution
from leadhub.attribution import roistat as attribution
from leadhub.attribution.rules import AttributionRules, FirstContactIndex, ProjectClock, trim_to_window
from leadhub.connectors import ringostat as ringostat_connector
from leadhub.connectors import roistat as roistat_connector
from leadhub.connectors.ringostat import RingostatSettings
from leadhub.connectors.roistat import RoistatSettings
from leadhub.models.conversion import deal_revenues
from leadhub.settings import get_settings
from simulators.roistat import DEFAULT_API_KEY, PROJECT_ID_BASE, RoistatKnobs, RoistatSimulator

MOSCOW = "Europe/Moscow"


def rules(**settings: Any) -> AttributionRules:
    return AttributionRules.from_settings(RoistatSettings(**settings), project_timezone=MOSCOW)


def channel(parameter: str, value: str, campaign: str = "C") -> dict[str, str]:
    return {"parameter": parameter, "value": value, "source": "S", "traffic_type": "T", "campaign": campaign}


# --- defect 2: every stream trims to its window ------------------------------------------------------


def test_rows_outside_the_window_are_trimmed_by_their_instant() -> None:
    start, end = datetime(2024, 3, 1, 21, tzinfo=UTC), datetime(2024, 3, 2, 21, tzinfo=UTC)
    rows = [
        {"id": "before", "date": "2024-03-01T20:59:59+0000"},
        {"id": "first", "date": "2024-03-01T21:00:00+0000"},
        {"id": "offset", "date": "2024-03-02T23:59:59+03:00"},  # 20:59:59 UTC: in
        {"id": "naive", "date": "2024-03-02 12:00:00"},  # UTC (A5): in
        {"id": "end", "date": "2024-03-02T21:00:00+0000"},
        {"id": "unreadable", "date": "yesterday"},
    ]
    kept = trim_to_window(rows, "date", start, end, ProjectClock(ZoneInfo(MOSCOW)))
    assert [row["id"] for row in kept] == ["first", "offset", "naive"]


# --- defect 5: first contacts across days and streams ---------------------------------------------------


def test_a_caller_who_later_fills_a_form_is_unique_once() -> None:
    contacts = FirstContactIndex()
    call = {"id": "1", "caller": "+7 916 123-45-67", "date": "2024-03-01T09:00:00+0000"}
    form = {"id": "9", "phone": "89161234567", "email": None, "creation_date": "2024-03-03 10:00:00"}
    rule = rules()
    [the_call] = attribution.normalise_calls([call], rule, "1", contacts=contacts)
    [the_form] = attribution.normalise_proxy_leads([form], rule, "1", contacts=contacts)
    assert (the_call.unique, the_form.unique) == (True, False)


def test_a_form_before_a_call_of_the_same_day_makes_the_call_a_repeat_whatever_order_they_are_read_in() -> None:
    contacts = FirstContactIndex()
    form = {"id": "9", "phone": "79161234567", "creation_date": "2024-03-01 08:00:00"}
    call = {"id": "1", "caller": "79161234567", "date": "2024-03-01T09:00:00+0000"}
    rule = rules(kpi_mode="unique")
    list(attribution.normalise_proxy_leads([form], rule, "1", contacts=contacts))
    assert list(attribution.normalise_calls([call], rule, "1", contacts=contacts)) == []
    # read again (a lookback), the form is still the first contact
    assert [c.vendor_id for c in attribution.normalise_proxy_leads([form], rule, "1", contacts=contacts)] == ["9"]


def test_forms_without_a_phone_are_told_apart_by_e_mail() -> None:
    forms = [
        {"id": "1", "phone": None, "email": "Anna@Example.ru ", "creation_date": "2024-03-01 08:00:00"},
        {"id": "2", "phone": "", "email": "anna@example.ru", "creation_date": "2024-03-02 08:00:00"},
        {"id": "3", "phone": None, "email": "boris@example.ru", "creation_date": "2024-03-02 09:00:00"},
    ]
    kept = attribution.normalise_proxy_leads(forms, rules(kpi_mode="unique"), "1")
    assert [conversion.vendor_id for conversion in kept] == ["1", "3"]


# --- defect 4: an artificial proxy lead is no inquiry -------------------------------------------------


def test_a_proxy_lead_made_for_an_existing_deal_is_kept_but_is_no_inquiry() -> None:
    deal = {"id": "500", "creation_date": "2024-03-01T10:00:00+0000"}
    artificial = {"id": "1", "phone": "79160000001", "creation_date": "2024-03-01 10:05:00", "order": deal}
    genuine = {"id": "2", "phone": "79160000002", "creation_date": "2024-03-01 09:55:00", "order": deal}
    conversions = {c.vendor_id: c for c in attribution.normalise_proxy_leads([artificial, genuine], rules(), "1")}
    assert (conversions["1"].inquiry, conversions["1"].unique, conversions["1"].extra["artificial"]) == (
        False,
        False,
        True,
    )
    assert conversions["2"].inquiry is True


# --- defect 6: tags ------------------------------------------------------------------------------------


def test_tags_that_differ_only_by_spaces_are_one_tag() -> None:
    with pytest.raises(ValidationError, match="tags repeat"):
        RoistatSettings(kpi_mode="tagged", tags=["квал", " квал "])
    assert RoistatSettings(kpi_mode="tagged", tags=[" квал "]).tags == ["квал"]


# --- defect 7: static channels ----------------------------------------------------------------------------


def test_roistat_and_marker_naming_one_value_are_one_channel() -> None:
    with pytest.raises(ValidationError, match="repeats row 1"):
        RoistatSettings(static_channels=[channel("roistat", "avito"), channel(" Marker", "avito")])
    RoistatSettings(static_channels=[channel("roistat", "avito"), channel("utm_source", "avito")])


def test_an_unknown_parameter_is_a_settings_error() -> None:
    with pytest.raises(ValidationError, match=r"'Канал' .* is not one Roistat sets on a static channel"):
        RoistatSettings(static_channels=[channel("Канал", "avito")])


def test_deals_and_proxy_leads_carrying_a_marker_take_its_static_channel() -> None:
    rule = rules(static_channels=[channel("marker", "avito", campaign="Авито")])
    deal = {"id": "1", "creation_date": "2024-03-01T10:00:00+0000", "roistat": "avito", "status": {"type": "paid"}}
    lead = {"id": "2", "creation_date": "2024-03-01 10:00:00", "roistat": "avito"}
    unknown = {"id": "3", "creation_date": "2024-03-01 10:00:00", "roistat": "billboard"}
    [order] = attribution.normalise_orders([deal], [], rule, "1")
    form, other = attribution.normalise_proxy_leads([lead, unknown], rule, "1")
    assert (order.campaign, order.static_channel, order.visit_id) == ("Авито", True, None)
    assert (form.campaign, form.static_channel) == ("Авито", True)
    assert (other.source, other.campaign) == ("billboard", "Неизвестная кампания (Undefined)")


# --- defect 8: the Undefined label is each vendor's ---------------------------------------------------------


def test_each_vendor_declares_its_undefined_label() -> None:
    assert roistat_connector.SPEC.undefined_campaign == "Неизвестная кампания (Undefined)"
    assert ringostat_connector.SPEC.undefined_campaign == "Неизвестная кампания"
    ringostat = AttributionRules.from_settings(
        RingostatSettings(), project_timezone=MOSCOW, undefined_campaign=ringostat_connector.SPEC.undefined_campaign
    )
    row = {"uniqueid": "1", "calldate": "2024-03-01 10:00:00+0300", "utm_source": "google"}
    [call] = ringostat_attribution.normalise_calls([row], ringostat, "1")
    assert call.campaign == "Неизвестная кампания"


# --- defect 9: revenue is the paid deals, forecast adds those in progress ----------------------------------


@pytest.mark.parametrize(
    ("status_type", "expected"),
    [("paid", (100.0, 100.0)), ("progress", (0.0, 100.0)), ("canceled", (0.0, 0.0)), (None, (0.0, 0.0))],
)
def test_deal_revenue_follows_the_status_group(status_type: str | None, expected: tuple[float, float]) -> None:
    deal = {"id": "1", "creation_date": "2024-03-01T10:00:00+0000", "revenue": 100, "status": {"type": status_type}}
    [order] = attribution.normalise_orders([deal], [], rules(), "1")
    assert (order.revenue, order.forecast_revenue) == expected == deal_revenues(100, order.status_type)
    assert order.extra["amount"] == 100.0
    assert order.inquiry is False


# --- defect 11: naive vendor times -------------------------------------------------------------------------


def test_a_naive_time_is_read_in_the_declared_zone_and_never_moves() -> None:
    utc = ProjectClock(ZoneInfo(MOSCOW))
    yekaterinburg = ProjectClock(ZoneInfo(MOSCOW), ZoneInfo("Asia/Yekaterinburg"))
    assert utc.read("2024-03-01 22:30:00") == (datetime(2024, 3, 1, 22, 30, tzinfo=UTC), datetime(2024, 3, 2).date())
    for _ in range(2):  # the hour cache gives the same answer
        assert yekaterinburg.read("2024-03-02 01:30:00") == (
            datetime(2024, 3, 1, 20, 30, tzinfo=UTC),
            datetime(2024, 3, 1).date(),
        )


# --- defect 1: connect-time check of the modules ------------------------------------------------------------


@pytest.mark.parametrize(
    ("off", "says"),
    [({"calltracking"}, "call tracking is off in this Roistat project"), ({"clients"}, "«Управление клиентами»")],
)
def test_the_check_says_which_module_is_off(off: set[str], says: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with RoistatSimulator(knobs=RoistatKnobs(disabled_options={PROJECT_ID_BASE: off})) as simulator:
        monkeypatch.setenv("ROISTAT_BASE_URL", simulator.api_url)
        get_settings.cache_clear()
        try:
            note = roistat_connector.check({"api_key": DEFAULT_API_KEY}).result.note
        finally:
            monkeypatch.delenv("ROISTAT_BASE_URL")
            get_settings.cache_clear()
    assert note is not None and says in note and f"project {PROJECT_ID_BASE}" in note
    assert f"project {PROJECT_ID_BASE + 1}" not in note
