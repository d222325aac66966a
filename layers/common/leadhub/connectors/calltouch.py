"""Calltouch: call tracking by site."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from leadhub.connectors.spec import StreamSpec, VendorSpec
from leadhub.models.credentials import Key, VendorAccount, VendorCredentials, Verified, verified
from leadhub.models.settings import Vendor
from leadhub.settings import Settings, get_settings
from leadhub.vendors.calltouch import CalltouchClient


class CalltouchCredentials(VendorCredentials):
    access_token: Key = Field(description="«Access-Token» — API-ключ of the Calltouch account.")
    site_id: Annotated[str, StringConstraints(pattern=r"^\d{1,12}$")] = Field(
        description="«SiteId» — ID ЛК Calltouch: the number of the Calltouch site (account)."
    )


class CalltouchSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vendor: Literal[Vendor.CALLTOUCH] = Vendor.CALLTOUCH


def client(credentials: Mapping[str, Any], settings: Settings | None = None) -> CalltouchClient:
    settings = settings or get_settings()
    return CalltouchClient(
        str(credentials["access_token"]), str(credentials["site_id"]), base_url=settings.calltouch_base_url
    )


def check(secret: dict[str, Any]) -> Verified:
    """The token works when it opens its site; the site is the account."""
    client(secret).verify_site()
    return verified(Vendor.CALLTOUCH, secret, [VendorAccount(id=str(secret["site_id"]))])


SPEC = VendorSpec(
    vendor=Vendor.CALLTOUCH,
    title="Calltouch",
    check_sees="the site the token opens",
    credentials=CalltouchCredentials,
    settings=CalltouchSettings,
    streams=(StreamSpec("plans"),),
    check=check,
)
