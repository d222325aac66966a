from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from leadhub.api.auth import current_account
from leadhub.api.contract import operation
from leadhub.api.routers.ids import id_path
from leadhub.crm_sync.status import (
    CrmSyncOptions,
    CrmSyncStatus,
    InquirySyncState,
    inquiry_state,
    sync_options,
    sync_status,
)
from leadhub.models.lead_sync import INQUIRY_ID_PATTERN
from leadhub.store import errors as store_errors
from leadhub.store.connectors import ConnectorStore

router = Router()

ConnectorId = Annotated[str, id_path("The amoCRM connector's id.")]
InquiryId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=200,
        pattern=INQUIRY_ID_PATTERN,
        description="The inquiry's id: `<source connector>.<stream>.<vendor id>`.",
    ),
]
Tags = ["amoCRM lead sync"]
ON_CONNECTOR = (HTTPStatus.NOT_FOUND, HTTPStatus.UNPROCESSABLE_ENTITY)


@router.get(
    "/connectors/<connector_id>/crm-sync",
    tags=Tags,
    **operation(
        "Lead sync status",
        "Seed 002's integration as it runs: whether it is on, a config error that stops it (a revoked grant "
        "names itself), a rate-limit cool-down, the inquiries by state, the entities by action and the last "
        "errors. A connector of another vendor is refused (422).",
        errors=ON_CONNECTOR,
    ),
)
def status(connector_id: ConnectorId) -> CrmSyncStatus:
    return sync_status(ConnectorStore().get_connector(current_account(router), connector_id))


@router.get(
    "/connectors/<connector_id>/crm-sync/inquiries/<inquiry_id>",
    tags=Tags,
    **operation(
        "One inquiry's sync state",
        "What the sync did with one inquiry: its state, its three-hour window, and per entity (deal, contact, "
        "company) the amoCRM id and the action. 404 when the sync has not seen it.",
        errors=ON_CONNECTOR,
    ),
)
def inquiry(connector_id: ConnectorId, inquiry_id: InquiryId) -> InquirySyncState:
    found = inquiry_state(ConnectorStore().get_connector(current_account(router), connector_id), inquiry_id)
    if found is None:
        raise store_errors.NotFound(f"inquiry {inquiry_id} is unknown to the sync of connector {connector_id}")
    return found


@router.get(
    "/connectors/<connector_id>/crm-sync/options",
    tags=Tags,
    **operation(
        "Users, pipelines and fields to choose from",
        "Read from the amoCRM account now: the responsible users, the pipelines with their statuses, the "
        "fields of deals, contacts and companies a parameter can be mapped to, and the 18 parameters. A "
        "grant amoCRM refuses is 422 naming it.",
        errors=(*ON_CONNECTOR, HTTPStatus.BAD_GATEWAY, HTTPStatus.SERVICE_UNAVAILABLE),
    ),
)
def options(connector_id: ConnectorId) -> CrmSyncOptions:
    return sync_options(ConnectorStore().get_connector(current_account(router), connector_id))
