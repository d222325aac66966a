"""The export page of a project: its URL, login and password (seed 003 step 6, "Specify access to
your system"), the answer format, and what Roistat pulled last.

The password is answered once, when the page is created or rotated, and kept only in Secrets
Manager; the page item holds the login, the format and the rotation time (which tells the page's
processes that a cached password is stale).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Literal

from pydantic import ConfigDict, Field

from leadhub.models.base import DeferredModel
from leadhub.roistat_crm.records import RecordId
from leadhub.store.connectors import ConnectorStore
from leadhub.store.crm import CrmStore
from leadhub.store.errors import NotFound
from leadhub.store.secrets import SecretStore

PAGE_PATH = "/roistat-crm"


def page_secret(project_id: str) -> str:
    return f"roistat-crm/{project_id}"


def page_url(base_url: str, project_id: str) -> str:
    return f"{base_url.rstrip('/')}{PAGE_PATH}/{project_id}"


class PageSettings(DeferredModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["json", "xml"] = Field(
        "json", description="How the page answers: JSON (default) or XML, seed 003's shapes."
    )
    lead_status: RecordId | None = Field(
        None, description="The status id a deal created by Roistat's `lead` action gets (default `new`)."
    )


class PageCreated(DeferredModel):
    url: str = Field(description="«URL страницы» for Roistat's custom-CRM integration settings.")
    login: str = Field(description="«Логин» for the integration settings.")
    password: str = Field(description="«Пароль»: shown this once; POST again to rotate it.")
    format: str
    created_at: str


class PageCounts(DeferredModel):
    deals: int
    clients: int
    statuses: int
    fields: int
    managers: int


class PageView(DeferredModel):
    url: str
    login: str
    format: str
    lead_status: str | None = None
    created_at: str
    last_pull_at: str | None = Field(None, description="When Roistat last read the page (any pull action).")
    last_pull_action: str | None = None
    counts: PageCounts = Field(description="What the project keeps for Roistat.")


class ExportPages:
    def __init__(self, store: CrmStore | None = None, projects: ConnectorStore | None = None) -> None:
        self.store = store or CrmStore()
        self.projects = projects or ConnectorStore()

    def create(self, account_id: str, project_id: str, request: PageSettings, base_url: str) -> PageCreated:
        """A new login and password for the project's page (the old ones stop working at once)."""
        self.projects.get_project(account_id, project_id)
        login = f"roistat-{secrets.token_hex(4)}"
        password = secrets.token_urlsafe(18)
        SecretStore().put(page_secret(project_id), {"login": login, "password": password})
        now = datetime.now(UTC).isoformat(timespec="microseconds")
        page = self.store.page(project_id) or {}
        page.update(
            account_id=account_id,
            login=login,
            format=request.format,
            lead_status=request.lead_status,
            created_at=page.get("created_at", now),
            rotated_at=now,
        )
        self.store.save_page(project_id, {key: value for key, value in page.items() if value is not None})
        return PageCreated(
            url=page_url(base_url, project_id), login=login, password=password, format=request.format, created_at=now
        )

    def show(self, account_id: str, project_id: str, base_url: str) -> PageView:
        self.projects.get_project(account_id, project_id)
        page = self.store.page(project_id)
        if page is None or page.get("account_id") != account_id:
            raise NotFound(f"roistat page of {project_id}")
        counts = {name: self.store.count(kind, project_id) for name, kind in _COUNTED}
        return PageView(
            url=page_url(base_url, project_id),
            login=page["login"],
            format=page.get("format", "json"),
            lead_status=page.get("lead_status"),
            created_at=page["created_at"],
            last_pull_at=page.get("last_pull_at"),
            last_pull_action=page.get("last_pull_action"),
            counts=PageCounts(**counts),
        )


_COUNTED = (
    ("deals", "DEAL"),
    ("clients", "CLIENT"),
    ("statuses", "STATUS"),
    ("fields", "FIELD"),
    ("managers", "MANAGER"),
)
