from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from leadhub.api.auth import current_account
from leadhub.setup.projects import Project, ProjectCreate, Projects, ProjectUpdate

router = Router()

ProjectId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


@router.post("/projects", summary="Create a project", tags=["projects"], responses={201: {"description": "Created"}})
def create_project(request: Annotated[ProjectCreate, Body()]) -> Response[Project]:
    project = Projects().create(current_account(router), request)
    return Response(201, content_types.APPLICATION_JSON, project)


@router.get("/projects", summary="List projects", tags=["projects"])
def list_projects() -> list[Project]:
    return Projects().list(current_account(router))


@router.get("/projects/<project_id>", summary="Get a project", tags=["projects"])
def get_project(project_id: ProjectId) -> Project:
    return Projects().get(current_account(router), project_id)


@router.patch("/projects/<project_id>", summary="Rename a project or change its time zone", tags=["projects"])
def update_project(project_id: ProjectId, request: Annotated[ProjectUpdate, Body()]) -> Project:
    return Projects().update(current_account(router), project_id, request)
