"""Normalisation and attribution, as a marketer reads the connector pages (seeds 000, 001) and
roistat-ringostat.md A6 / B2-B3: rows from the simulators in, report conversions out, checked
against what the simulators know each call really is (`truth()`)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadhub.attribution import ringostat as ringostat_attribution
from leadhub.attribution import roistat as roistat_attribution
from leadhub.attribution.rules import PLACEHOLDER, AttributionRules, FirstContactIndex, ProjectClock, row_tags
from leadhub.connectors.amocrm import AmoCrmSettings
from leadhub.connectors.ringostat import RingostatSettings
from leadhub.connectors.roistat import RoistatSettings
from leadhub.models.conversion import (
    NOT_COUNTED,
    UNDEFINED_CAMPAIGN,
    Conversion,
    Kind,
    conversion_fields,
    conversion_json,
    stored_rows,
)
from leadhub.models.settings import KpiMode, StaticChannel
from leadhub.store.partitions import gzip_bytes, json_lines
from leadhub.vendors import roistat as roistat_client
from leadhub.vendors.ringostat import DEFAULT_FIELDS as RINGOSTAT_FIELDS
from simulators.base import SimRequest
from simulators.ringostat import CallTruth as RingostatTruth
from simulators.ringostat import RingostatScenario, RingostatSimulator
from simulators.roistat import (
    DEFAULT_API_KEY,
    CallTruth,
    RoistatKnobs,
    RoistatScenario,
    RoistatSimulator,
)

MOSCOW = "Europe/Moscow"
KYIV = "Europe/Kyiv"
PROJECT = 10001
RINGOSTAT_ACCOUNT = "11111"
NO_LIMITS = RoistatKnobs(
    project_per_second=None,
    project_per_hour=None,
    orders_per_minute=None,
    orders_extend_per_minute=None,
    orders_extend_per_minute_over_100=None,
    orders_extend_per_minute_over_1000=None,
)

#: The simulator's static channels as a user would type them into the connector (seed 000).
ROISTAT_CHANNELS = [
    StaticChannel(parameter="roistat", value="avito", source="Авито", traffic_type="Классифайды", campaign="Авито"),
    StaticChannel(parameter="roistat", value="2gis", source="2ГИС", traffic_type="Каталоги", campaign="2ГИС карточка"),
    StaticChannel(parameter="roistat", value="оффлайн", source="Оффлайн", traffic_type="Наружка", campaign="Листовки"),
]
RINGOSTAT_CHANNELS = [
    StaticChannel(parameter="pool", value="OLX static", source="OLX", traffic_type="Классифайды", campaign="OLX"),
    StaticChannel(
        parameter="pool", value="Billboard Kyiv", source="Билборд", traffic_type="Наружка", campaign="Билборд"
    ),
]


# --- rows from the simulators ----------------------------------------------------------------------


def roistat_rules(**settings: Any) -> AttributionRules:
    return AttributionRules.from_settings(RoistatSettings(**settings), project_timezone=MOSCOW)


def ringostat_rules(**settings: Any) -> AttributionRules:
    return AttributionRules.from_settings(RingostatSettings(**settings), project_timezone=KYIV)


@cache
def roistat_sim() -> RoistatSimulator:
    return RoistatSimulator(RoistatScenario(), knobs=NO_LIMITS)


def roistat_answer(sim: RoistatSimulator, method: str, path: str, body: Any = None, **query: str) -> dict[str, Any]:
    request = SimRequest(
        method,
        f"/api/v1{path}",
        {"project": [str(PROJECT)], **{name: [value] for name, value in query.items()}},
        {"Api-key": DEFAULT_API_KEY},
        json.dumps(body).encode() if body is not None else b"",
    )
    answer = sim.dispatch(request).body
    assert answer["status"] == "success", answer
    return answer


def roistat_list(sim: RoistatSimulator, path: str, key: str = "data", **body: Any) -> list[dict[str, Any]]:
    """Every row of a list method, paged as the client pages, through the simulator's own handler."""
    rows: list[dict[str, Any]] = []
    while True:
        answer = roistat_answer(sim, "POST", path, {**body, "limit": 1000, "offset": len(rows)})
        rows.extend(answer[key])
        if not answer[key] or len(rows) >= answer["total"]:
            return rows


@cache
def roistat_calls_json() -> str:
    # `extend: visit` and the date order: what the Leadhub client asks for (A6.1)
    return json.dumps(
        roistat_list(roistat_sim(), "/project/calltracking/call/list", extend=["visit"], sort=["date", "asc"])
    )


def roistat_calls() -> list[dict[str, Any]]:
    return json.loads(roistat_calls_json())


def roistat_truth() -> list[CallTruth]:
    return roistat_sim().truth(PROJECT)


@cache
def ringostat_sim() -> RingostatSimulator:
    return RingostatSimulator(RingostatScenario(days=3, calls_per_day=300), auth_key="k")


@cache
def ringostat_calls_json() -> str:
    query = {
        "export_type": ["json"],
        "from": ["2024-06-01 00:00:00"],
        "to": ["2024-06-04 00:00:00"],
        "fields": [",".join(RINGOSTAT_FIELDS)],
        "order": ["calldate asc"],
    }
    answer = ringostat_sim().dispatch(SimRequest("GET", "/calls/list", query, {"Auth-key": "k"}, b""))
    assert answer.status == 200 and len(answer.body) == 900
    return json.dumps(answer.body)


def ringostat_calls() -> list[dict[str, Any]]:
    return json.loads(ringostat_calls_json())


def ringostat_truth() -> dict[str, RingostatTruth]:
    return ringostat_sim().scenario.truth()


def roistat_conversions(rules: AttributionRules, rows: list[dict[str, Any]] | None = None) -> list[Conversion]:
    return list(roistat_attribution.normalise_calls(roistat_calls() if rows is None else rows, rules, str(PROJECT)))


def ringostat_conversions(rules: AttributionRules, rows: list[dict[str, Any]] | None = None) -> list[Conversion]:
    calls = ringostat_calls() if rows is None else rows
    return list(ringostat_attribution.normalise_calls(calls, rules, RINGOSTAT_ACCOUNT))


def campaigns_of(conversions: list[Conversion]) -> Counter[str]:
    return Counter(conversion.campaign for conversion in conversions)


def roistat_call(**fields: Any) -> dict[str, Any]:
    """A call row shaped as A6.1 documents it (no visit, no static source unless given)."""
    return {
        "id": "16769",
        "caller": "74957511234",
        "status": "ANSWER",
        "date": "2024-03-01T09:31:01+0000",
        "visit_id": None,
        "order_id": None,
        "static_source": None,
        "visit": None,
        "tags": [],
        **fields,
    }


def static_source(system_name: str, **utm: str | None) -> dict[str, Any]:
    return {"system_name": system_name, "display_name": system_name, "utm_source": None, "utm_medium": None, **utm}


def visit(**utm: str | None) -> dict[str, Any]:
    return {"id": "666", "google_client_id": "1818132860.1451606703", "source": {"system_name": "direct1", **utm}}


def one(conversions: Iterator[Conversion] | list[Conversion]) -> Conversion:
    found = list(conversions)
    assert len(found) == 1, found
    return found[0]


# --- static channels ----------------------------------------------------------------------------------


def test_a_call_from_a_static_channel_lands_in_that_channels_campaign() -> None:
    rules = roistat_rules(static_channels=ROISTAT_CHANNELS)
    by_id = {conversion.vendor_id: conversion for conversion in roistat_conversions(rules)}

    avito_calls = [fact for fact in roistat_truth() if fact.channel == "avito" and fact.kind == "static"]
    assert avito_calls
    for fact in avito_calls:
        conversion = by_id[fact.call_id]
        assert (conversion.source, conversion.traffic_type, conversion.campaign) == ("Авито", "Классифайды", "Авито")
        assert conversion.static_channel


def test_a_static_call_with_no_rule_lands_in_undefined_campaign() -> None:
    rules = roistat_rules(static_channels=ROISTAT_CHANNELS[:1])  # only Авито configured
    by_id = {conversion.vendor_id: conversion for conversion in roistat_conversions(rules)}

    unconfigured = [fact for fact in roistat_truth() if fact.kind == "static" and fact.channel != "avito"]
    assert unconfigured
    for fact in unconfigured:
        assert by_id[fact.call_id].campaign == UNDEFINED_CAMPAIGN == "Неизвестная кампания (Undefined)"
        assert not by_id[fact.call_id].static_channel


def test_an_unconfigured_static_channel_keeps_the_source_it_names_but_not_its_campaign() -> None:
    row = roistat_call(static_source=static_source("avito", utm_source="avito", utm_campaign="avito_listing"))

    conversion = one(roistat_attribution.normalise_calls([row], roistat_rules(), "1"))

    assert (conversion.source, conversion.traffic_type, conversion.campaign) == (
        "avito",
        PLACEHOLDER,
        UNDEFINED_CAMPAIGN,
    )


def test_roistat_campaign_counts_equal_the_simulators_truth() -> None:
    rules = roistat_rules(static_channels=ROISTAT_CHANNELS)
    campaign_of_channel = {channel.value: channel.campaign for channel in ROISTAT_CHANNELS}
    truth = roistat_truth()

    expected = Counter(
        campaign_of_channel[fact.channel]
        if fact.kind == "static" and fact.channel
        else fact.campaign or UNDEFINED_CAMPAIGN
        for fact in truth
    )

    conversions = roistat_conversions(rules)
    assert campaigns_of(conversions) == expected
    assert {conversion.vendor_id for conversion in conversions} == {fact.call_id for fact in truth}
    assert {"brand", "pmax", "Авито", "Листовки", UNDEFINED_CAMPAIGN} <= set(expected)


def test_ringostat_campaign_counts_and_first_contacts_equal_the_simulators_truth() -> None:
    rules = ringostat_rules(static_channels=RINGOSTAT_CHANNELS)
    campaign_of_pool = {channel.value: channel.campaign for channel in RINGOSTAT_CHANNELS}
    truth = ringostat_truth()

    conversions = ringostat_conversions(rules)

    expected = Counter(campaign_of_pool[fact.pool] if fact.static else fact.utm_campaign for fact in truth.values())
    assert campaigns_of(conversions) == expected
    for conversion in conversions:
        fact = truth[conversion.vendor_id]
        assert conversion.unique == fact.unique
        assert conversion.static_channel == fact.static
        assert conversion.occurred_at == fact.calldate.astimezone(UTC)


def test_a_ringostat_static_pool_with_no_rule_lands_in_undefined_campaign() -> None:
    truth = ringostat_truth()

    conversions = ringostat_conversions(ringostat_rules(static_channels=RINGOSTAT_CHANNELS[:1]))

    billboard = [conversion for conversion in conversions if truth[conversion.vendor_id].pool == "Billboard Kyiv"]
    assert billboard
    assert {conversion.campaign for conversion in billboard} == {UNDEFINED_CAMPAIGN}
    assert {conversion.source for conversion in billboard} == {PLACEHOLDER}


def test_a_pool_name_must_be_typed_exactly() -> None:
    sloppy = StaticChannel(parameter="pool", value="olx static", source="OLX", traffic_type="x", campaign="OLX")
    conversions = ringostat_conversions(ringostat_rules(static_channels=[sloppy]))

    assert not any(conversion.static_channel for conversion in conversions)


@pytest.mark.parametrize(
    ("parameter", "source"),
    [
        ("roistat", static_source("billboard")),
        ("Маркер", static_source("billboard")),
        ("utm_source", static_source("offline_1", utm_source="billboard")),
        (" UTM_SOURCE ", static_source("offline_1", utm_source="billboard")),
        ("utm_campaign", static_source("offline_1", utm_campaign="billboard")),
    ],
)
def test_a_roistat_parameter_names_the_static_source_field_its_value_is_compared_with(
    parameter: str, source: dict[str, Any]
) -> None:
    channel = StaticChannel(parameter=parameter, value="billboard", source="Наружка", traffic_type="off", campaign="B")
    rules = roistat_rules(static_channels=[channel])

    conversion = one(roistat_attribution.normalise_calls([roistat_call(static_source=source)], rules, "1"))

    assert (conversion.campaign, conversion.static_channel) == ("B", True)


def test_a_static_value_is_compared_exactly() -> None:
    channel = StaticChannel(parameter="roistat", value="Avito", source="Авито", traffic_type="x", campaign="Авито")
    row = roistat_call(static_source=static_source("avito"))

    conversion = one(roistat_attribution.normalise_calls([row], roistat_rules(static_channels=[channel]), "1"))

    assert conversion.campaign == UNDEFINED_CAMPAIGN


def test_when_two_channels_match_the_first_row_of_the_settings_wins() -> None:
    channels = [
        StaticChannel(parameter="utm_source", value="avito", source="A", traffic_type="x", campaign="first"),
        StaticChannel(parameter="roistat", value="avito", source="B", traffic_type="y", campaign="second"),
    ]
    row = roistat_call(static_source=static_source("avito", utm_source="avito"))

    conversion = one(roistat_attribution.normalise_calls([row], roistat_rules(static_channels=channels), "1"))

    assert conversion.campaign == "first"


def test_static_channel_rules_do_not_touch_dynamic_calls() -> None:
    channel = StaticChannel(parameter="utm_source", value="avito", source="A", traffic_type="x", campaign="Авито")
    row = roistat_call(visit=visit(utm_source="avito", utm_medium="cpc", utm_campaign="flats"))

    conversion = one(roistat_attribution.normalise_calls([row], roistat_rules(static_channels=[channel]), "1"))

    assert (conversion.source, conversion.campaign, conversion.static_channel) == ("avito", "flats", False)


# --- marks of dynamic calls ---------------------------------------------------------------------------


def test_a_dynamic_call_takes_the_utm_marks_of_its_visit() -> None:
    marks = {"utm_source": "yandex", "utm_medium": "cpc", "utm_campaign": "brand", "utm_content": "ad1"}
    row = roistat_call(visit=visit(**marks, utm_term="диван"), visit_id="666")

    conversion = one(roistat_attribution.normalise_calls([row], roistat_rules(), "1"))

    assert (conversion.source, conversion.traffic_type, conversion.campaign) == ("yandex", "cpc", "brand")
    assert (conversion.content, conversion.keyword) == ("ad1", "диван")
    assert (conversion.visit_id, conversion.ga_client_id) == ("666", "1818132860.1451606703")


def test_a_call_with_no_campaign_is_kept_in_undefined_campaign() -> None:
    rows = [
        roistat_call(id="1"),  # Roistat could not match a visit
        roistat_call(id="2", visit=visit(utm_source="google", utm_campaign="(not set)")),
        roistat_call(id="3", visit=visit(utm_source="google", utm_campaign="   ")),
        roistat_call(id="4", visit={"id": "9", "source": None}),
    ]

    conversions = list(roistat_attribution.normalise_calls(rows, roistat_rules(), "1"))

    assert [conversion.campaign for conversion in conversions] == [UNDEFINED_CAMPAIGN] * 4
    assert conversions[0].source == conversions[0].traffic_type == PLACEHOLDER
    assert conversions[1].source == "google"


def test_with_no_utm_source_the_roistat_marker_names_the_source() -> None:
    seo = {"id": "7", "source": {"system_name": "seo", "system_name_by_level": ["seo"], "utm_source": None}}

    conversion = one(roistat_attribution.normalise_calls([roistat_call(visit=seo)], roistat_rules(), "1"))

    assert (conversion.source, conversion.traffic_type, conversion.campaign) == ("seo", PLACEHOLDER, UNDEFINED_CAMPAIGN)


# --- Performance KPI --------------------------------------------------------------------------------


def test_tagged_mode_keeps_only_tagged_calls_and_tags_match_exactly() -> None:
    truth = roistat_truth()
    tagged = roistat_conversions(roistat_rules(kpi_mode="tagged", tags=["целевой"]))

    assert {conversion.vendor_id for conversion in tagged} == {fact.call_id for fact in truth if "целевой" in fact.tags}
    assert all("целевой" in conversion.tags for conversion in tagged)
    assert roistat_conversions(roistat_rules(kpi_mode="tagged", tags=["Целевой"])) == []
    # one normalisation on both sides: a typed tag is trimmed, as Roistat's are
    assert roistat_conversions(roistat_rules(kpi_mode="tagged", tags=[" целевой "])) == tagged


def test_tags_are_kept_as_roistat_sent_them() -> None:
    truth = {fact.call_id: fact.tags for fact in roistat_truth()}

    for conversion in roistat_conversions(roistat_rules()):
        assert conversion.tags == truth[conversion.vendor_id]


@pytest.mark.parametrize("shape", ["strings", "null_if_empty", "objects"])
def test_tagged_mode_reads_every_tags_shape(shape: str) -> None:
    sim = RoistatSimulator(RoistatScenario(days=2, tags_shape=shape), knobs=NO_LIMITS)
    rows = roistat_list(sim, "/project/calltracking/call/list", extend=["visit"])
    rules = roistat_rules(kpi_mode="tagged", tags=["квал"])

    kept = {conversion.vendor_id for conversion in roistat_conversions(rules, rows)}

    assert kept == {fact.call_id for fact in sim.truth(PROJECT) if "квал" in fact.tags}


def test_tags_are_ignored_in_the_all_mode() -> None:
    rules = roistat_rules(kpi_mode="all", tags=["целевой"])

    assert len(roistat_conversions(rules)) == len(roistat_truth())


def test_unique_mode_keeps_first_contacts() -> None:
    first_call_of: dict[str, str] = {}
    for fact in sorted(roistat_truth(), key=lambda fact: (fact.date, int(fact.call_id))):
        first_call_of.setdefault(fact.caller, fact.call_id)

    unique = roistat_conversions(roistat_rules(kpi_mode="unique"))

    assert {conversion.vendor_id for conversion in unique} == set(first_call_of.values())
    assert len(unique) < len(roistat_truth())  # the scenario has repeat callers


def test_a_caller_seen_in_an_earlier_batch_is_no_first_contact() -> None:
    seen = FirstContactIndex()
    rules = roistat_rules(kpi_mode="unique")
    first = roistat_call(id="1", caller="+79161234567")
    again = roistat_call(id="2", caller="79161234567", date="2024-03-02T09:00:00+0000")

    assert len(list(roistat_attribution.normalise_calls([first], rules, "1", contacts=seen))) == 1
    assert list(roistat_attribution.normalise_calls([again], rules, "1", contacts=seen)) == []


def test_ringostat_calls_stored_from_their_fields_are_the_bytes_of_the_models() -> None:
    """The engine stores Ringostat calls from the fields a conversion is made of, never building the model:
    the partition must be the very bytes of the models' (as pydantic serialises them), in every KPI mode."""
    calls = ringostat_calls()
    directions = frozenset({"in", "callback"})
    for rules in (ringostat_rules(static_channels=RINGOSTAT_CHANNELS), ringostat_rules(kpi_mode=KpiMode.UNIQUE)):
        values = ringostat_attribution.call_conversion_values(calls, rules, RINGOSTAT_ACCOUNT, directions=directions)
        models = list(ringostat_attribution.normalise_calls(calls, rules, RINGOSTAT_ACCOUNT, directions=directions))
        stored = json_lines(stored_rows(values))
        assert models
        assert stored == b"".join(conversion_json(model) + b"\n" for model in models)
        assert stored == json_lines(stored_rows(models))
        assert gzip_bytes(stored) == gzip_bytes(json_lines([conversion_fields(model) for model in models]))


def test_ringostat_unique_mode_keeps_first_contacts() -> None:
    truth = ringostat_truth()

    unique = ringostat_conversions(ringostat_rules(kpi_mode="unique"))

    assert {conversion.vendor_id for conversion in unique} == {key for key, fact in truth.items() if fact.unique}


@pytest.mark.parametrize(
    ("flags", "unique"),
    [
        ({"call_counter": 1, "repeated_flag": 0}, True),
        ({"call_counter": "1"}, True),
        ({"call_counter": "3", "repeated_flag": 0}, False),  # the counter wins: not the first call ever
        ({"repeated_flag": "1"}, False),  # no counter: a repeat within the sale cycle is no first contact
        ({"repeated_flag": 0}, True),
        ({}, True),
    ],
)
def test_a_ringostat_first_contact(flags: dict[str, Any], unique: bool) -> None:
    row = {"uniqueid": "1.1", "calldate": "2024-06-01T10:00:00+0300", **flags}

    assert one(ringostat_conversions(ringostat_rules(), [row])).unique is unique


# --- deals and «Не учитывается» -------------------------------------------------------------------


def roistat_orders() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    sim = roistat_sim()
    orders = roistat_list(sim, "/project/integration/order/list", sort=["creation_date", "asc"])
    statuses = roistat_answer(sim, "POST", "/project/integration/status/list", {})["data"]
    return orders, statuses


def test_a_deal_in_not_counted_is_excluded_when_the_setting_is_off_and_kept_when_on() -> None:
    orders, statuses = roistat_orders()
    spam = {order["id"] for order in orders if order["status"]["name"] == "Спам / дубль"}
    assert spam

    kept = list(roistat_attribution.normalise_orders(orders, statuses, roistat_rules(include_not_counted=True), "1"))
    left = list(roistat_attribution.normalise_orders(orders, statuses, roistat_rules(include_not_counted=False), "1"))

    assert len(kept) == len(orders)
    assert {deal.vendor_id for deal in kept if deal.status_type == NOT_COUNTED} == spam
    assert {deal.vendor_id for deal in left} == {order["id"] for order in orders} - spam
    assert NOT_COUNTED == roistat_client.NOT_COUNTED


def test_a_status_with_no_type_key_is_not_counted_too() -> None:
    sim = RoistatSimulator(RoistatScenario(days=2, not_counted_status_shape="absent"), knobs=NO_LIMITS)
    orders = roistat_list(sim, "/project/integration/order/list")
    statuses = roistat_answer(sim, "POST", "/project/integration/status/list", {})["data"]

    left = list(roistat_attribution.normalise_orders(orders, statuses, roistat_rules(include_not_counted=False), "1"))

    assert "Спам / дубль" not in {deal.status for deal in left}
    assert len(left) == sum(1 for order in orders if order["status"]["name"] != "Спам / дубль")


def test_a_deal_takes_status_name_and_type_from_the_dictionary_and_its_revenue() -> None:
    order = {
        "id": "95101",
        "creation_date": "2016-06-19T00:32:12+0000",
        "revenue": "2000.5",
        "status": {"id": "1", "type": "progress", "name": "0. Created"},
        "visit": None,
    }
    renamed = [{"id": "1", "name": "Оплачено", "type": "paid"}]

    deal = one(roistat_attribution.normalise_orders([order], renamed, roistat_rules(), "1"))

    assert (deal.kind, deal.status, deal.status_type, deal.revenue) == (Kind.ORDER, "Оплачено", "paid", 2000.5)
    assert deal.campaign == UNDEFINED_CAMPAIGN
    dropped = list(
        roistat_attribution.normalise_orders([order], [{"id": "9", "name": "x", "type": "paid"}], roistat_rules(), "1")
    )
    assert one(dropped).status_type == NOT_COUNTED  # a status the dictionary no longer lists (A6.4)


def test_deals_are_not_filtered_by_the_kpi_mode() -> None:
    orders, statuses = roistat_orders()
    rules = roistat_rules(kpi_mode="tagged", tags=["целевой"])

    assert len(list(roistat_attribution.normalise_orders(orders, statuses, rules, "1"))) == len(orders)


def test_a_deal_with_its_visit_is_attributed_to_the_visits_campaign() -> None:
    order = {"id": "1", "creation_date": "2024-03-01T10:00:00+0000", "roistat": "666", "status": {"id": "1"}}
    visits = {"666": visit(utm_source="google", utm_medium="cpc", utm_campaign="pmax")}

    deal = one(roistat_attribution.normalise_orders([order], [], roistat_rules(), "1", visits=visits))

    assert (deal.source, deal.campaign, deal.visit_id) == ("google", "pmax", "666")


# --- proxy leads and clients ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("Онлайн-чат", Kind.CHAT),
        ("Chat with us", Kind.CHAT),
        ("Сообщение из WhatsApp", Kind.CHAT),
        ("Заявка с формы «Перезвоните мне»", Kind.FORM),
        ("Лид-ловец", Kind.FORM),
        ("Квиз", Kind.FORM),
        ("Заявка начата", Kind.FORM),  # "начата" holds "чат" but names no chat
        (None, Kind.FORM),
    ],
)
def test_a_proxy_lead_is_a_chat_when_its_title_names_one_else_a_form(title: str | None, kind: Kind) -> None:
    lead = {
        "id": "2",
        "title": title,
        "phone": "71234567890",
        "roistat": "1000",
        "creation_date": "2016-07-12 14:51:39",
    }

    conversion = one(roistat_attribution.normalise_proxy_leads([lead], roistat_rules(), "1"))

    assert conversion.kind is kind
    assert conversion.occurred_at == datetime(2016, 7, 12, 14, 51, 39, tzinfo=UTC)  # naive = UTC (A5)


def test_every_proxy_lead_of_the_simulator_is_one_conversion() -> None:
    sim = roistat_sim()
    leads = roistat_answer(sim, "GET", "/project/proxy-leads", period="2024-03-01-2024-03-14")["ProxyLeads"]
    visits = roistat_attribution.visit_index(roistat_calls())

    conversions = list(roistat_attribution.normalise_proxy_leads(leads, roistat_rules(), "1", visits=visits))

    assert sorted(conversion.vendor_id for conversion in conversions) == sorted(lead["id"] for lead in leads)
    assert {conversion.kind for conversion in conversions} == {Kind.CHAT, Kind.FORM}
    assert (
        list(roistat_attribution.normalise_proxy_leads(leads, roistat_rules(kpi_mode="tagged", tags=["a"]), "1")) == []
    )


def test_clients_are_report_rows_not_conversions() -> None:
    clients = roistat_list(roistat_sim(), "/project/clients", key="clients")

    rows = list(roistat_attribution.normalise_clients(clients, roistat_rules(), "1"))

    assert len(rows) == len(clients)
    assert not any(isinstance(row, Conversion) for row in rows)
    assert json.loads(json.dumps(rows)) == rows  # JSON-ready
    assert {row["first_visit_source"] for row in rows} <= {"direct1", "google", "vk", "seo", "direct"}


# --- time ---------------------------------------------------------------------------------------------


def test_a_call_at_2330_moscow_lands_on_that_moscow_date() -> None:
    late = roistat_call(id="1", date="2024-03-01T20:30:00+0000")  # 23:30 in Moscow
    after_midnight = roistat_call(id="2", date="2024-03-01T21:30:00+0000")  # 00:30 next day

    first, second = roistat_attribution.normalise_calls([late, after_midnight], roistat_rules(), "1")

    assert (first.occurred_at, first.local_date) == (datetime(2024, 3, 1, 20, 30, tzinfo=UTC), date(2024, 3, 1))
    assert second.local_date == date(2024, 3, 2)


def test_a_ringostat_calldate_with_offset_is_stored_in_utc_and_dated_in_the_projects_zone() -> None:
    row = {"uniqueid": "1", "calldate": "2024-06-01T23:30:00+0300"}
    kyiv = one(ringostat_conversions(ringostat_rules(), [row]))
    yekaterinburg = AttributionRules.from_settings(RingostatSettings(), project_timezone="Asia/Yekaterinburg")

    assert kyiv.occurred_at == datetime(2024, 6, 1, 20, 30, tzinfo=UTC)
    assert kyiv.local_date == date(2024, 6, 1)
    assert one(ringostat_conversions(yekaterinburg, [row])).local_date == date(2024, 6, 2)


@pytest.mark.parametrize("zone", ["Europe/Moscow", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"])
def test_local_dates_are_right_on_every_minute_around_clock_changes(zone: str) -> None:
    clock = ProjectClock(ZoneInfo(zone))
    start = datetime(2024, 3, 9, tzinfo=UTC)  # New York springs forward on 10 March, Lord Howe falls back 7 April
    for minutes in [*range(0, 4 * 24 * 60, 7), *range(29 * 24 * 60, 31 * 24 * 60, 7)]:
        moment = start + timedelta(minutes=minutes)
        for offset in (UTC, timezone(timedelta(hours=3)), timezone(timedelta(hours=5, minutes=45))):
            text = moment.astimezone(offset).strftime("%Y-%m-%dT%H:%M:%S%z")
            assert clock.read(text) == (moment, moment.astimezone(ZoneInfo(zone)).date()), text


# --- Ringostat numerics and statuses --------------------------------------------------------------------


def test_a_ringostat_numeric_string_parses() -> None:
    row = {
        "uniqueid": "1559456023.123",
        "calldate": "2019-06-02T09:13:43+0300",
        "duration": "36",
        "billsec": " 11 ",
        "waittime": "36",
        "call_counter": "2",
        "proper_flag": "1",
        "disposition": "NO+ANSWER",
        "client_id": "1169999034.15555555108",
    }

    conversion = one(ringostat_conversions(ringostat_rules(), [row]))

    assert conversion.extra["duration"] == 36 and conversion.extra["billsec"] == 11
    assert conversion.extra["proper"] is True and conversion.unique is False
    assert conversion.status == "NO ANSWER"
    assert conversion.ga_client_id == "1169999034.15555555108"


def test_the_documented_ringostat_example_row_normalises() -> None:
    row = {
        "calldate": "2019-06-02T09:13:43+0300", "caller": "380441112233", "dst": "380931112233",
        "pool_name": "Simple nums pool", "disposition": "NO ANSWER", "category_mark": 0, "duration": 36,
        "call_type": "in", "waittime": "36", "billsec": 0, "connected_with": "", "call_counter": 1,
        "proper_flag": 0, "repeated_flag": 0, "utm_source": "(direct)", "utm_medium": "(none)",
        "utm_campaign": "(direct)", "utm_content": "(not set)", "utm_term": "none)", "uniqueid": "unique_call_id",
        "client_id": "1169999034.15555555108", "has_recording": "0", "duration_ms": "36000",
    }  # fmt: skip

    conversion = one(ringostat_conversions(ringostat_rules(), [row]))

    assert (conversion.source, conversion.traffic_type, conversion.campaign) == ("(direct)", "(none)", "(direct)")
    assert (conversion.content, conversion.keyword) == (None, "none)")
    assert conversion.local_date == date(2019, 6, 2)


# --- rows that cannot be conversions ----------------------------------------------------------------


def test_a_row_with_no_id_or_date_is_reported_not_yielded() -> None:
    reasons: list[str] = []
    rows = [roistat_call(id=None), roistat_call(date="yesterday"), roistat_call(id=16770)]

    kept = list(
        roistat_attribution.normalise_calls(rows, roistat_rules(), "1", rejected=lambda _, why: reasons.append(why))
    )

    assert [conversion.vendor_id for conversion in kept] == ["16770"]
    assert len(reasons) == 2


def test_rules_come_from_call_tracking_settings_only() -> None:
    rules = roistat_rules(kpi_mode="tagged", tags=["целевой"], include_not_counted=False)

    assert (rules.kpi_mode, rules.tags, rules.include_not_counted) == (KpiMode.TAGGED, {"целевой"}, False)
    with pytest.raises(TypeError):
        AttributionRules.from_settings(AmoCrmSettings(), project_timezone=MOSCOW)


def test_conversions_built_without_validation_pass_validation() -> None:
    orders, statuses = roistat_orders()
    rules = roistat_rules(static_channels=ROISTAT_CHANNELS)
    conversions = [
        *roistat_conversions(rules),
        *roistat_attribution.normalise_orders(orders, statuses, rules, "1"),
        *ringostat_conversions(ringostat_rules(static_channels=RINGOSTAT_CHANNELS)),
    ]

    for conversion in conversions:
        assert Conversion.model_validate(conversion.model_dump()) == conversion
        assert Conversion.model_validate_json(conversion.model_dump_json()) == conversion


# --- properties ------------------------------------------------------------------------------------------

ZONES = st.sampled_from(["UTC", "Europe/Moscow", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe"])
OFFSETS = st.sampled_from([UTC, timezone(timedelta(hours=3)), timezone(-timedelta(hours=2, minutes=30))])
MARKS = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "(not set)", "google", "avito", "brand", "Авито", "(direct)"]),
    st.integers(0, 3),
)
TAG_NAMES = st.sampled_from(["целевой", "квал", "Целевой", " целевой", "повторный", ""])
TAGS = st.one_of(
    st.none(),
    st.lists(TAG_NAMES, max_size=3),
    st.lists(st.fixed_dictionaries({"name": TAG_NAMES}), max_size=2),
    st.just("целевой, квал"),
)
SOURCES = st.fixed_dictionaries(
    {name: MARKS for name in ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")},
    optional={"system_name": st.sampled_from(["avito", "2gis", "оффлайн", "billboard", "seo"])},
)
MOMENTS = st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2035, 1, 1), timezones=OFFSETS)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S%z")


ROISTAT_ROWS = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.one_of(st.integers(1, 10**6), st.text("0123456789", min_size=1, max_size=6)),
            "date": MOMENTS.map(iso),
            "caller": st.one_of(st.none(), st.sampled_from(["79161110001", "+79161110001", "79161110002"])),
            "static_source": st.one_of(st.none(), SOURCES),
            "visit": st.one_of(st.none(), st.fixed_dictionaries({"id": st.integers(1, 99), "source": SOURCES})),
            "tags": TAGS,
        }
    ),
    max_size=12,
)
RINGOSTAT_NUMBERS = st.one_of(st.none(), st.integers(0, 3), st.integers(0, 3).map(str))
RINGOSTAT_ROWS = st.lists(
    st.fixed_dictionaries(
        {"uniqueid": st.text("0123456789.", min_size=1, max_size=8), "calldate": MOMENTS.map(iso)},
        optional={
            "pool_name": st.sampled_from(["OLX static", "Billboard Kyiv", "Site dynamic pool", "olx static"]),
            "call_counter": RINGOSTAT_NUMBERS,
            "repeated_flag": RINGOSTAT_NUMBERS,
            "duration": RINGOSTAT_NUMBERS,
            "utm_source": MARKS,
            "utm_medium": MARKS,
            "utm_campaign": MARKS,
        },
    ),
    max_size=12,
)
CHANNELS = st.lists(
    st.builds(
        StaticChannel,
        parameter=st.sampled_from(["roistat", "utm_source", "utm_campaign", "pool"]),
        value=st.sampled_from(["avito", "google", "billboard", "OLX static", "Billboard Kyiv"]),
        source=st.just("S"),
        traffic_type=st.just("T"),
        campaign=st.sampled_from(["C1", "C2"]),
    ),
    max_size=4,
    unique_by=lambda channel: channel.key,
)
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def kpi_rules(vendor: str, mode: str, channels: list[StaticChannel], zone: str) -> AttributionRules:
    tags = ["целевой", "квал"] if mode == "tagged" else []
    return AttributionRules(vendor=vendor, kpi_mode=mode, tags=tags, static_channels=channels, project_timezone=zone)


def check_modes(vendor: str, rows: list[dict[str, Any]], channels: list[StaticChannel], zone: str) -> None:
    module = roistat_attribution if vendor == "roistat" else ringostat_attribution
    by_mode = {
        mode: list(module.normalise_calls(rows, kpi_rules(vendor, mode, channels, zone), "1"))
        for mode in ("all", "tagged", "unique")
    }
    everything = by_mode["all"]
    assert len(everything) == len(rows)  # one conversion per row, none dropped
    for conversion in everything:
        assert conversion.campaign and conversion.source and conversion.traffic_type
        assert conversion.occurred_at.utcoffset() == timedelta(0)
        assert conversion.local_date == conversion.occurred_at.astimezone(ZoneInfo(zone)).date()
        assert Conversion.model_validate(conversion.model_dump()) == conversion
    for mode in ("tagged", "unique"):
        kept = by_mode[mode]
        assert all(conversion in everything for conversion in kept)
    assert all({"целевой", "квал"} & set(conversion.tags) for conversion in by_mode["tagged"])
    assert all(conversion.unique for conversion in by_mode["unique"])


@PROPERTY
@given(rows=ROISTAT_ROWS, channels=CHANNELS, zone=ZONES)
def test_roistat_every_row_is_one_conversion_and_the_kpi_modes_are_subsets(
    rows: list[dict[str, Any]], channels: list[StaticChannel], zone: str
) -> None:
    check_modes("roistat", rows, channels, zone)


@PROPERTY
@given(rows=RINGOSTAT_ROWS, channels=CHANNELS, zone=ZONES)
def test_ringostat_every_row_is_one_conversion_and_the_kpi_modes_are_subsets(
    rows: list[dict[str, Any]], channels: list[StaticChannel], zone: str
) -> None:
    check_modes("ringostat", rows, channels, zone)


@PROPERTY
@given(moments=st.lists(MOMENTS, min_size=1, max_size=20), zone=ZONES)
def test_the_project_clock_agrees_with_zoneinfo(moments: list[datetime], zone: str) -> None:
    clock = ProjectClock(ZoneInfo(zone))
    for moment in moments:
        naive_utc = moment.astimezone(UTC).replace(tzinfo=None)
        for text in (iso(moment), moment.isoformat(), naive_utc.isoformat(sep=" "), naive_utc.isoformat() + "Z"):
            instant = datetime.fromisoformat(text).replace(tzinfo=datetime.fromisoformat(text).tzinfo or UTC)
            assert clock.read(text) == (instant.astimezone(UTC), instant.astimezone(ZoneInfo(zone)).date()), text


@PROPERTY
@given(raw=st.one_of(TAGS, st.lists(st.one_of(TAG_NAMES, st.integers(0, 2), st.none()), max_size=3)))
def test_tags_are_read_as_the_roistat_client_reads_them(raw: Any) -> None:
    assert list(row_tags(raw)) == roistat_client.call_tags({"tags": raw})


def test_an_empty_batch_gives_nothing() -> None:
    assert list(roistat_attribution.normalise_calls([], roistat_rules(), "1")) == []
    assert list(ringostat_attribution.normalise_calls([], ringostat_rules(), "1")) == []


def test_mapping_rows_that_are_not_dicts_are_read_too() -> None:
    class Row(Mapping[str, Any]):
        def __init__(self, data: dict[str, Any]) -> None:
            self.data = data

        def __getitem__(self, key: str) -> Any:
            return self.data[key]

        def __iter__(self) -> Iterator[str]:
            return iter(self.data)

        def __len__(self) -> int:
            return len(self.data)

    row = Row(roistat_call(static_source=Row(static_source("avito")), visit=None))
    rules = roistat_rules(static_channels=ROISTAT_CHANNELS)

    assert one(roistat_attribution.normalise_calls([row], rules, "1")).campaign == "Авито"
