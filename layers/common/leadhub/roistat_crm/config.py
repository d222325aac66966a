"""The knobs of the export page, from the environment (README, "Roistat custom-CRM export")."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import ConfigDict, Field

from leadhub.models.base import DeferredModel


class CrmSettings(DeferredModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    #: The pagination object's spelling is not certain (vendor notes): the SDK's is the default.
    pagination_key: str = Field("pagination", alias="ROISTAT_CRM_PAGINATION_KEY", min_length=1)
    total_key: str = Field("totalCount", alias="ROISTAT_CRM_TOTAL_KEY", min_length=1)
    limit_key: str = Field("limit", alias="ROISTAT_CRM_LIMIT_KEY", min_length=1)
    #: Most records a page holds; fewer when the project's largest record says so.
    page_limit: int = Field(1000, alias="ROISTAT_CRM_PAGE_LIMIT", ge=1, le=100_000)
    #: What a page's body may weigh: base64 (4/3) of it stays under Lambda's 6 MB response.
    max_page_bytes: int = Field(4 * 1024 * 1024, alias="ROISTAT_CRM_MAX_PAGE_BYTES", ge=64 * 1024, le=4 * 1024 * 1024)
    #: Requests a project's page answers a minute (beyond API Gateway's route throttling).
    requests_per_minute: int = Field(120, alias="ROISTAT_CRM_REQUESTS_PER_MINUTE", ge=1)
    #: How long the pages of one export stay answerable from its snapshot.
    snapshot_seconds: int = Field(86_400, alias="ROISTAT_CRM_SNAPSHOT_SECONDS", ge=60)
    #: The page's public base URL (a custom domain); by default the API's own, read from the request.
    public_url: str | None = Field(None, alias="ROISTAT_CRM_PUBLIC_URL")


@lru_cache(maxsize=1)
def crm_settings() -> CrmSettings:
    return CrmSettings.model_validate(dict(os.environ))
