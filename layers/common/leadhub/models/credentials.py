"""What every vendor's credentials share (frozen, no unknown fields, secrets kept as SecretStr), and
what a check of them answers."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from leadhub.models.settings import Vendor

Key = Annotated[SecretStr, Field(min_length=4, max_length=2000)]


class VendorCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def secret_values(self) -> dict[str, Any]:
        """The fields as stored in Secrets Manager (secrets revealed: never return this to a caller)."""
        return {
            name: value.get_secret_value() if isinstance(value, SecretStr) else value
            for name, value in self
            if value is not None
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


def verified(
    vendor: Vendor, secret: dict[str, Any], accounts: list[VendorAccount], note: str | None = None
) -> Verified:
    return Verified(result=CheckResult(vendor=vendor, accounts=accounts, note=note), secret=secret)
