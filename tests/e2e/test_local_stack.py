"""`make run` brings up a stack that answers over HTTP: health, the OpenAPI document, Swagger UI."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.e2e


def test_health_answers(stack: dict[str, str]) -> None:
    answer = requests.get(f"{stack['api']}/health", timeout=10)
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"


def test_the_openapi_document_lists_the_routes(stack: dict[str, str]) -> None:
    answer = requests.get(f"{stack['api']}/openapi.json", timeout=10)
    assert answer.status_code == 200
    document = answer.json()
    assert document["openapi"].startswith("3.")
    assert "/health" in document["paths"]


def test_swagger_ui_is_served(stack: dict[str, str]) -> None:
    answer = requests.get(f"{stack['api']}/swagger", timeout=10)
    assert answer.status_code == 200
    assert "swagger" in answer.text.lower()


def test_an_unknown_route_is_a_json_404(stack: dict[str, str]) -> None:
    anonymous = requests.get(f"{stack['api']}/no/such/route", timeout=10)
    assert anonymous.status_code == 401  # nothing about the API is told to a caller without a token
    headers = {"Authorization": f"Bearer {stack['token']}"}
    answer = requests.get(f"{stack['api']}/no/such/route", headers=headers, timeout=10)
    assert answer.status_code == 404
    assert answer.json()["message"] == "no such route"


def test_the_embedded_aws_holds_the_templates_tables(stack: dict[str, str]) -> None:
    import boto3

    client = boto3.client("dynamodb", endpoint_url=stack["aws"], region_name="eu-central-1")
    names = client.list_tables()["TableNames"]
    assert "leadhub-local-ConnectorsTable" in names
    assert "leadhub-local-TokensTable" in names


def test_every_simulator_answers(stack: dict[str, str]) -> None:
    for vendor in ("roistat", "ringostat", "calltouch", "amocrm"):
        root = stack[vendor].removesuffix("/api/v1")
        answer = requests.get(f"{root}/__sim__/health", timeout=10)
        assert answer.status_code == 200, vendor
        assert answer.json()["status"] == "ok"


def test_the_stack_printed_where_everything_is(stack: dict[str, str]) -> None:
    printed = Path(stack["log"]).read_text()
    for line in ("HTTP API", "/health", "/openapi.json", "/swagger", "embedded AWS", "Ctrl-C"):
        assert line in printed
