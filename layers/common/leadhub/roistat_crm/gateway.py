"""The page behind API Gateway (HTTP API, payload 2.0): an event in, the page's answer out.

Parameters come from the query and, if there is one, a form or JSON body (the SDK merges both; the
query wins). Whatever goes wrong, the answer is the page's error shape, never a bare 500 with data.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from leadhub.observability import logger
from leadhub.roistat_crm import shapes
from leadhub.roistat_crm.page import Answer, ExportPage
from leadhub.store.errors import StoreUnavailable

_PROJECT = re.compile(r"/roistat-crm/([A-Za-z0-9_-]{1,64})/?$")
#: What a body may hold: Roistat's pushes are small; anything larger is not Roistat.
MAX_BODY_BYTES = 256 * 1024


def _body_params(event: dict[str, Any]) -> dict[str, str]:
    raw = event.get("body") or ""
    data = base64.b64decode(raw) if event.get("isBase64Encoded") else str(raw).encode()
    if not data:
        return {}
    if len(data) > MAX_BODY_BYTES:
        raise ValueError("the body is too large")
    text = data.decode("utf-8")
    content_type = str((event.get("headers") or {}).get("content-type", ""))
    if "json" in content_type:
        document = json.loads(text)
        if not isinstance(document, dict):
            raise ValueError("a JSON body must be an object")
        return {
            str(key): value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            for key, value in document.items()
        }
    return dict(parse_qsl(text, keep_blank_values=True))


def _http(answer: Answer) -> dict[str, Any]:
    """Base64, so the response's size is the body's 4/3 whatever it holds: as a JSON string, Cyrillic
    could be escaped to six bytes a letter, and Lambda's 6 MB limit counts the serialised response."""
    headers = {"Content-Type": answer.content_type, "Cache-Control": "no-store", **answer.headers}
    body = base64.b64encode(answer.body).decode("ascii")
    return {"statusCode": answer.status, "headers": headers, "body": body, "isBase64Encoded": True}


def _refusal(status: HTTPStatus, message: str) -> dict[str, Any]:
    body = shapes.message(shapes.JSON, {"status": "error", "error": message})
    return _http(Answer(status.value, body, shapes.CONTENT_TYPES[shapes.JSON]))


def answer_event(event: dict[str, Any], page: ExportPage | None = None) -> dict[str, Any]:
    method = str(((event.get("requestContext") or {}).get("http") or {}).get("method", "GET"))
    if method not in ("GET", "POST"):
        answer = _refusal(HTTPStatus.METHOD_NOT_ALLOWED, "the page answers GET (and POST, as Roistat pushes leads)")
        answer["headers"]["Allow"] = "GET, POST"
        return answer
    path = str(event.get("rawPath") or "")
    found = _PROJECT.search(path)
    if found is None:
        return _refusal(HTTPStatus.NOT_FOUND, "unknown project: the page is /roistat-crm/<project id>")
    try:
        params = _body_params(event)
    except (ValueError, UnicodeDecodeError):
        return _refusal(HTTPStatus.BAD_REQUEST, "the body is neither a form nor a JSON object Leadhub can read")
    params.update(event.get("queryStringParameters") or {})
    try:
        return _http((page or ExportPage()).answer(found.group(1), params))
    except StoreUnavailable:
        logger.warning("roistat page: storage busy", extra={"project_id": found.group(1)})
        return _refusal(HTTPStatus.SERVICE_UNAVAILABLE, "storage is busy: retry shortly")
    except Exception:
        request_id = str((event.get("requestContext") or {}).get("requestId") or uuid.uuid4())
        logger.exception("roistat page failed", extra={"project_id": found.group(1), "request_id": request_id})
        return _refusal(HTTPStatus.INTERNAL_SERVER_ERROR, f"internal error; quote request id {request_id}")
