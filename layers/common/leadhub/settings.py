"""Settings from the environment, as one validated pydantic model.

Names of tables and the bucket come from template.yaml (the functions' environment in AWS, the
embedded stack locally). Vendor base URLs are overridable so the same code runs against the real
vendors, the simulators or any other fake.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    aws_region: str = Field("eu-central-1", alias="AWS_REGION")
    aws_endpoint_url: str | None = Field(None, alias="AWS_ENDPOINT_URL")

    connectors_table: str = Field("leadhub-connectors", alias="CONNECTORS_TABLE")
    sync_state_table: str = Field("leadhub-sync-state", alias="SYNC_STATE_TABLE")
    deals_table: str = Field("leadhub-deals", alias="DEALS_TABLE")
    crm_table: str = Field("leadhub-crm", alias="CRM_TABLE")
    jobs_table: str = Field("leadhub-jobs", alias="JOBS_TABLE")
    tokens_table: str = Field("leadhub-tokens", alias="TOKENS_TABLE")
    accounts_table: str = Field("leadhub-accounts", alias="ACCOUNTS_TABLE")
    idempotency_table: str = Field("leadhub-idempotency", alias="IDEMPOTENCY_TABLE")
    data_bucket: str = Field("leadhub-data", alias="DATA_BUCKET")
    crm_sync_table: str = Field("leadhub-crm-sync", alias="CRM_SYNC_TABLE")
    #: The amoCRM sync's queue: a URL in AWS (`!Ref` of the queue), a queue name locally.
    crm_sync_queue: str = Field("leadhub-crm-sync", alias="CRM_SYNC_QUEUE")
    secrets_prefix: str = Field("leadhub/connectors", alias="SECRETS_PREFIX")

    roistat_base_url: str = Field("https://cloud.roistat.com/api/v1", alias="ROISTAT_BASE_URL")
    ringostat_base_url: str = Field("https://api.ringostat.net", alias="RINGOSTAT_BASE_URL")
    calltouch_base_url: str = Field("https://api.calltouch.ru", alias="CALLTOUCH_BASE_URL")
    #: amoCRM lives on the account's own subdomain: `{subdomain}` is filled per connector.
    amocrm_base_url: str = Field("https://{subdomain}.amocrm.ru", alias="AMOCRM_BASE_URL")

    #: Entities per amoCRM write (≤ 250, the documented cap; amoCRM recommends 50).
    amocrm_sync_batch: int = Field(250, alias="AMOCRM_SYNC_BATCH", ge=1, le=250)
    #: How long the sync leaves amoCRM alone after a rate-limit refusal survived the retries.
    amocrm_cooldown_seconds: int = Field(60, alias="AMOCRM_COOLDOWN_SECONDS", ge=1, le=3600)
    #: Only inquiries this recent are sent when extraction stores a day (a backfill creates no old deals).
    amocrm_sync_max_age_hours: int = Field(24, alias="AMOCRM_SYNC_MAX_AGE_HOURS", ge=1, le=24 * 30)
    #: Minutes between re-checks of an inquiry still waiting (mode 2 search, updates within three hours).
    amocrm_recheck_minutes: int = Field(10, alias="AMOCRM_RECHECK_MINUTES", ge=1, le=180)

    presigned_url_ttl_seconds: int = Field(900, alias="PRESIGNED_URL_TTL_SECONDS", ge=60, le=86400)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        return cls.model_validate(dict(os.environ if environ is None else environ))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
