from __future__ import annotations

import base64
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router

from leadhub.api import edge
from leadhub.api.auth import current_account
from leadhub.api.contract import JSON_BODY, operation
from leadhub.api.routers.ids import id_path
from leadhub.errors import InvalidRequest
from leadhub.exports.links import XLSX, Link
from leadhub.setup.static_channels import ImportOutcome, StaticChannels

router = Router()

ConnectorId = Annotated[str, id_path("The Roistat or Ringostat connector's id.")]
Tags = ["static channels"]
#: A connector of a vendor without static channels is refused with 422.
ON_CONNECTOR = (HTTPStatus.NOT_FOUND, HTTPStatus.UNPROCESSABLE_ENTITY)
_SPREADSHEET = {"schema": {"type": "string", "format": "binary"}}
#: The import reads its body itself (a file or JSON), so its body is documented by hand.
IMPORT_BODY = {
    "required": True,
    "content": {
        XLSX: _SPREADSHEET,
        "application/octet-stream": _SPREADSHEET,
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["upload_key"],
                "additionalProperties": False,
                "properties": {
                    "upload_key": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 1024,
                        "description": "The `key` that `/upload-url` answered, after the file was PUT there.",
                    }
                },
            }
        },
    },
}


@router.post(
    "/connectors/<connector_id>/static-channels/export",
    tags=Tags,
    **operation(
        "«Выгрузить»: the static channels as an XLSX",
        "The connector's static channels («Статические каналы») as a spreadsheet with the columns the "
        "settings page shows, behind a link that expires.",
        errors=ON_CONNECTOR,
    ),
)
def export_channels(connector_id: ConnectorId) -> Link:
    return StaticChannels().export(current_account(router), connector_id)


@router.post(
    "/connectors/<connector_id>/static-channels/upload-url",
    tags=Tags,
    **operation(
        "A link to upload an XLSX to",
        "An expiring link to `PUT` a static-channels spreadsheet to; then import it with "
        '`POST …/static-channels/import` and `{"upload_key": …}`. For files too large to send to the API.',
        errors=ON_CONNECTOR,
    ),
)
def upload_url(connector_id: ConnectorId) -> Link:
    return StaticChannels().upload_link(current_account(router), connector_id)


IMPORT = "/connectors/<connector_id>/static-channels/import"
OCTET_STREAM = "application/octet-stream"
edge.accepts("POST", IMPORT, XLSX, OCTET_STREAM)


@router.post(
    IMPORT,
    tags=Tags,
    **operation(
        "Replace the static channels from an XLSX",
        "The spreadsheet is the body itself (`Content-Type: application/vnd.openxmlformats-officedocument"
        '.spreadsheetml.sheet`), or JSON `{"upload_key": …}` naming what was uploaded through '
        "`/upload-url`. All rows or none: any invalid row refuses the file with 422 and `rows` lists "
        "each problem by row and column.",
        errors=(*JSON_BODY, *ON_CONNECTOR, HTTPStatus.CONFLICT),
    ),
    openapi_extensions={"requestBody": IMPORT_BODY},
)
def import_channels(connector_id: ConnectorId) -> ImportOutcome:
    event = router.current_event
    content_type = (event.headers.get("content-type") or "").split(";")[0].strip().lower()
    service = StaticChannels()
    if content_type == "application/json":
        body = event.json_body
        key = body.get("upload_key") if isinstance(body, dict) else None
        if not isinstance(key, str):
            raise InvalidRequest('send the XLSX as the body, or JSON {"upload_key": …}', field="upload_key")
        return service.import_upload(current_account(router), connector_id, key)
    if content_type not in (XLSX, OCTET_STREAM):
        raise InvalidRequest(f"send the file with Content-Type {XLSX}", field="content-type")
    raw = event.body or ""
    data = base64.b64decode(raw) if event.is_base64_encoded else raw.encode("latin-1", errors="replace")
    return service.import_file(current_account(router), connector_id, data)
