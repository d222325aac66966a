"""The resolver of the HTTP API: validation, the OpenAPI document, Swagger UI, error mapping.

`build_resolver()` is called once per process by the Lambda handler and by the local server, so
both serve exactly the same routes with exactly the same error mapping.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from leadhub import __version__
from leadhub.api.routers import health
from leadhub.observability import logger
from leadhub.store import errors as store_errors
from leadhub.vendors import errors as vendor_errors

TITLE = "Leadhub connector API"
ROUTERS = (health.router,)


def _problem(status: HTTPStatus, message: str, **details: Any) -> Response[Any]:
    return Response(
        status_code=status.value,
        content_type=content_types.APPLICATION_JSON,
        body={"error": status.phrase, "message": message, **details},
    )


def build_resolver() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(
        enable_validation=True, response_validation_error_http_code=HTTPStatus.INTERNAL_SERVER_ERROR
    )
    for router in ROUTERS:
        app.include_router(router)
    app.enable_swagger(path="/swagger", title=TITLE, version=__version__)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_document() -> Response[str]:
        return Response(200, content_types.APPLICATION_JSON, openapi_json(app))

    @app.exception_handler(NotFoundError)
    def not_found(exc: NotFoundError) -> Response[Any]:
        return _problem(HTTPStatus.NOT_FOUND, "no such route")

    @app.exception_handler(store_errors.NotFound)
    def missing(exc: store_errors.NotFound) -> Response[Any]:
        return _problem(HTTPStatus.NOT_FOUND, "not found")

    @app.exception_handler(store_errors.VersionConflict)
    def conflict(exc: store_errors.VersionConflict) -> Response[Any]:
        return _problem(HTTPStatus.CONFLICT, "changed by someone else meanwhile: read it again and retry")

    @app.exception_handler(store_errors.StoreUnavailable)
    def unavailable(exc: store_errors.StoreUnavailable) -> Response[Any]:
        logger.warning("storage unavailable", extra={"error": str(exc)})
        return _problem(HTTPStatus.SERVICE_UNAVAILABLE, "storage is busy: retry shortly")

    @app.exception_handler(vendor_errors.VendorError)
    def vendor_refused(exc: vendor_errors.VendorError) -> Response[Any]:
        status = HTTPStatus.BAD_GATEWAY
        if exc.error_class is vendor_errors.ErrorClass.CONFIG:
            status = HTTPStatus.UNPROCESSABLE_ENTITY
        elif isinstance(exc, vendor_errors.TransientError):
            status = HTTPStatus.SERVICE_UNAVAILABLE
        return _problem(status, exc.explanation, vendor_error=exc.to_dict())

    return app


def openapi_json(app: APIGatewayHttpResolver) -> str:
    return app.get_openapi_json_schema(title=TITLE, version=__version__)
