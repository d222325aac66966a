"""Roistat: call tracking, orders, proxy leads (forms and chats) and the client report."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from leadhub.models.credentials import Key, VendorCredentials
from leadhub.models.settings import KpiSettings, Vendor


class RoistatCredentials(VendorCredentials):
    api_key: Key


class RoistatStreams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    calls: bool = True
    orders: bool = True
    proxyleads: bool = True


class RoistatSettings(KpiSettings):
    vendor: Literal[Vendor.ROISTAT] = Vendor.ROISTAT
    #: The client report feeds the dashboard and is always on.
    client_report: bool = True
    #: Count deals whose status Roistat hides as «Не учитывается» (spam, duplicates…).
    include_not_counted: bool = True
    streams: RoistatStreams = Field(default_factory=RoistatStreams)

    @field_validator("client_report")
    @classmethod
    def _client_report_always_on(cls, value: bool) -> bool:
        if not value:
            raise ValueError(
                "the client report is always on: the dashboard needs it. Make sure the "
                "«Управление клиентами» (client management) module is enabled in Roistat"
            )
        return value
