from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import BaseModel

from leadhub.api.auth import current_account
from leadhub.models.settings import Vendor
from leadhub.setup.connectors import CheckAnswer, ConnectorCreate, Connectors, ConnectorView, Reconnect
from leadhub.setup.status import ConnectorStatus, connector_status

router = Router()

Id = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Tags = ["connectors"]


@router.post(
    "/projects/<project_id>/connectors/<vendor>/check",
    summary="Check vendor credentials and list what they can see",
    tags=Tags,
)
def check_credentials(
    project_id: Id, vendor: Annotated[Vendor, Path()], credentials: Annotated[dict[str, Any], Body()]
) -> CheckAnswer:
    return Connectors().check(current_account(router), project_id, vendor, credentials)


@router.post(
    "/projects/<project_id>/connectors",
    summary="Create a connector (credentials are stored in Secrets Manager only)",
    tags=Tags,
    responses={201: {"description": "Created"}},
)
def create_connector(project_id: Id, request: Annotated[ConnectorCreate, Body()]) -> Response[ConnectorView]:
    connector = Connectors().create(current_account(router), project_id, request)
    return Response(201, content_types.APPLICATION_JSON, connector)


@router.get("/projects/<project_id>/connectors", summary="List a project's connectors", tags=Tags)
def list_connectors(project_id: Id) -> list[ConnectorView]:
    return Connectors().list(current_account(router), project_id)


@router.get("/connectors/<connector_id>", summary="Get a connector", tags=Tags)
def get_connector(connector_id: Id) -> ConnectorView:
    return Connectors().get(current_account(router), connector_id)


@router.patch("/connectors/<connector_id>/settings", summary="Change a connector's settings", tags=Tags)
def update_settings(connector_id: Id, changes: Annotated[dict[str, Any], Body()]) -> ConnectorView:
    return Connectors().update_settings(current_account(router), connector_id, changes)


@router.post("/connectors/<connector_id>/deactivate", summary="Stop extraction (unschedule)", tags=Tags)
def deactivate(connector_id: Id) -> ConnectorView:
    return Connectors().set_active(current_account(router), connector_id, False)


@router.post("/connectors/<connector_id>/activate", summary="Resume extraction (schedule)", tags=Tags)
def activate(connector_id: Id) -> ConnectorView:
    return Connectors().set_active(current_account(router), connector_id, True)


@router.post(
    "/connectors/<connector_id>/reconnect",
    summary="New credentials for the same connector; data, settings and state are kept",
    tags=Tags,
)
def reconnect(connector_id: Id, request: Annotated[Reconnect, Body()]) -> ConnectorView:
    return Connectors().reconnect(current_account(router), connector_id, request)


@router.delete(
    "/connectors/<connector_id>",
    summary="Delete a connector: schedule, secret and state removed; data kept unless purge=true",
    tags=Tags,
)
def delete_connector(connector_id: Id, purge: Annotated[bool, Query()] = False) -> dict[str, Any]:
    return Connectors().delete(current_account(router), connector_id, purge=purge)


class SyncStarted(BaseModel):
    connector_id: str
    started: str


@router.post(
    "/connectors/<connector_id>/sync",
    summary="Run extraction now (asynchronously); follow it in /status",
    tags=Tags,
    responses={202: {"description": "Started"}},
)
def sync_now(connector_id: Id) -> Response[SyncStarted]:
    how = Connectors().sync_now(current_account(router), connector_id)
    return Response(202, content_types.APPLICATION_JSON, SyncStarted(connector_id=connector_id, started=how))


@router.get("/connectors/<connector_id>/status", summary="Loading status per stream", tags=Tags)
def status(connector_id: Id) -> ConnectorStatus:
    return connector_status(Connectors().get(current_account(router), connector_id))
