"""What starts an extraction run: a schedule (one vendor) or a user (one connector)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, model_validator

from leadhub.models.settings import Vendor


class ExtractRequest(BaseModel):
    """EventBridge Scheduler's Input, or the payload of `POST /connectors/{id}/sync`."""

    model_config = ConfigDict(extra="ignore")

    vendor: Vendor | None = None
    connector_id: str | None = None
    #: `<aws.scheduler.scheduled-time>`: kept for the logs, to tie a run to its schedule tick.
    scheduled_time: str | None = None

    @model_validator(mode="after")
    def _one_target(self) -> ExtractRequest:
        if (self.vendor is None) == (self.connector_id is None):
            raise ValueError("an extraction request names a vendor or a connector_id, not both")
        return self
