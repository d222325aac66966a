"""The published OpenAPI document is a contract a user can learn the API from: every operation is
described, signed in with the bearer scheme, documents its refusals in the one error shape, and
every request body is typed down to described fields."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from leadhub.api.app import build_resolver, openapi_json
from leadhub.connectors.registry import SPECS, spec_for
from leadhub.models.settings import Vendor
from leadhub.models.zones import ZONES
from leadhub.reports.conversions import ReportQuery
from leadhub.setup.projects import ProjectCreate
from leadhub.setup.settings_changes import SettingsChanges

PUBLIC = {"/health"}
ERROR = {"$ref": "#/components/schemas/ErrorAnswer"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(openapi_json(build_resolver()))


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, item in document["paths"].items() for method, op in item.items()]


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_every_operation_has_a_summary_and_a_description(document: dict[str, Any]) -> None:
    for method, path, op in operations(document):
        assert op.get("summary") and op["summary"] != f"{method.upper()} {path}", (method, path)
        assert op.get("description"), (method, path)


def test_every_route_but_health_is_signed_in_with_the_bearer_scheme(document: dict[str, Any]) -> None:
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    for method, path, op in operations(document):
        expected = None if path in PUBLIC else [{"bearerAuth": []}]
        assert op.get("security") == expected, (method, path)


def test_every_refusal_is_documented_with_the_one_error_shape(document: dict[str, Any]) -> None:
    for method, path, op in operations(document):
        answers = op["responses"]
        errors = {code: answer for code, answer in answers.items() if int(code) >= 400}
        assert "422" in errors, (method, path)
        if path not in PUBLIC:
            assert "401" in errors, (method, path)
        if "{" in path:
            assert "404" in errors, (method, path)
        if "requestBody" in op:
            assert {"400", "415"} <= set(errors), (method, path)
        for code, answer in errors.items():
            assert answer["content"]["application/json"]["schema"] == ERROR, (method, path, code)
            assert answer["description"], (method, path, code)


def test_the_error_shape_names_its_fields(document: dict[str, Any]) -> None:
    shape = document["components"]["schemas"]["ErrorAnswer"]
    assert set(shape["required"]) == {"error", "message"}
    assert {"error", "message", "fields", "rows", "violations", "vendor_error", "request_id"} == set(
        shape["properties"]
    )
    problem = document["components"]["schemas"]["FieldProblem"]
    assert set(problem["properties"]) == {"field", "problem"}


def test_every_reference_resolves_and_powertools_own_error_shapes_are_gone(document: dict[str, Any]) -> None:
    names = set(re.findall(r"#/components/schemas/(\w+)", json.dumps(document)))
    assert names <= set(document["components"]["schemas"])
    assert not {"HTTPValidationError", "ResponseValidationError"} & set(document["components"]["schemas"])


def test_no_request_body_is_an_untyped_object(document: dict[str, Any]) -> None:
    def walk(schema: dict[str, Any], where: str) -> None:
        schema = resolve(document, schema)
        for option in schema.get("anyOf", []) + schema.get("oneOf", []):
            walk(option, where)
        if schema.get("type") == "object" or "properties" in schema:
            assert schema.get("properties") or schema.get("additionalProperties") not in (None, True), where
            for name, field in schema.get("properties", {}).items():
                walk(field, f"{where}.{name}")
        if schema.get("type") == "array":
            walk(schema["items"], f"{where}[]")

    for method, path, op in operations(document):
        for media, content in op.get("requestBody", {}).get("content", {}).items():
            walk(content["schema"], f"{method} {path} {media}")


def test_each_vendor_check_takes_exactly_its_credentials_each_field_described(document: dict[str, Any]) -> None:
    for vendor in Vendor:
        op = document["paths"][f"/projects/{{project_id}}/connectors/{vendor.value}/check"]["post"]
        body = resolve(document, op["requestBody"]["content"]["application/json"]["schema"])
        assert body["additionalProperties"] is False
        for name, field in body["properties"].items():
            assert field.get("description"), (vendor, name)
    roistat = document["components"]["schemas"]["RingostatCredentials"]["properties"]["auth_key"]
    assert "«Auth-key»" in roistat["description"]


def test_settings_changes_expose_every_vendor_field_described(document: dict[str, Any]) -> None:
    op = document["paths"]["/connectors/{connector_id}/settings"]["patch"]
    content = op["requestBody"]["content"]["application/json"]
    body = resolve(document, content["schema"])
    every_field = {name for spec in SPECS.values() for name in spec.settings.model_fields} - {"vendor"}
    assert set(body["properties"]) == every_field
    for name, field in body["properties"].items():
        assert field.get("description"), name
    described = json.dumps(document["components"]["schemas"], ensure_ascii=False)
    for ui_name in (
        "«Performance KPI»",
        "«Все обращения»",
        "«Тегированные лиды»",
        "«Теги»",
        "«Выгрузка клиентского отчета»",
        "«Учитывать в дашборде сделки Roistat со статусом «Не учитывается»»",
        "«Звонки»",
        "«Лиды, сделки из CRM»",
        "«Заявки (проксилиды)»",
        "«Статические каналы»",
        "«Параметр»",
        "«Значение»",
        "«Название пула номеров»",
        "«Источник трафика»",
        "«Тип трафика»",
        "«Кампания»",
    ):
        assert ui_name in described, ui_name
    assert set(content["examples"]) == {vendor.value for vendor in Vendor}


@pytest.mark.parametrize("vendor", list(Vendor))
def test_each_vendor_example_of_the_settings_body_is_accepted_for_that_vendor(
    document: dict[str, Any], vendor: Vendor
) -> None:
    content = document["paths"]["/connectors/{connector_id}/settings"]["patch"]["requestBody"]["content"]
    example = content["application/json"]["examples"][vendor.value]["value"]
    changes = SettingsChanges.model_validate(example).model_dump(mode="json", exclude_unset=True)
    spec_for(vendor).validate_settings(changes)


def test_a_setting_of_another_vendor_is_refused_naming_it() -> None:
    with pytest.raises(ValidationError, match="kpi_mode"):
        spec_for(Vendor.AMOCRM).validate_settings({"kpi_mode": "all"})
    with pytest.raises(ValidationError, match="orders"):
        spec_for(Vendor.CALLTOUCH).validate_settings({"streams": {"orders": False}})


def test_time_zones_are_an_enum_of_the_names_that_load(document: dict[str, Any]) -> None:
    timezone = document["components"]["schemas"]["ProjectCreate"]["properties"]["timezone"]
    assert timezone["enum"] == list(ZONES) and "Europe/Moscow" in ZONES
    for zone in ZONES:
        ProjectCreate(name="Shop", timezone=zone)
    with pytest.raises(ValidationError):
        ProjectCreate(name="Shop", timezone="Mars/Olympus")


def test_blank_names_are_refused_by_the_schema_as_by_the_code(document: dict[str, Any]) -> None:
    name = document["components"]["schemas"]["ProjectCreate"]["properties"]["name"]
    assert re.search(name["pattern"], "   ") is None
    with pytest.raises(ValidationError):
        ProjectCreate(name="   ")


@pytest.mark.parametrize(
    ("first", "last"),
    [(date(1, 1, 1), date(9999, 12, 31)), (date(2026, 12, 1), date(2026, 11, 1)), (date.max, date.max)],
)
def test_any_report_range_the_schema_allows_is_accepted(first: date, last: date) -> None:
    query = ReportQuery.model_validate({"from": first, "to": last, "group_by": "date,date,source"})
    assert query.group_by == ["date", "source"]


def test_group_by_pattern_accepts_exactly_the_known_dimensions(document: dict[str, Any]) -> None:
    params = document["paths"]["/projects/{project_id}/conversions"]["get"]["parameters"]
    pattern = next(p for p in params if p["name"] == "group_by")["schema"]["pattern"]
    assert re.fullmatch(pattern, "source,traffic_type,campaign")
    assert not re.fullmatch(pattern, "") and not re.fullmatch(pattern, "colour")
