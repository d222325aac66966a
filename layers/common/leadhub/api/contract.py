"""What the OpenAPI document promises beyond the routes themselves: the bearer scheme, the one
error shape every refusal has, and the error answers each operation documents.

Every route declares its summary, description and errors through `operation(...)`, so no route
can be published without them (a test walks the document to hold that).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from pydantic import ConfigDict, Field

from leadhub.api.edge import EdgeResolver
from leadhub.exports.static_channels import RowError
from leadhub.models.base import DeferredModel
from leadhub.plans.validate import Violation

BEARER = "bearerAuth"
#: As plain data, validated into Powertools' OpenAPI models when the document is made: importing those
#: models costs every cold start, and only `/openapi.json` needs them.
SECURITY_SCHEMES: dict[str, Any] = {
    BEARER: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "opaque token",
        "description": "A Leadhub API token of your account: send `Authorization: Bearer <token>`. "
        "`make run` prints the dev account's token.",
    }
}
SIGNED_IN: list[dict[str, list[str]]] = [{BEARER: []}]


class FieldProblem(DeferredModel):
    field: str = Field(description="Where the problem is: a dot path into the body, a parameter name, or `body`.")
    problem: str = Field(description="What is wrong, in plain words (the refused value is never echoed).")


class VendorErrorInfo(DeferredModel):
    """How the vendor refused, as the connector status shows it."""

    model_config = ConfigDict(populate_by_name=True)

    vendor: str = Field(description="The vendor that answered: roistat, ringostat, calltouch or amocrm.")
    error_class: str = Field(
        alias="class",
        description="config: the user must act (key, access, a module switched off); transient: retry later; "
        "malformed: the vendor answered something unreadable; bug: the vendor refused Leadhub's request.",
    )
    type: str = Field(description="The error kind, e.g. InvalidCredentials.")
    code: str | None = Field(description="The vendor's own error code, when it gave one.")
    status: int | None = Field(description="The vendor's HTTP status, when there was one.")
    message: str = Field(description="The vendor's message, secrets masked.")
    explanation: str = Field(description="What to do about it.")


class ErrorAnswer(DeferredModel):
    """Every 4xx and 5xx answer of the API has this shape."""

    error: str = Field(description="The HTTP status phrase, e.g. `Unprocessable Entity`.", examples=["Not Found"])
    message: str = Field(description="What went wrong, in plain words.", examples=["not found"])
    fields: list[FieldProblem] | None = Field(
        default=None, description="The inputs that were refused, one per problem."
    )
    rows: list[RowError] | None = Field(
        default=None, description="Static-channel import only: the spreadsheet rows that were refused."
    )
    violations: list[Violation] | None = Field(
        default=None, description="Plan import only: every row that breaks Calltouch's rules, as Calltouch names it."
    )
    vendor_error: VendorErrorInfo | None = Field(
        default=None, description="When the vendor refused: its answer, classified."
    )
    request_id: str | None = Field(
        default=None, description="500 only: the id to quote when reporting an internal error (it names the log line)."
    )


_WHY: dict[HTTPStatus, str] = {
    HTTPStatus.BAD_REQUEST: "The body is not JSON, or nests or weighs more than the API reads.",
    HTTPStatus.UNAUTHORIZED: "No bearer token, or one that is unknown or revoked.",
    HTTPStatus.NOT_FOUND: "No such object in your account (another account's objects are not found either).",
    HTTPStatus.CONFLICT: "Changed by someone else meanwhile: read it again and retry.",
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: "The body is larger than the API accepts.",
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE: "The body is not sent as `Content-Type: application/json`.",
    HTTPStatus.UNPROCESSABLE_ENTITY: "The request breaks a rule: `fields` says which input and why.",
    HTTPStatus.INTERNAL_SERVER_ERROR: "An unexpected failure; it is logged with the request id.",
    HTTPStatus.BAD_GATEWAY: "The vendor answered something Leadhub cannot use: `vendor_error` says what.",
    HTTPStatus.SERVICE_UNAVAILABLE: "Storage or the vendor is busy or unreachable: retry shortly.",
}
#: What any operation may answer, whatever it does (Powertools' validation documents 422 on every
#: route, so every route documents it with the one error shape).
_ALWAYS = (HTTPStatus.UNPROCESSABLE_ENTITY, HTTPStatus.INTERNAL_SERVER_ERROR)
#: What any signed-in operation may answer besides: it reads tokens from storage.
_SIGNED_IN = (HTTPStatus.UNAUTHORIZED, HTTPStatus.SERVICE_UNAVAILABLE)
#: What an operation with a JSON body may answer besides.
JSON_BODY = (
    HTTPStatus.BAD_REQUEST,
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
    HTTPStatus.UNPROCESSABLE_ENTITY,
)


def error_response(status: HTTPStatus) -> dict[str, Any]:
    return {"description": _WHY[status], "content": {"application/json": {"model": ErrorAnswer}}}


def operation(
    summary: str,
    description: str,
    *,
    errors: tuple[HTTPStatus, ...] = (),
    status: HTTPStatus = HTTPStatus.OK,
    public: bool = False,
) -> dict[str, Any]:
    """The keyword arguments of a route decorator that document the operation fully."""
    refusals = (*_ALWAYS, *errors) if public else (*_ALWAYS, *_SIGNED_IN, *errors)
    responses: dict[int, Any] = {status.value: {"description": status.phrase}}
    responses.update({refusal.value: error_response(refusal) for refusal in sorted(set(refusals))})
    return {
        "summary": summary,
        "description": description,
        "responses": responses,
        "security": None if public else SIGNED_IN,
    }


class ContractResolver(EdgeResolver):
    """The resolver whose document promises `ErrorAnswer` for every refusal.

    Powertools documents its own error shapes (422 `HTTPValidationError`, 500
    `ResponseValidationError`) on every route; the API never answers them, since `operation(...)`
    documents every status with `ErrorAnswer` and the exception handlers answer with it."""

    def _add_resolver_response_validation_error_response_to_route(
        self, route_openapi_path: tuple[dict[str, Any], dict[str, Any]]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        return route_openapi_path

    def _generate_schemas(self, definitions: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        schemas = super()._generate_schemas(definitions)
        return {name: schema for name, schema in schemas.items() if name not in _NEVER_ANSWERED}


_NEVER_ANSWERED = frozenset({"HTTPValidationError", "ValidationError", "ResponseValidationError"})
