from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from pydantic import Field

from leadhub.api.auth import current_account
from leadhub.api.bodies import settings_changes_body
from leadhub.api.contract import JSON_BODY, operation
from leadhub.api.routers.ids import id_path
from leadhub.connectors.registry import SPECS
from leadhub.models.base import DeferredModel
from leadhub.models.credentials import VendorCredentials
from leadhub.models.settings import Vendor
from leadhub.setup.connectors import CheckAnswer, Connectors, ConnectorView, NewConnector, Reconnect
from leadhub.setup.settings_changes import SettingsChanges, changed
from leadhub.setup.status import ConnectorStatus, connector_status

router = Router()

ProjectId = Annotated[str, id_path("The project's id, as `POST /projects` answered it.")]
ConnectorId = Annotated[str, id_path("The connector's id, as `POST /projects/{project_id}/connectors` answered it.")]
Tags = ["connectors"]
#: Answers of an operation on one stored connector that it changes.
CHANGES_CONNECTOR = (HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT, HTTPStatus.UNPROCESSABLE_ENTITY)
#: Answers of an operation that asks the vendor about credentials.
ASKS_VENDOR = (HTTPStatus.BAD_GATEWAY, HTTPStatus.SERVICE_UNAVAILABLE)


def _register_check(vendor: Vendor, credentials_model: type[VendorCredentials], name: str, sees: str) -> None:
    """One check operation per vendor, so each documents exactly its vendor's credentials."""

    def check_credentials(project_id: str, credentials: VendorCredentials) -> CheckAnswer:
        return Connectors().check(current_account(router), project_id, vendor, credentials.secret_values())

    check_credentials.__name__ = f"check_{vendor.value}_credentials"
    # the body's type is this vendor's model: Powertools reads it from the annotations
    check_credentials.__annotations__ = {
        "project_id": ProjectId,
        "credentials": Annotated[credentials_model, Body(description=f"{name} credentials.")],
        "return": CheckAnswer,
    }
    router.post(
        f"/projects/<project_id>/connectors/{vendor.value}/check",
        tags=Tags,
        **operation(
            f"Check {name} credentials and list what they can see",
            f"Asks {name} whether the credentials work and answers what they open ({sees}). "
            "Nothing is saved but a single-use `credentials_ref` that expires in an hour: pass it to "
            "`POST /projects/{project_id}/connectors` or `/reconnect`. Credentials the vendor refuses answer "
            "422 with `vendor_error`.",
            errors=(*JSON_BODY, HTTPStatus.NOT_FOUND, *ASKS_VENDOR),
        ),
    )(check_credentials)


for _spec in SPECS.values():
    _register_check(_spec.vendor, _spec.credentials, _spec.title, _spec.check_sees)


@router.post(
    "/projects/<project_id>/connectors",
    tags=Tags,
    **operation(
        "Create a connector",
        "Saves a connector of a project: the vendor account picked from the check's list, its settings, "
        "and credentials — a `credentials_ref` from a check, or the credentials themselves (checked again). "
        "Credentials go to Secrets Manager only and are never answered. The connector is active at once: "
        "scheduled extraction picks it up.",
        errors=(*JSON_BODY, HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT, *ASKS_VENDOR),
        status=HTTPStatus.CREATED,
    ),
)
def create_connector(project_id: ProjectId, request: Annotated[NewConnector, Body()]) -> Response[ConnectorView]:
    connector = Connectors().create(current_account(router), project_id, request.root)
    return Response(201, content_types.APPLICATION_JSON, connector)


@router.get(
    "/projects/<project_id>/connectors",
    tags=Tags,
    **operation(
        "List a project's connectors",
        "Every connector of the project, each with its settings and warnings (e.g. a Performance KPI that "
        "two connectors would count twice).",
        errors=(HTTPStatus.NOT_FOUND, HTTPStatus.UNPROCESSABLE_ENTITY),
    ),
)
def list_connectors(project_id: ProjectId) -> list[ConnectorView]:
    return Connectors().list(current_account(router), project_id)


@router.get(
    "/connectors/<connector_id>",
    tags=Tags,
    **operation(
        "Get a connector",
        "The connector with its settings and warnings; never its credentials.",
        errors=(HTTPStatus.NOT_FOUND, HTTPStatus.UNPROCESSABLE_ENTITY),
    ),
)
def get_connector(connector_id: ConnectorId) -> ConnectorView:
    return Connectors().get(current_account(router), connector_id)


@router.patch(
    "/connectors/<connector_id>/settings",
    tags=Tags,
    **operation(
        "Change a connector's settings",
        "Only the fields sent change; the others keep their value. Which fields apply depends on the "
        "connector's vendor (each field's description says so): Performance KPI, tags, static channels "
        "the vendor time zone and lookbacks per stream for Roistat and Ringostat; streams, the client report "
        "and «Не учитывается» deals for Roistat. A field of another vendor is refused (422); `null` puts "
        "a field's default back. Swagger UI: pick the example of the connector's vendor.",
        errors=(*JSON_BODY, *CHANGES_CONNECTOR),
    ),
)
def update_settings(
    connector_id: ConnectorId,
    changes: Annotated[SettingsChanges, settings_changes_body()],
) -> ConnectorView:
    return Connectors().update_settings(current_account(router), connector_id, changed(changes))


@router.post(
    "/connectors/<connector_id>/deactivate",
    tags=Tags,
    **operation(
        "Stop extraction",
        "Takes the connector off the schedule; its data, settings and credentials are kept. Idempotent.",
        errors=CHANGES_CONNECTOR,
    ),
)
def deactivate(connector_id: ConnectorId) -> ConnectorView:
    return Connectors().set_active(current_account(router), connector_id, False)


@router.post(
    "/connectors/<connector_id>/activate",
    tags=Tags,
    **operation(
        "Resume extraction",
        "Puts the connector back on the schedule; the next run continues where the last one stopped. Idempotent.",
        errors=CHANGES_CONNECTOR,
    ),
)
def activate(connector_id: ConnectorId) -> ConnectorView:
    return Connectors().set_active(current_account(router), connector_id, True)


@router.post(
    "/connectors/<connector_id>/reconnect",
    tags=Tags,
    **operation(
        "Give a connector new credentials",
        "Replaces the credentials (a `credentials_ref` from a check, or the credentials themselves); the "
        "connector's data, settings and sync state are kept. The new credentials must see the same vendor "
        "account.",
        errors=(*JSON_BODY, *CHANGES_CONNECTOR, *ASKS_VENDOR),
    ),
)
def reconnect(connector_id: ConnectorId, request: Annotated[Reconnect, Body()]) -> ConnectorView:
    return Connectors().reconnect(current_account(router), connector_id, request)


class ConnectorDeleted(DeferredModel):
    id: str = Field(description="The deleted connector's id.")
    deleted: bool = Field(description="Always true.")
    purged_objects: int = Field(description="How many stored data objects were removed (0 unless purge=true).")
    data_kept: bool = Field(description="Whether the extracted data stays in the bucket.")


@router.delete(
    "/connectors/<connector_id>",
    tags=Tags,
    **operation(
        "Delete a connector",
        "Unschedules the connector and removes its credentials and sync state. Its extracted data stays "
        "in reports unless `purge=true`.",
        errors=(HTTPStatus.NOT_FOUND, HTTPStatus.UNPROCESSABLE_ENTITY),
    ),
)
def delete_connector(
    connector_id: ConnectorId,
    purge: Annotated[bool, Query(description="Also remove the connector's extracted data.")] = False,
) -> ConnectorDeleted:
    return ConnectorDeleted.model_validate(Connectors().delete(current_account(router), connector_id, purge=purge))


class SyncStarted(DeferredModel):
    connector_id: str = Field(description="The connector being extracted.")
    started: str = Field(
        description="How the run was started: `lambda` (an asynchronous invocation), `local` (a worker of the "
        "local stack), or `queued` (an earlier job of the connector waits for its retry time, shown in the "
        "status's `jobs`: this run follows it)."
    )


@router.post(
    "/connectors/<connector_id>/sync",
    tags=Tags,
    **operation(
        "Run extraction now",
        "Starts an extraction run of the connector at once, asynchronously; follow it in "
        "`GET /connectors/{connector_id}/status`. A deactivated connector must be activated first (422).",
        errors=CHANGES_CONNECTOR,
        status=HTTPStatus.ACCEPTED,
    ),
)
def sync_now(connector_id: ConnectorId) -> Response[SyncStarted]:
    how = Connectors().sync_now(current_account(router), connector_id)
    return Response(202, content_types.APPLICATION_JSON, SyncStarted(connector_id=connector_id, started=how))


@router.get(
    "/connectors/<connector_id>/status",
    tags=Tags,
    **operation(
        "Loading status per stream",
        "Per stream: its state, the progress of a run, the last success, rows loaded and the last error in "
        "plain words.",
        errors=(HTTPStatus.NOT_FOUND, HTTPStatus.UNPROCESSABLE_ENTITY),
    ),
)
def status(connector_id: ConnectorId) -> ConnectorStatus:
    return connector_status(Connectors().get(current_account(router), connector_id))
