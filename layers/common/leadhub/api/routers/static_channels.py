from __future__ import annotations

import base64
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from leadhub.api import edge
from leadhub.api.auth import current_account
from leadhub.setup.errors import InvalidRequest
from leadhub.setup.links import XLSX, Link
from leadhub.setup.static_channels import ImportOutcome, StaticChannels

router = Router()

Id = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Tags = ["static channels"]


@router.post(
    "/connectors/<connector_id>/static-channels/export",
    summary="«Выгрузить»: the static channels as an XLSX, through a link that expires",
    tags=Tags,
)
def export_channels(connector_id: Id) -> Link:
    return StaticChannels().export(current_account(router), connector_id)


@router.post(
    "/connectors/<connector_id>/static-channels/upload-url",
    summary="A link to PUT an XLSX to, for a later import",
    tags=Tags,
)
def upload_url(connector_id: Id) -> Link:
    return StaticChannels().upload_link(current_account(router), connector_id)


IMPORT = "/connectors/<connector_id>/static-channels/import"
OCTET_STREAM = "application/octet-stream"
edge.accepts("POST", IMPORT, XLSX, OCTET_STREAM)


@router.post(
    IMPORT,
    summary='Replace the static channels from an XLSX: the body itself, or {"upload_key": …}',
    tags=Tags,
)
def import_channels(connector_id: Id) -> ImportOutcome:
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
