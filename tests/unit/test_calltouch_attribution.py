"""Calltouch rows → conversions (calltouch-amocrm.md A4 calls, A5 requests): marks, static channels, time,
flags, tags, the KPI modes; and the KPI duplication warning against the other call trackers (seed 001)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from leadhub.attribution import calltouch
from leadhub.attribution.rules import PLACEHOLDER, AttributionRules
from leadhub.connectors.registry import spec_for
from leadhub.models.connector import Connector
from leadhub.models.conversion import UNDEFINED_CAMPAIGN, Conversion, Kind
from leadhub.models.settings import Vendor
from leadhub.setup.duplication import duplication_warnings

MOSCOW = ZoneInfo("Europe/Moscow")
BILLBOARD = {
    "parameter": "phone_number",
    "value": "74957770001",
    "source": "Наружная реклама",
    "traffic_type": "offline",
    "campaign": "Билборды",
}


def rules(**settings: Any) -> AttributionRules:
    return AttributionRules.from_settings(
        spec_for(Vendor.CALLTOUCH).validate_settings(settings), project_timezone="Asia/Yekaterinburg"
    )


def call(**fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "callId": 738_000_000_017,
        "date": "05/03/2024 9:41:07",
        "timestamp": 1709620867,  # 2024-03-05 06:41:07 UTC
        "phoneNumber": "74951234567",
        "successful": True,
        "uniqueCall": True,
        "targetCall": False,
        "source": "yandex",
        "medium": "cpc",
        "keyword": "купить диван",
        "utmSource": "yandex",
        "utmMedium": "cpc",
        "utmCampaign": "sofas_msk",
        "utmContent": "ad1",
        "utmTerm": "диван",
        "sessionId": 987654321,
        "clientId": "111.222",
        "duration": 87,
    }
    return {**row, **fields}


def request(**fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "date": 1709620867123,
        "dateStr": "05/03/2024 09:41:07",
        "requestId": 42,
        "subject": "Заявка с сайта",
        "session": {
            "sessionId": 555,
            "source": "google",
            "medium": "cpc",
            "utmSource": "google",
            "utmMedium": "cpc",
            "utmCampaign": "brand",
            "utmContent": None,
            "utmTerm": None,
            "guaClientId": "1.2",
        },
        "uniqueRequest": True,
        "targetRequest": "true",
        "RequestTags": [{"category": "Теги", "type": "MANUAL", "names": ["Квал"]}],
    }
    return {**row, **fields}


def calls(rows: list[dict[str, Any]], **settings: Any) -> list[Conversion]:
    return list(calltouch.normalise_calls(rows, rules(**settings), "52011", vendor_zone=MOSCOW))


def requests(rows: list[dict[str, Any]], **settings: Any) -> list[Conversion]:
    return list(calltouch.normalise_requests(rows, rules(**settings), "52011", vendor_zone=MOSCOW))


def test_a_call_takes_calltouch_s_source_and_the_utm_campaign_dated_in_the_project_zone() -> None:
    [conversion] = calls([call()])

    assert (conversion.vendor, conversion.stream, conversion.vendor_id, conversion.kind) == (
        "calltouch",
        "calls",
        "738000000017",
        Kind.CALL,
    )
    assert (conversion.source, conversion.traffic_type, conversion.campaign) == ("yandex", "cpc", "sofas_msk")
    assert (conversion.content, conversion.keyword) == ("ad1", "купить диван")
    assert conversion.occurred_at == datetime(2024, 3, 5, 6, 41, 7, tzinfo=UTC)
    assert conversion.local_date == date(2024, 3, 5)
    assert (conversion.visit_id, conversion.ga_client_id, conversion.inquiry) == ("987654321", "111.222", True)
    assert conversion.extra["duration"] == 87 and conversion.extra["phone_number"] == "74951234567"
    assert Conversion.model_validate(conversion.model_dump()) == conversion


def test_without_calltouch_s_own_source_the_utm_marks_stand_in() -> None:
    [conversion] = calls([call(source=None, medium=None, keyword="", utmCampaign="(not set)")])

    assert (conversion.source, conversion.traffic_type, conversion.campaign) == ("yandex", "cpc", UNDEFINED_CAMPAIGN)
    assert conversion.keyword == "диван"


def test_without_a_timestamp_the_local_date_text_is_read_in_the_calltouch_zone_unpadded_hour_and_all() -> None:
    [conversion] = calls([call(timestamp=None, date="05/03/2024 9:41:07")])

    assert conversion.occurred_at == datetime(2024, 3, 5, 6, 41, 7, tzinfo=UTC)


def test_rows_without_an_id_or_a_time_are_rejected_with_the_reason() -> None:
    reasons: list[str] = []
    rows = [call(callId=None), call(timestamp=None, date="5 March"), call()]

    kept = list(
        calltouch.normalise_calls(
            rows, rules(), "52011", vendor_zone=MOSCOW, rejected=lambda _, why: reasons.append(why)
        )
    )

    assert len(kept) == 1 and len(reasons) == 2


@pytest.mark.parametrize("parameter", ["phoneNumber", "phone_number", "Номер", "tracking number"])
def test_a_static_number_takes_its_channel_s_marks(parameter: str) -> None:
    static = call(phoneNumber="74957770001", source="billboard", medium="offline", utmSource=None, utmCampaign=None)

    [matched, dynamic] = calls([static, call()], static_channels=[{**BILLBOARD, "parameter": parameter}])

    assert (matched.source, matched.traffic_type, matched.campaign, matched.static_channel) == (
        "Наружная реклама",
        "offline",
        "Билборды",
        True,
    )
    assert (dynamic.source, dynamic.static_channel) == ("yandex", False)


def test_a_static_number_with_no_channel_keeps_calltouch_s_source_in_the_undefined_campaign() -> None:
    [conversion] = calls([call(phoneNumber="74957770002", source="avito", medium="classified", utmCampaign=None)])

    assert (conversion.source, conversion.traffic_type, conversion.campaign) == (
        "avito",
        "classified",
        UNDEFINED_CAMPAIGN,
    )


@pytest.mark.parametrize(("sent", "unique"), [(True, True), (False, False), ("true", True), ("False", False)])
def test_flags_come_as_booleans_or_strings(sent: Any, unique: bool) -> None:
    [conversion] = calls([call(uniqueCall=sent)])

    assert conversion.unique is unique


def test_the_unique_mode_keeps_calltouch_s_unique_leads_only() -> None:
    rows = [call(callId=1, uniqueCall=True), call(callId=2, uniqueCall="false"), call(callId=3)]
    del rows[2]["uniqueCall"]  # no flag: a first contact

    assert [c.vendor_id for c in calls(rows, kpi_mode="unique")] == ["1", "3"]


def test_the_tagged_mode_keeps_leads_carrying_a_tag_s_name() -> None:
    tagged = call(callId=1, callTags=[{"category": "Теги", "type": "MANUAL", "names": ["Продажа", " Квал "]}])
    untagged = call(callId=2, callTags=[])

    [kept] = calls([tagged, untagged], kpi_mode="tagged", tags=["Квал"])

    assert kept.vendor_id == "1" and kept.tags == ("Продажа", "Квал")


def test_a_request_is_a_form_with_its_session_s_marks_time_in_milliseconds_and_request_tags() -> None:
    [conversion] = requests([request()])

    assert (conversion.stream, conversion.vendor_id, conversion.kind, conversion.inquiry) == (
        "requests",
        "42",
        Kind.FORM,
        True,
    )
    assert (conversion.source, conversion.traffic_type, conversion.campaign) == ("google", "cpc", "brand")
    assert conversion.occurred_at == datetime(2024, 3, 5, 6, 41, 7, 123000, tzinfo=UTC)
    assert (conversion.tags, conversion.visit_id, conversion.ga_client_id) == (("Квал",), "555", "1.2")
    assert conversion.extra == {"subject": "Заявка с сайта", "target": True}


def test_a_request_without_a_session_or_date_has_no_marks_and_its_date_text() -> None:
    [conversion] = requests([request(session=None, date=None)])

    assert (conversion.source, conversion.traffic_type, conversion.campaign) == (
        PLACEHOLDER,
        PLACEHOLDER,
        UNDEFINED_CAMPAIGN,
    )
    assert conversion.occurred_at == datetime(2024, 3, 5, 6, 41, 7, tzinfo=UTC)


def test_a_parameter_no_call_has_is_refused_and_one_field_named_twice_repeats() -> None:
    with pytest.raises(ValueError, match="not a field of a Calltouch call"):
        spec_for(Vendor.CALLTOUCH).validate_settings({"static_channels": [{**BILLBOARD, "parameter": "roistat"}]})
    with pytest.raises(ValueError, match="repeats row 1"):
        spec_for(Vendor.CALLTOUCH).validate_settings(
            {"static_channels": [BILLBOARD, {**BILLBOARD, "parameter": "phoneNumber"}]}
        )


def connector(vendor: Vendor, settings: dict[str, Any] | None = None) -> Connector:
    return Connector(
        id=f"c-{vendor.value}",
        account_id="a",
        project_id="p",
        vendor=vendor,
        name=vendor.value.title(),
        vendor_account_id="1",
        settings=settings or {},
        created_at="2026-01-01T00:00:00Z",
        updated_at="2026-01-01T00:00:00Z",
    )


def test_calltouch_calls_beside_another_call_tracker_s_are_warned_of_and_its_forms_beside_roistat_s() -> None:
    warnings = duplication_warnings([connector(Vendor.CALLTOUCH), connector(Vendor.RINGOSTAT)])
    [calls_twice] = warnings["c-calltouch"]
    assert "calls come from several connectors" in calls_twice and "ringostat" in calls_twice

    with_roistat = duplication_warnings([connector(Vendor.CALLTOUCH), connector(Vendor.ROISTAT)])
    assert len(with_roistat["c-calltouch"]) == 2  # calls, and form leads (Roistat's proxy leads)

    requests_off = connector(Vendor.CALLTOUCH, {"streams": {"requests": False}})
    assert len(duplication_warnings([requests_off, connector(Vendor.ROISTAT)])["c-calltouch"]) == 1
