"""Calltouch plan imports (seed 004): rows as JSON or an uploaded XLSX, checked before anything is
sent, then sent by the plan-import function; progress and the result file by the import's id."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import ConfigDict, Field

from leadhub.api.auth import current_account
from leadhub.api.contract import JSON_BODY, operation
from leadhub.api.routers.ids import id_path
from leadhub.exports.links import Link
from leadhub.models.base import DeferredModel
from leadhub.plans.service import MAX_ITEMS, PlanImports, PlanImportView

router = Router()

ConnectorId = Annotated[str, id_path("The Calltouch connector's id.")]
ImportId = Annotated[str, id_path("The plan import's id, as `POST …/plan-imports` answered it.")]
Tags = ["plan imports"]
#: Another vendor's connector is refused with 422.
ON_CONNECTOR = (HTTPStatus.NOT_FOUND, HTTPStatus.UNPROCESSABLE_ENTITY)

ITEM_EXAMPLE: dict[str, Any] = {
    "dateFrom": "01-04-2021",
    "dateTo": "02-04-2021",
    "source": "yandex",
    "medium": "cpc",
    "metric": {"type": "Лиды", "name": "Уникальные лиды", "value": 100},
}


SEND_VALID_ONLY = Field(
    default=False,
    description="False: any invalid row refuses the whole import (422) and nothing is sent. True: the valid "
    "rows are sent, the invalid ones are listed in the result as not sent.",
)


class ItemsImport(DeferredModel):
    """Rows as JSON."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [{"items": [ITEM_EXAMPLE]}]})

    items: list[Any] = Field(
        max_length=MAX_ITEMS,
        description="Rows in the shape of Calltouch's `plans-import/add` items (seed 004): `dateFrom`, `dateTo` "
        "(dd-mm-yyyy), at least one of `source`/`medium`/`campaign`/`content`/`keyword`, and `metric` "
        "{`type`, `name`, `value` (integer)}. Any number: Leadhub sends them in chunks of 100.",
    )
    send_valid_only: bool = SEND_VALID_ONLY


class UploadImport(DeferredModel):
    """A filled-in template uploaded through `…/plan-imports/upload-url`."""

    model_config = ConfigDict(extra="forbid", strict=True)

    upload_key: str = Field(
        min_length=1,
        max_length=1024,
        description="The `key` that `…/plan-imports/upload-url` answered, after the filled-in template was PUT there.",
    )
    send_valid_only: bool = SEND_VALID_ONLY


SUBMIT = operation(
    "Import plan metrics into Calltouch",
    "Checks every row against Calltouch's rules first; any violation refuses the import with 422 and "
    "`violations` naming each one as `items[N].field` (and the sheet `row` and `cell` for an XLSX) in "
    "Calltouch's Russian wording — nothing is sent, unless `send_valid_only` is true. Otherwise answers 202 "
    "and sends the rows in chunks of ≤ 100 within Calltouch's 5 requests a second; follow it with "
    "`GET /plan-imports/{id}`. The same rows submitted again answer 200 with the first import "
    "(`duplicate: true`) instead of importing them twice.",
    status=HTTPStatus.ACCEPTED,
    errors=(*JSON_BODY, *ON_CONNECTOR),
)
SUBMIT["responses"][HTTPStatus.OK.value] = {
    "description": "The same rows were submitted before: that import (`duplicate: true`), nothing sent again."
}


@router.post("/connectors/<connector_id>/plan-imports", tags=Tags, **SUBMIT)
def submit(connector_id: ConnectorId, request: ItemsImport | UploadImport) -> Response[PlanImportView]:
    account = current_account(router)
    service = PlanImports()
    if isinstance(request, ItemsImport):
        view = service.submit_items(account, connector_id, request.items, send_valid_only=request.send_valid_only)
    else:
        view = service.submit_upload(account, connector_id, request.upload_key, send_valid_only=request.send_valid_only)
    status = HTTPStatus.OK if view.duplicate else HTTPStatus.ACCEPTED
    return Response(status.value, content_types.APPLICATION_JSON, view)


@router.post(
    "/connectors/<connector_id>/plan-imports/upload-url",
    tags=Tags,
    **operation(
        "A link to upload a filled-in plan template to",
        'An expiring link to `PUT` the XLSX to; then import it with `POST …/plan-imports` and `{"upload_key": …}`.',
        errors=ON_CONNECTOR,
    ),
)
def upload_url(connector_id: ConnectorId) -> Link:
    return PlanImports().upload_link(current_account(router), connector_id)


@router.get(
    "/connectors/<connector_id>/plan-imports/template",
    tags=Tags,
    **operation(
        "The plan template (XLSX), behind a link",
        "A link that expires, to an XLSX with seed 004's columns; «Тип метрики» is a drop-down list of "
        "Calltouch's metric types and «Название метрики» a drop-down list of the names of the type chosen "
        "on the row (free text for «Пользовательские» and «Цели», the project's own columns and goals).",
        errors=ON_CONNECTOR,
    ),
)
def template(connector_id: ConnectorId) -> Link:
    return PlanImports().template_link(current_account(router), connector_id)


@router.get(
    "/plan-imports/<import_id>",
    tags=Tags,
    **operation(
        "Where a plan import got to",
        "Its state, chunks sent / confirmed / failed with Calltouch's import log ids, and at the end `result`: "
        "a link to an XLSX of the submitted rows with a status each.",
        errors=(HTTPStatus.NOT_FOUND,),
    ),
)
def get_import(import_id: ImportId) -> PlanImportView:
    return PlanImports().get(current_account(router), import_id)
