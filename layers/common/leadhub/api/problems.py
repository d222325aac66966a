"""The one error shape of the API: `{"error": <HTTP phrase>, "message": <plain words>, ...details}`.

Every refusal is built here — by the routes' error mapping, by authentication, by the edge
checks, by the last-resort 500 and by the local gateway stand-in — so no answer can drift from it.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types


def problem_body(status: HTTPStatus, message: str, **details: Any) -> dict[str, Any]:
    return {"error": status.phrase, "message": message, **details}


def problem(
    status: HTTPStatus, message: str, *, headers: dict[str, str] | None = None, **details: Any
) -> Response[Any]:
    return Response(
        status_code=status.value,
        content_type=content_types.APPLICATION_JSON,
        body=problem_body(status, message, **details),
        headers=headers,
    )
