from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from leadhub.api.auth import current_account
from leadhub.api.contract import JSON_BODY, operation
from leadhub.api.routers.ids import id_path
from leadhub.setup.projects import Project, ProjectCreate, Projects, ProjectUpdate

router = Router()

Tags = ["projects"]
ProjectId = Annotated[str, id_path("The project's id, as `POST /projects` answered it.")]


@router.post(
    "/projects",
    tags=Tags,
    **operation(
        "Create a project",
        "A project groups connectors of one BI project; its time zone decides which day a conversion "
        "counts on in reports.",
        errors=JSON_BODY,
        status=HTTPStatus.CREATED,
    ),
)
def create_project(request: Annotated[ProjectCreate, Body()]) -> Response[Project]:
    project = Projects().create(current_account(router), request)
    return Response(201, content_types.APPLICATION_JSON, project)


@router.get(
    "/projects",
    tags=Tags,
    **operation("List projects", "Every project of your account."),
)
def list_projects() -> list[Project]:
    return Projects().list(current_account(router))


@router.get(
    "/projects/<project_id>",
    tags=Tags,
    **operation(
        "Get a project",
        "One project of your account.",
        errors=(HTTPStatus.NOT_FOUND, HTTPStatus.UNPROCESSABLE_ENTITY),
    ),
)
def get_project(project_id: ProjectId) -> Project:
    return Projects().get(current_account(router), project_id)


@router.patch(
    "/projects/<project_id>",
    tags=Tags,
    **operation(
        "Rename a project or change its time zone",
        "Only the fields sent change. A new time zone applies to reports from now on; extracted data is kept as is.",
        errors=(*JSON_BODY, HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT),
    ),
)
def update_project(project_id: ProjectId, request: Annotated[ProjectUpdate, Body()]) -> Project:
    return Projects().update(current_account(router), project_id, request)
