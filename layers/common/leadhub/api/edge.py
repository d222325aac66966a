"""What every request is checked for before a route sees it, and what answers when a route fails
in a way nobody planned for.

Order: authentication (a caller without a token learns nothing, not even which methods a route
has), then the method (405 naming what is allowed), then the body: JSON only (415), bounded in
size (413) and in nesting (400), and valid (400). Nesting is measured before anything parses:
`json.loads` recurses, so a deep body would otherwise end in a RecursionError far from here.
"""

from __future__ import annotations

import json
import re
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import ResponseBuilder, Route

from leadhub.api.auth import authenticate
from leadhub.api.problems import problem, problem_body
from leadhub.observability import logger

JSON = "application/json"
#: The largest body a route reads; the biggest real one (settings with static channels) is far below.
MAX_BODY_BYTES = 1024 * 1024
#: The deepest nesting a route reads; the deepest real body (settings) nests 4 levels.
MAX_NESTING = 32

#: Routes that read a body other than JSON, by (method, rule): the media types they take.
_MEDIA_TYPES: dict[tuple[str, str], frozenset[str]] = {}

# a JSON string (skipped whole, so brackets inside it do not count) or a bracket
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]++|\\.)*+"|[\[\]{}]')


def nests_deeper_than(text: str, limit: int) -> bool:
    depth = 0
    for token in _STRING_OR_BRACKET.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            if depth > limit:
                return True
        elif bracket in "]}":
            depth -= 1
    return False


def accepts(method: str, rule: str, *media_types: str) -> None:
    """Declares the media types a route reads; a route that declares none reads JSON only."""
    _MEDIA_TYPES[(method.upper(), rule)] = frozenset(media_types)


def request_id(app: APIGatewayHttpResolver) -> str:
    """API Gateway's id of the request: the one its access log and `apigw-requestid` header carry."""
    return str(app.current_event.request_context.request_id or "")


class EdgeResolver(APIGatewayHttpResolver):
    """Refuses at the edge what no route should see (see the module docstring); anything raised
    on the way, authentication included, goes through the same exception handlers as a route's."""

    def _resolve(self) -> ResponseBuilder[Any]:
        try:
            refusal = authenticate(self) or self._refusal()
        except Exception as exc:
            handled = self._call_exception_handler(exc, route=None)  # type: ignore[arg-type]
            if handled is None:
                raise
            return handled
        if refusal is not None:
            return self._response_builder_class(response=refusal, serializer=self._serializer)
        return super()._resolve()

    def matching_routes(self, path: str) -> list[Route]:
        return [route for route in self._static_routes + self._dynamic_routes if route.rule.match(path)]

    def _refusal(self) -> Response[Any] | None:
        event = self.current_event
        method = event.http_method.upper()
        routes = self.matching_routes(event.path)
        allowed = sorted({route.method for route in routes})
        if allowed and method not in allowed:
            return problem(
                HTTPStatus.METHOD_NOT_ALLOWED,
                f"{method} is not allowed here; allowed: {', '.join(allowed)}",
                headers={"Allow": ", ".join(allowed)},
            )
        body = event.body
        if not body:
            return None
        media_type = (event.headers.get("content-type") or "").split(";")[0].strip().lower()
        route = next((route for route in routes if route.method == method), None)
        accepted = _MEDIA_TYPES.get((method, route.path), frozenset()) if route else frozenset()
        if media_type != JSON:
            if media_type in accepted:
                return None  # a file: the route reads it, the platform's payload limit bounds it
            wanted = " or ".join(sorted({JSON, *accepted}))
            return problem(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, f"send the body with 'Content-Type: {wanted}'")
        if len(body) > MAX_BODY_BYTES:
            return problem(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the body is larger than {MAX_BODY_BYTES} bytes")
        if nests_deeper_than(body, MAX_NESTING):
            return problem(HTTPStatus.BAD_REQUEST, f"the body is nested more than {MAX_NESTING} levels deep")
        try:  # here once for every route, also those that read the body themselves
            json.loads(body)
        except ValueError:
            return problem(HTTPStatus.BAD_REQUEST, "the body is not valid JSON")
        return None


def unexpected_failure(rid: str, context: Any) -> dict[str, Any]:
    """Logs the exception being handled, traceback included, and answers the 500 body that names
    the request, so a user can quote it and the log line can be found by it. The id goes into the
    line itself, not only into Logger keys: those are process-wide, shared with the extraction
    runs that the local stack executes on other threads."""
    logger.exception(
        "unexpected failure", extra={"request_id": rid, "lambda_request_id": getattr(context, "aws_request_id", None)}
    )
    return problem_body(
        HTTPStatus.INTERNAL_SERVER_ERROR, f"internal error; quote request id {rid} when you report it", request_id=rid
    )
