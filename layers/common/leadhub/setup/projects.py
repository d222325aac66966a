"""Projects: a BI project groups an account's connectors and fixes the time zone of its reports."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from leadhub.clock import utc_now
from leadhub.models.base import DeferredModel
from leadhub.models.connector import Project
from leadhub.models.zones import TimeZoneName
from leadhub.store.connectors import ConnectorStore

ProjectName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"\S")]
NAME = "The project's name, as the BI service shows it."
TIMEZONE = "The IANA time zone whose days reports count conversions on."


class ProjectCreate(DeferredModel):
    model_config = ConfigDict(extra="forbid")

    name: ProjectName = Field(description=NAME)
    timezone: TimeZoneName = Field(default="Europe/Moscow", description=TIMEZONE)


class ProjectUpdate(DeferredModel):
    model_config = ConfigDict(extra="forbid")

    name: ProjectName | None = Field(default=None, description=NAME)
    timezone: TimeZoneName | None = Field(default=None, description=TIMEZONE)


class Projects:
    def __init__(self, store: ConnectorStore | None = None) -> None:
        self.store = store or ConnectorStore()

    def create(self, account_id: str, request: ProjectCreate) -> Project:
        now = utc_now()
        project = Project(
            id=uuid.uuid4().hex, name=request.name, timezone=request.timezone, created_at=now, updated_at=now
        )
        return self.store.create_project(account_id, project)

    def list(self, account_id: str) -> list[Project]:
        return list(self.store.list_projects(account_id))

    def get(self, account_id: str, project_id: str) -> Project:
        return self.store.get_project(account_id, project_id)

    def update(self, account_id: str, project_id: str, request: ProjectUpdate) -> Project:
        project = self.store.get_project(account_id, project_id)
        changes = request.model_dump(exclude_none=True)
        if changes:
            project = self.store.save_project(
                account_id, project.model_copy(update={**changes, "updated_at": utc_now()})
            )
        return project
