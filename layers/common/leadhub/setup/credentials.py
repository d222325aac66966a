"""Vendor credentials: their shapes, and the check against the vendor before anything is saved.

A check answers what the key can see, so the user picks a vendor project or account from a list:
Roistat projects by name; Ringostat accounts by number only (seed 001: names are not passed by
the API); the Calltouch site id the token opens; the amoCRM account the authorization code opens.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from leadhub.connectors.registry import CREDENTIALS_BY_VENDOR
from leadhub.models.credentials import VendorCredentials
from leadhub.models.settings import Vendor
from leadhub.vendors import factory


class VendorAccount(BaseModel):
    id: str
    name: str | None = None


class CheckResult(BaseModel):
    vendor: Vendor
    accounts: list[VendorAccount]
    note: str | None = None


class Verified(BaseModel):
    """A successful check: what to show the user, and what to store as the connector's secret."""

    result: CheckResult
    secret: dict[str, Any]


def parse_credentials(vendor: Vendor, raw: Any) -> VendorCredentials:
    return CREDENTIALS_BY_VENDOR[vendor].model_validate(raw)


def verify(vendor: Vendor, credentials: VendorCredentials) -> Verified:
    """Ask the vendor whether the credentials work; raises the vendor's ConfigError if not."""
    secret = credentials.secret_values()
    if vendor is Vendor.ROISTAT:
        projects = factory.roistat(secret).list_projects()
        accounts = [VendorAccount(id=str(p.id), name=p.name) for p in projects]
        return Verified(result=CheckResult(vendor=vendor, accounts=accounts), secret=secret)
    if vendor is Vendor.RINGOSTAT:
        ringostat = factory.ringostat(secret)
        ringostat.check()
        accounts = [VendorAccount(id=str(a.id)) for a in ringostat.discover_projects()]
        note = "Ringostat passes project numbers only, not names: make sure you connect the right project."
        return Verified(result=CheckResult(vendor=vendor, accounts=accounts, note=note), secret=secret)
    if vendor is Vendor.CALLTOUCH:
        factory.calltouch(secret).verify_site()
        site = VendorAccount(id=str(secret["site_id"]))
        return Verified(result=CheckResult(vendor=vendor, accounts=[site]), secret=secret)
    amocrm = factory.amocrm(secret)
    tokens = amocrm.exchange_code(str(secret.pop("code")))
    account = amocrm.account()
    secret["tokens"] = tokens.model_dump(mode="json")
    found = VendorAccount(id=str(account.id), name=account.name)
    return Verified(result=CheckResult(vendor=vendor, accounts=[found]), secret=secret)
