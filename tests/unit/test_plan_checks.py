"""Seed 004's rules, checked by Leadhub before anything is sent — and by the simulator the same way.

Each case is one of the seed's error examples: Leadhub must name the same `fieldPath` with the same
Russian message Calltouch's answer would carry, and the simulator (written from the seed, not from
Leadhub) must answer it too, so neither side can drift from the seed alone.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadhub.plans import rules
from leadhub.plans.validate import check_items
from simulators.base import SimRequest
from simulators.calltouch import DEMO_SITE_ID, DEMO_TOKEN, CalltouchKnobs, CalltouchSimulator

ADD = "/report-service/RestAPI/api/plans-import/add"


def item(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "dateFrom": "01-04-2021",
        "dateTo": "02-04-2021",
        "source": "yandex",
        "medium": "cpc",
        "metric": {"type": "Лиды", "name": "Уникальные лиды", "value": 100},
    }
    base.update(changes)
    return {key: value for key, value in base.items() if value is not None}


def metric(**changes: Any) -> dict[str, Any]:
    return {"type": "Лиды", "name": "Уникальные лиды", "value": 100, **changes}


#: (seed error, items, violations as (fieldPath, message))
SEED_ERRORS: list[tuple[str, list[dict[str, Any]], list[tuple[str, str]]]] = [
    (
        "3: no slice field",
        [item(source=None, medium=None)],
        [("items[0].source", rules.MSG_SLICE_REQUIRED)],
    ),
    (
        "3: blank metric type",
        [item(), item(metric=metric(type=""))],
        [("items[1].metric.type", rules.MSG_BLANK)],
    ),
    (
        "3: metric type not in the list",
        [item(metric=metric(type="Звонки"))],
        [("items[0].metric.type", rules.MSG_NOT_ALLOWED)],
    ),
    (
        "3: metric name not of its type",
        [item(metric=metric(type="Поведение", name="Выручка"))],
        [("items[0].metric.name", rules.MSG_NOT_ALLOWED)],
    ),
    ("3: empty collection", [], [("items", rules.MSG_TOO_FEW_ITEMS)]),
    (
        "4: not a date",
        [item(dateTo="31-02-2021"), item(dateFrom="2021-04-01")],
        [("items[0].dateTo", rules.MSG_BAD_DATE), ("items[1].dateFrom", rules.MSG_BAD_DATE)],
    ),
    (
        "4: dateFrom after dateTo",
        [item(dateFrom="20-04-2021", dateTo="01-04-2021")],
        [("items[0].dateFrom", rules.MSG_DATE_ORDER)],
    ),
    (
        "6: a custom column named like a Calltouch metric",
        [item(metric=metric(type="Пользовательские", name="Выручка"))],
        [("items[0].metric.name", rules.MSG_CUSTOM_NOT_UNIQUE)],
    ),
    (
        "6: one name as a custom column and as a goal",
        [
            item(metric=metric(type="Пользовательские", name="Продажи")),
            item(metric=metric(type="Цели", name="Продажи")),
            item(metric=metric(type="Цели", name="Заявка с сайта")),
        ],
        [("items[0].metric.name", rules.MSG_CUSTOM_NOT_UNIQUE), ("items[1].metric.name", rules.MSG_CUSTOM_NOT_UNIQUE)],
    ),
]


def simulator_violations(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    sim = CalltouchSimulator(knobs=CalltouchKnobs(requests_per_second=None))
    body = json.dumps({"items": items}, ensure_ascii=False).encode()
    answer = sim.dispatch(SimRequest("POST", ADD, {}, {"Access-Token": DEMO_TOKEN, "SiteId": DEMO_SITE_ID}, body))
    found = answer.body["data"]["validationErrorData"]["violations"]
    return [(v["fieldPath"], v["message"]) for v in found]


@pytest.mark.parametrize(("case", "items", "expected"), SEED_ERRORS, ids=[case for case, _, _ in SEED_ERRORS])
def test_every_seed_error_is_named_by_item_and_field_in_the_seeds_wording(
    case: str, items: list[dict[str, Any]], expected: list[tuple[str, str]]
) -> None:
    checked = check_items(items)
    assert sorted((v.field, v.message) for v in checked.violations) == sorted(expected)
    assert sorted(simulator_violations(items)) == sorted(expected)
    assert not checked.invalid_items & set(checked.valid)


def test_a_missing_required_field_is_named_on_its_row_in_the_seeds_wording() -> None:
    without_date_to = item()
    del without_date_to["dateTo"]
    checked = check_items([item(), without_date_to])
    assert [(v.field, v.message, v.item) for v in checked.violations] == [
        ("items[1].dateTo", 'В запросе не указано обязательное поле "dateTo"', 1)
    ]
    assert list(checked.valid) == [0]


def test_the_seeds_own_request_passes_and_goes_out_as_it_came() -> None:
    doc = [
        item(campaign="april", content="sale", keyword="распродажа"),
        item(source="google", dateTo="20-04-2021", metric=metric(type="Сделки и ROI", name="Выручка", value=23423)),
        item(
            source=None, dateTo="20-04-2021", metric=metric(type="Пользовательские", name="Название столбца", value=22)
        ),
    ]
    checked = check_items(doc)
    assert checked.violations == []
    assert [checked.valid[i] for i in range(3)] == doc


def test_value_must_be_a_whole_number_and_slices_text() -> None:
    checked = check_items(
        [item(metric=metric(value=1.5)), item(metric=metric(value="100")), item(source=7, medium=None)]
    )
    assert sorted((v.field, v.message) for v in checked.violations) == [
        ("items[0].metric.value", "Тип значения должен быть integer."),
        ("items[1].metric.value", "Тип значения должен быть integer."),
        ("items[2].source", "Тип значения должен быть string."),
    ]


# --- properties ------------------------------------------------------------------------------------
dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
text = st.text(st.characters(codec="utf-8"), min_size=1, max_size=20).filter(str.strip)


@st.composite
def valid_items(draw: st.DrawFn) -> dict[str, Any]:
    start, end = sorted([draw(dates), draw(dates)])
    metric_type = draw(st.sampled_from([t for t in rules.METRIC_TYPES if t not in rules.FREE_NAME_TYPES]))
    slices = draw(st.dictionaries(st.sampled_from(rules.SLICE_FIELDS), text, min_size=1))
    return {
        "dateFrom": start.strftime("%d-%m-%Y"),
        "dateTo": end.strftime("%d-%m-%Y"),
        **slices,
        "metric": {
            "type": metric_type,
            "name": draw(st.sampled_from(rules.METRIC_NAMES[metric_type])),
            "value": draw(st.integers(-(10**12), 10**12)),
        },
    }


@settings(max_examples=200, deadline=None)
@given(st.lists(valid_items(), min_size=1, max_size=30))
def test_rows_that_follow_the_rules_pass_unchanged(items: list[dict[str, Any]]) -> None:
    checked = check_items(items)
    assert checked.violations == []
    assert [checked.valid[i] for i in range(len(items))] == items


@settings(max_examples=200, deadline=None)
@given(st.lists(valid_items(), min_size=1, max_size=10), st.data())
def test_breaking_one_rule_of_one_row_names_that_row_and_field(
    items: list[dict[str, Any]], data: st.DataObject
) -> None:
    broken = copy.deepcopy(items)
    index = data.draw(st.integers(0, len(items) - 1))
    row = broken[index]
    rule = data.draw(st.sampled_from(["date", "order", "type", "name", "value", "slice", "missing"]))
    expected_field = {
        "date": "dateTo",
        "order": "dateFrom",
        "type": "metric.type",
        "name": "metric.name",
        "value": "metric.value",
        "slice": "source",
        "missing": "dateFrom",
    }[rule]
    if rule == "date":
        row["dateTo"] = row["dateTo"].replace("-", ".")
    elif rule == "order":
        if row["dateFrom"] == row["dateTo"]:
            row["dateTo"] = "01-01-1999"
        else:
            row["dateFrom"], row["dateTo"] = row["dateTo"], row["dateFrom"]
    elif rule == "type":
        row["metric"]["type"] = "Звонки"
    elif rule == "name":
        row["metric"]["name"] = "Нет такой метрики"
    elif rule == "value":
        row["metric"]["value"] = float(row["metric"]["value"]) + 0.5
    elif rule == "slice":
        for name in rules.SLICE_FIELDS:
            row.pop(name, None)
    else:
        del row["dateFrom"]
    checked = check_items(broken)
    assert {(v.item, v.field) for v in checked.violations} == {(index, f"items[{index}].{expected_field}")}
    assert set(checked.valid) == set(range(len(items))) - {index}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=6),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(json_values | st.fixed_dictionaries({"metric": json_values, "dateFrom": json_values}), max_size=6))
def test_any_json_gets_an_answer_not_a_crash(items: list[Any]) -> None:
    checked = check_items(items)
    assert set(checked.valid).isdisjoint(checked.invalid_items)
    assert all(v.field.startswith("items") for v in checked.violations)
    assert len(checked.valid) + len(checked.invalid_items) == len(items)
