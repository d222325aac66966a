"""Calltouch: call tracking by site."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from leadhub.models.credentials import Key, VendorCredentials
from leadhub.models.settings import Vendor


class CalltouchCredentials(VendorCredentials):
    access_token: Key
    site_id: Annotated[str, StringConstraints(pattern=r"^\d{1,12}$")]


class CalltouchSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vendor: Literal[Vendor.CALLTOUCH] = Vendor.CALLTOUCH
