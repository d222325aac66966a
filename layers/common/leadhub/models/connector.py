"""A connector and a project as the domain knows them; `store/` alone knows how they are stored."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from leadhub.models.base import DeferredModel
from leadhub.models.settings import Vendor


class Connector(DeferredModel):
    """One vendor account connected to one project of one account."""

    model_config = ConfigDict(frozen=True)

    id: str
    account_id: str
    project_id: str
    vendor: Vendor
    name: str
    #: The vendor project/account picked from the check's list.
    vendor_account_id: str
    vendor_account_name: str | None = None
    #: Validated by the vendor's settings model (`spec_for(vendor).settings`), kept as JSON.
    settings: dict[str, Any] = Field(default_factory=dict)
    #: Active connectors are scheduled; extraction pauses one after repeated credential failures.
    active: bool = True
    paused_reason: str | None = None
    created_at: str
    updated_at: str
    reconnected_at: str | None = None
    #: Bumped by every settings change; a job planned for an older version is superseded.
    settings_version: int = 1
    #: The settings version at which what attribution reads (tags, static channels, KPI mode, …) last
    #: changed: a day built with this version or a later one reflects the current settings.
    attribution_version: int = 1
    #: The stored version this was read at (optimistic locking); None before it is first stored.
    version: int | None = None


class Project(DeferredModel):
    """A BI project: it groups an account's connectors and fixes the time zone of its reports."""

    id: str
    name: str
    timezone: str
    created_at: str
    updated_at: str
    #: The stored version this was read at (optimistic locking); never part of an answer.
    version: int | None = Field(default=None, exclude=True)
