"""Vendor credentials: their shapes, and the check against the vendor before anything is saved.

A check answers what the key can see, so the user picks a vendor project or account from a list:
Roistat projects by name; Ringostat accounts by number only (seed 001: names are not passed by
the API); the Calltouch site id the token opens; the amoCRM account the authorization code opens.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints

from leadhub.models.settings import Vendor
from leadhub.vendors import factory

Key = Annotated[SecretStr, Field(min_length=4, max_length=2000)]


class _Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def secret_values(self) -> dict[str, Any]:
        """The fields as stored in Secrets Manager (secrets revealed: never return this to a caller)."""
        return {
            name: value.get_secret_value() if isinstance(value, SecretStr) else value
            for name, value in self
            if value is not None
        }


class RoistatCredentials(_Credentials):
    api_key: Key


class RingostatCredentials(_Credentials):
    auth_key: Key


class CalltouchCredentials(_Credentials):
    access_token: Key
    site_id: Annotated[str, StringConstraints(pattern=r"^\d{1,12}$")]


class AmoCrmCredentials(_Credentials):
    subdomain: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", to_lower=True)]
    client_id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    client_secret: Key
    redirect_uri: Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=2000)]
    #: The authorization code of the OAuth consent; single-use, exchanged for tokens at once.
    code: Key


CREDENTIALS_BY_VENDOR: dict[Vendor, type[_Credentials]] = {
    Vendor.ROISTAT: RoistatCredentials,
    Vendor.RINGOSTAT: RingostatCredentials,
    Vendor.CALLTOUCH: CalltouchCredentials,
    Vendor.AMOCRM: AmoCrmCredentials,
}


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


def parse_credentials(vendor: Vendor, raw: Any) -> _Credentials:
    return CREDENTIALS_BY_VENDOR[vendor].model_validate(raw)


def verify(vendor: Vendor, credentials: _Credentials) -> Verified:
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
