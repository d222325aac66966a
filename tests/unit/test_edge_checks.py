"""The edge's own parts: the nesting scanner and the local gateway's answer when the function fails."""

from __future__ import annotations

import http.client
import json
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from devstack.apigw import LocalHttpApi
from leadhub.api.edge import MAX_NESTING, nests_deeper_than


@pytest.mark.parametrize(
    ("text", "deeper"),
    [
        ("{}", False),
        ('{"a": [1, {"b": []}]}', False),
        ("[" * MAX_NESTING + "]" * MAX_NESTING, False),
        ("[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1), True),
        ("[" * 100_000, True),  # not even closed: refused before anything parses it
        ('["' + "[" * 1000 + '"]', False),  # brackets inside a string are text
        ('["\\"' + "[" * 1000 + '"]', False),  # an escaped quote does not end the string
        ('{"a": "\\\\"}' + "[" * (MAX_NESTING + 1), True),  # an escaped backslash does
    ],
)
def test_nesting_is_measured_outside_strings(text: str, deeper: bool) -> None:
    assert nests_deeper_than(text, MAX_NESTING) is deeper


def failing_function(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raise RuntimeError("the function crashed")


def test_a_failing_function_is_a_logged_500_that_names_the_request(capsys: pytest.CaptureFixture[str]) -> None:
    gateway = LocalHttpApi(failing_function, port=0)
    base = gateway.start()
    try:
        answer = requests.get(f"{base}/projects", timeout=10)
    finally:
        gateway.stop()
    assert answer.status_code == 500
    request_id = answer.headers["apigw-requestid"]
    body = answer.json()
    assert body["error"] == "Internal Server Error"
    assert body["request_id"] == request_id
    assert request_id in body["message"]
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    failure = next(line for line in logged if line.get("request_id") == request_id)
    assert "the function crashed" in failure["exception"]


def test_the_gateway_refuses_a_body_above_its_payload_limit_unread() -> None:
    gateway = LocalHttpApi(failing_function, port=0)
    base = urlsplit(gateway.start())
    try:
        # only announced: the gateway must answer from the Content-Length, without reading 11 MB
        connection = http.client.HTTPConnection(str(base.hostname), base.port, timeout=10)
        connection.putrequest("POST", "/projects")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(11 * 2**20))
        connection.endheaders()
        answer = connection.getresponse()
        body = json.loads(answer.read())
        connection.close()
    finally:
        gateway.stop()
    assert answer.status == 413
    assert body["error"] == HTTPStatus.REQUEST_ENTITY_TOO_LARGE.phrase
