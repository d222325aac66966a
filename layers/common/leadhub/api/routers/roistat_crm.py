"""The Roistat custom-CRM export, signed-in side: the push API a customer's CRM feeds deals,
clients, statuses, fields and managers through, and the management of the export page Roistat
pulls them from (the page itself is the public `roistat_crm` function)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel

from leadhub.api.auth import current_account
from leadhub.api.contract import JSON_BODY, operation
from leadhub.api.routers.ids import id_path
from leadhub.roistat_crm.config import crm_settings
from leadhub.roistat_crm.management import ExportPages, PageCreated, PageSettings, PageView
from leadhub.roistat_crm.push import PushResult, Records
from leadhub.roistat_crm.records import BATCHES

router = Router()

Tags = ["roistat custom CRM"]
ProjectId = Annotated[str, id_path("The project's id, as `POST /projects` answered it.")]


_WHAT = {
    "deals": "Deals (seed 003 `orders`): id, name, date_create (unix time), status, price, cost "
    "(≥ 0.01), roistat (the visit), client_id, manager_id, fields. A changed status, price or field exports "
    "the deal again.",
    "clients": "Clients (seed 003 `clients`): id, name, phone, email, company, birth_date (`Y-m-d`), fields.",
    "statuses": "Statuses: id, name. Roistat lists them in «Распределение статусов» to group.",
    "fields": "Custom deal fields: id, name.",
    "managers": "Managers: id, name, email, phone.",
}


def _register_push(segment: str, batch: type[BaseModel]) -> None:
    def push(project_id: str, request: Any) -> PushResult:
        return Records().push(current_account(router), project_id, segment, list(request.items))

    push.__name__ = f"push_crm_{segment}"
    # the body's model differs per segment: annotations set here, as the resolver reads them
    push.__annotations__ = {"project_id": ProjectId, "request": Annotated[batch, Body()], "return": PushResult}
    router.post(
        f"/projects/<project_id>/crm/{segment}",
        tags=Tags,
        **operation(
            f"Upsert {segment} for Roistat",
            f"{_WHAT[segment]} A batch upsert by id, idempotent: an unchanged record keeps its update time. An item "
            "that breaks its schema is named in the 422 (`items.<index>.<field>`) and nothing is stored; an id sent "
            "twice in one batch is listed in `refused` and the other items are stored.",
            errors=(*JSON_BODY, HTTPStatus.NOT_FOUND),
        ),
    )(push)


for _segment, _batch in BATCHES.items():
    _register_push(_segment, _batch)


def _base_url() -> str:
    """The API's public base URL, as the caller reached it (or ROISTAT_CRM_PUBLIC_URL)."""
    configured = crm_settings().public_url
    if configured:
        return configured
    event = router.current_event
    context = event.raw_event.get("requestContext") or {}
    scheme = event.headers.get("x-forwarded-proto") or "http"
    host = event.headers.get("host") or context.get("domainName", "")
    stage = context.get("stage")
    return f"{scheme}://{host}" + ("" if not stage or stage == "$default" else f"/{stage}")


@router.post(
    "/projects/<project_id>/roistat-crm",
    tags=Tags,
    **operation(
        "Create or rotate the Roistat export page",
        "The URL, login and password to enter in Roistat's «Своя CRM» integration (seed 003 step 6). The password "
        "is answered this once and kept in Secrets Manager; posting again rotates login and password (the old ones "
        "stop working at once) and sets the format.",
        errors=(*JSON_BODY, HTTPStatus.NOT_FOUND),
        status=HTTPStatus.CREATED,
    ),
)
def create_page(project_id: ProjectId, request: Annotated[PageSettings, Body()]) -> Response[PageCreated]:
    created = ExportPages().create(current_account(router), project_id, request, _base_url())
    return Response(201, content_types.APPLICATION_JSON, created)


@router.get(
    "/projects/<project_id>/roistat-crm",
    tags=Tags,
    **operation(
        "Show the Roistat export page",
        "Its URL, login (never the password), format, when Roistat last pulled, and how many records the "
        "project keeps.",
        errors=(HTTPStatus.NOT_FOUND,),
    ),
)
def show_page(project_id: ProjectId) -> PageView:
    return ExportPages().show(current_account(router), project_id, _base_url())
