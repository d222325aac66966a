"""What starts work in the jobs function: a schedule (one vendor), a user (one connector), or a job."""

from __future__ import annotations

from pydantic import ConfigDict, model_validator

from leadhub.models.base import DeferredModel
from leadhub.models.settings import Vendor


class JobRef(DeferredModel):
    connector_id: str
    id: str


class ExtractRequest(DeferredModel):
    """EventBridge Scheduler's Input, a direct run of one connector, or a dispatched job."""

    model_config = ConfigDict(extra="ignore")

    vendor: Vendor | None = None
    connector_id: str | None = None
    job: JobRef | None = None
    #: `<aws.scheduler.scheduled-time>`: kept for the logs, to tie a run to its schedule tick.
    scheduled_time: str | None = None

    @model_validator(mode="after")
    def _one_target(self) -> ExtractRequest:
        if sum(target is not None for target in (self.vendor, self.connector_id, self.job)) != 1:
            raise ValueError("a request names one of: a vendor, a connector_id, a job")
        return self
