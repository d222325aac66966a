"""The API function on the embedded AWS, when a route or the resolver fails in a way nobody
planned for: the answer is a 500 in the error shape naming the request, and the log line with the
traceback carries the same id."""

from __future__ import annotations

import json
from typing import Any

import pytest
from api.app import lambda_handler

from devstack.lambda_runtime import LocalContext, http_api_event
from leadhub.api.app import build_resolver, resolve
from leadhub.store.tokens import TokenStore, new_token

pytestmark = pytest.mark.usefixtures("aws")


def event(path: str, token: str) -> dict[str, Any]:
    return http_api_event("GET", path, "", {"Authorization": f"Bearer {token}"}, b"")


def logged_failure(out: str, request_id: str) -> dict[str, Any]:
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return next(line for line in lines if line.get("request_id") == request_id)


def assert_names_its_request(answer: dict[str, Any], request_id: str) -> None:
    assert answer["statusCode"] == 500
    body = json.loads(str(answer["body"]))
    assert body["error"] == "Internal Server Error"
    assert body["request_id"] == request_id
    assert request_id in body["message"]


def test_a_failing_route_is_a_logged_500_that_names_the_request(capsys: pytest.CaptureFixture[str]) -> None:
    token = new_token()
    TokenStore().register(token, "acc-1")
    app = build_resolver()

    @app.get("/crash")
    def crash() -> dict[str, str]:
        raise RecursionError("maximum recursion depth exceeded")

    request = event("/crash", token)
    request_id = request["requestContext"]["requestId"]
    context = LocalContext()
    answer = resolve(app, request, context)

    assert_names_its_request(answer, request_id)
    failure = logged_failure(capsys.readouterr().out, request_id)
    assert failure["lambda_request_id"] == context.aws_request_id
    assert "maximum recursion depth" in failure["exception"]


def test_a_failure_outside_any_route_is_a_logged_500_too(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreadable_tokens(self: TokenStore, token: str) -> str:
        raise KeyError("account_id")

    monkeypatch.setattr(TokenStore, "account_for", unreadable_tokens)
    request = event("/projects", new_token())
    request_id = request["requestContext"]["requestId"]

    answer = lambda_handler(request, LocalContext())

    assert_names_its_request(answer, request_id)
    assert "KeyError" in logged_failure(capsys.readouterr().out, request_id)["exception"]


def test_a_failure_of_the_resolver_itself_is_a_logged_500_too(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = build_resolver()

    def broken(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise TypeError("the answer could not be built")

    monkeypatch.setattr(app, "resolve", broken)
    request = event("/projects", new_token())
    request_id = request["requestContext"]["requestId"]

    answer = resolve(app, request, LocalContext())

    assert_names_its_request(answer, request_id)
    assert "could not be built" in logged_failure(capsys.readouterr().out, request_id)["exception"]
