"""Calltouch: call tracking by site."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from leadhub.models.credentials import Key, VendorCredentials
from leadhub.models.settings import Vendor


class CalltouchCredentials(VendorCredentials):
    access_token: Key = Field(description="«Access-Token» — API-ключ of the Calltouch account.")
    site_id: Annotated[str, StringConstraints(pattern=r"^\d{1,12}$")] = Field(
        description="«SiteId» — ID ЛК Calltouch: the number of the Calltouch site (account)."
    )


class CalltouchSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vendor: Literal[Vendor.CALLTOUCH] = Vendor.CALLTOUCH
