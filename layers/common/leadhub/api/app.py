"""The resolver of the HTTP API: authentication, validation, the OpenAPI document, Swagger UI,
and the one mapping of domain errors to HTTP answers.

`build_resolver()` is called once per process by the Lambda handler and by the local server, so
both serve exactly the same routes with exactly the same error mapping. No answer echoes the
input that was refused (it may hold credentials).
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from leadhub import __version__
from leadhub.api.contract import SECURITY_SCHEMES, ContractResolver
from leadhub.api.edge import request_id, unexpected_failure
from leadhub.api.problems import problem
from leadhub.api.routers import (
    connectors,
    crm_sync,
    health,
    plan_imports,
    projects,
    reports,
    roistat_crm,
    static_channels,
)
from leadhub.errors import InvalidRequest, RunInProgress
from leadhub.observability import logger
from leadhub.store import errors as store_errors
from leadhub.vendors import errors as vendor_errors

TITLE = "Leadhub connector API"
DESCRIPTION = (
    "Connects a BI project to Roistat, Ringostat, Calltouch and amoCRM: check credentials, save "
    "connectors with their settings, follow extraction, read conversion reports.\n\n"
    "Every route but /health needs `Authorization: Bearer <token>` (Swagger UI: **Authorize**). "
    "Bodies are JSON (`Content-Type: application/json`). Every 4xx and 5xx answer is an `ErrorAnswer`."
)
ROUTERS = (
    health.router,
    projects.router,
    connectors.router,
    static_channels.router,
    reports.router,
    roistat_crm.router,
    crm_sync.router,
    plan_imports.router,
)


def to_json(body: Any) -> str:
    """Answers in readable UTF-8: the messages a marketer reads are in Russian."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str)


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc]
    if len(parts) > 1 and parts[0] == "body":
        parts = parts[1:]
    return ".".join(parts) or "body"


def field_errors(errors: list[Any]) -> list[dict[str, str]]:
    """pydantic errors as {field, problem}, without the refused input."""
    return [
        {"field": _location(tuple(error.get("loc", ()))), "problem": str(error.get("msg", error.get("type")))}
        for error in errors
    ]


def vendor_status(exc: vendor_errors.VendorError) -> HTTPStatus:
    if exc.error_class is vendor_errors.ErrorClass.CONFIG:
        return HTTPStatus.UNPROCESSABLE_ENTITY
    if isinstance(exc, vendor_errors.TransientError):
        return HTTPStatus.SERVICE_UNAVAILABLE
    return HTTPStatus.BAD_GATEWAY


def build_resolver() -> APIGatewayHttpResolver:
    app = ContractResolver(
        enable_validation=True,
        response_validation_error_http_code=HTTPStatus.INTERNAL_SERVER_ERROR,
        serializer=to_json,
    )
    for router in ROUTERS:
        app.include_router(router)
    app.configure_openapi(title=TITLE, version=__version__, description=DESCRIPTION, security_schemes=SECURITY_SCHEMES)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_document() -> Response[str]:
        return Response(200, content_types.APPLICATION_JSON, openapi_json(app))

    @app.exception_handler(RequestValidationError)
    def invalid_request(exc: RequestValidationError) -> Response[Any]:
        errors = exc.errors()
        if any(error.get("type") == "json_invalid" for error in errors):
            return problem(HTTPStatus.BAD_REQUEST, "the body is not valid JSON")
        return problem(HTTPStatus.UNPROCESSABLE_ENTITY, "the request is invalid", fields=field_errors(list(errors)))

    @app.exception_handler(ValidationError)
    def invalid_content(exc: ValidationError) -> Response[Any]:
        return problem(
            HTTPStatus.UNPROCESSABLE_ENTITY, "the request is invalid", fields=field_errors(list(exc.errors()))
        )

    @app.exception_handler(InvalidRequest)
    def refused(exc: InvalidRequest) -> Response[Any]:
        fields = [{"field": exc.field, "problem": str(exc)}] if exc.field else []
        return problem(HTTPStatus.UNPROCESSABLE_ENTITY, str(exc), fields=fields, **exc.details)

    @app.exception_handler(RunInProgress)
    def busy(exc: RunInProgress) -> Response[Any]:
        return problem(HTTPStatus.CONFLICT, str(exc))

    @app.exception_handler(NotFoundError)
    def not_found(exc: NotFoundError) -> Response[Any]:
        return problem(HTTPStatus.NOT_FOUND, "no such route")

    @app.exception_handler(store_errors.NotFound)
    def missing(exc: store_errors.NotFound) -> Response[Any]:
        return problem(HTTPStatus.NOT_FOUND, "not found")

    @app.exception_handler(store_errors.AlreadyExists)
    def exists(exc: store_errors.AlreadyExists) -> Response[Any]:
        return problem(HTTPStatus.CONFLICT, "already exists")

    @app.exception_handler(store_errors.VersionConflict)
    def conflict(exc: store_errors.VersionConflict) -> Response[Any]:
        return problem(HTTPStatus.CONFLICT, "changed by someone else meanwhile: read it again and retry")

    @app.exception_handler(store_errors.StoreUnavailable)
    def unavailable(exc: store_errors.StoreUnavailable) -> Response[Any]:
        logger.warning("storage unavailable", extra={"error": str(exc)})
        return problem(HTTPStatus.SERVICE_UNAVAILABLE, "storage is busy: retry shortly")

    @app.exception_handler(vendor_errors.VendorError)
    def vendor_refused(exc: vendor_errors.VendorError) -> Response[Any]:
        logger.info("vendor refused", extra={"vendor_error": exc.to_dict()})
        message = f"{exc.vendor} refused: {exc.message}. {exc.explanation}"
        return problem(vendor_status(exc), message, vendor_error=exc.to_dict())

    @app.exception_handler(ServiceError)
    def refused_by_powertools(exc: ServiceError) -> Response[Any]:
        return problem(HTTPStatus(exc.status_code), str(exc.msg))

    @app.exception_handler(Exception)
    def failed(exc: Exception) -> Response[Any]:
        body = unexpected_failure(request_id(app), app.lambda_context)
        return Response(HTTPStatus.INTERNAL_SERVER_ERROR.value, content_types.APPLICATION_JSON, body)

    return app


SWAGGER_PATH = "/swagger"


def enable_swagger_when_asked(app: APIGatewayHttpResolver, event: dict[str, Any]) -> None:
    """Swagger UI's route is added by the first request for it: Powertools' `enable_swagger` imports
    its OpenAPI models (~30 ms of every cold start), which no other route needs."""
    if getattr(app, "swagger_enabled", False) or not str(event.get("rawPath") or "").endswith(SWAGGER_PATH):
        return
    app.enable_swagger(path=SWAGGER_PATH, persist_authorization=True)
    app.swagger_enabled = True  # type: ignore[attr-defined]


def resolve(app: APIGatewayHttpResolver, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The resolver's answer; if even building it fails, a logged 500 that names the request."""
    try:
        enable_swagger_when_asked(app, event)
        return app.resolve(event, context)
    except Exception:
        rid = str((event.get("requestContext") or {}).get("requestId") or "")
        body = unexpected_failure(rid, context)
        return {"statusCode": 500, "headers": {"Content-Type": content_types.APPLICATION_JSON}, "body": to_json(body)}


def openapi_json(app: APIGatewayHttpResolver) -> str:
    return app.get_openapi_json_schema()
