"""The Lambda handler answers the sample events in events/ (what `sam local invoke` would send)."""

from __future__ import annotations

import json
from pathlib import Path

from api.app import lambda_handler

from devstack.lambda_runtime import LocalContext

EVENTS = Path(__file__).resolve().parents[2] / "events"


def invoke(name: str) -> dict[str, object]:
    event = json.loads((EVENTS / name).read_text())
    return lambda_handler(event, LocalContext())


def test_health_event() -> None:
    answer = invoke("api_health.json")
    assert answer["statusCode"] == 200
    assert json.loads(str(answer["body"]))["status"] == "ok"


def test_openapi_event_matches_the_committed_document() -> None:
    answer = invoke("api_openapi.json")
    assert answer["statusCode"] == 200
    committed = json.loads((EVENTS.parent / "docs" / "openapi.json").read_text())
    assert json.loads(str(answer["body"])) == committed, "docs/openapi.json is stale: run `make openapi`"
