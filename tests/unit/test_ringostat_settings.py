"""Ringostat connector settings a marketer can trust (issue 10, defect 8): no KPI mode that silently
counts nothing, and only the call directions that are a visitor's inquiry counted unless asked."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from leadhub.attribution import ringostat as attribution
from leadhub.attribution.rules import AttributionRules
from leadhub.connectors.ringostat import RingostatSettings
from simulators.base import SimRequest
from simulators.ringostat import DOCUMENTED_FIELDS, RingostatScenario, RingostatSimulator

DIRECTIONS = (("in", 0.6), ("out", 0.15), ("callback", 0.1), ("transitin", 0.1), ("transitout", 0.05))


def mixed_calls() -> tuple[list[dict[str, Any]], RingostatScenario]:
    scenario = RingostatScenario(seed=21, days=2, calls_per_day=200, call_types=DIRECTIONS)
    simulator = RingostatSimulator(scenario, auth_key="k")
    query = {
        "from": [scenario.start.strftime("%Y-%m-%d %H:%M:%S")],
        "to": [scenario.end.strftime("%Y-%m-%d %H:%M:%S")],
        "fields": [",".join(DOCUMENTED_FIELDS)],
    }
    answer = simulator.dispatch(SimRequest("GET", "/calls/list", query, {"Auth-key": "k"}, b""))
    return json.loads(answer.body if isinstance(answer.body, str) else json.dumps(answer.body)), scenario


def counted(rows: list[dict[str, Any]], **settings: Any) -> list[str]:
    validated = RingostatSettings(**settings)
    rules = AttributionRules.from_settings(validated, project_timezone="Europe/Kyiv")
    directions = frozenset(validated.call_directions)
    return [c.vendor_id for c in attribution.normalise_calls(rows, rules, "1", directions=directions)]


def test_the_tagged_kpi_mode_is_refused_because_ringostat_sends_no_tags() -> None:
    with pytest.raises(ValidationError) as refused:
        RingostatSettings(kpi_mode="tagged", tags=["lead"])
    [problem] = refused.value.errors()
    assert problem["loc"] == ("kpi_mode",)
    assert "Ringostat sends no tags" in problem["msg"]


def test_only_incoming_calls_count_by_default() -> None:
    rows, scenario = mixed_calls()
    truth = scenario.truth()
    assert {fact.call_type for fact in truth.values()} == {name for name, _ in DIRECTIONS}
    assert counted(rows) == [fact.uniqueid for fact in truth.values() if fact.call_type == "in"]


def test_the_directions_a_connector_counts_are_its_setting() -> None:
    rows, scenario = mixed_calls()
    wanted = {"in", "callback"}
    expected = [fact.uniqueid for fact in scenario.truth().values() if fact.call_type in wanted]
    assert counted(rows, call_directions=sorted(wanted)) == expected


def test_a_call_without_a_direction_counts_as_incoming() -> None:
    row = {"uniqueid": "1.1", "calldate": "2024-06-01T10:00:00+0300"}
    assert counted([row]) == ["1.1"]
    assert counted([row], call_directions=["out"]) == []


@pytest.mark.parametrize("directions", [[], ["in", "in"], ["inbound"]])
def test_call_directions_must_be_ringostat_directions_each_once(directions: list[str]) -> None:
    with pytest.raises(ValidationError) as refused:
        RingostatSettings(call_directions=directions)
    assert refused.value.errors()[0]["loc"][0] == "call_directions"


def test_two_channels_naming_one_pool_repeat_each_other_whatever_their_parameter() -> None:
    channel = {"value": "OLX static", "source": "OLX", "traffic_type": "classified", "campaign": "OLX"}
    with pytest.raises(ValidationError, match="repeats row 1"):
        RingostatSettings(
            static_channels=[{**channel, "parameter": "pool"}, {**channel, "parameter": "utm_source"}],
        )
