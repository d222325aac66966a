"""What every vendor's credentials share (frozen, no unknown fields, secrets kept as SecretStr), and
what a check of them answers."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field, SecretStr

from leadhub.models.base import DeferredModel
from leadhub.models.settings import Vendor

KEY_PATTERN = r"^[!-~]+$"
_KEY = re.compile(KEY_PATTERN)


def _sendable(key: SecretStr) -> SecretStr:
    if not _KEY.match(key.get_secret_value()):
        raise ValueError("a key is visible ASCII only: no spaces, line breaks or other letters (copy it again)")
    return key


#: A key as vendors issue them: visible ASCII, which is what an HTTP header can carry.
Key = Annotated[
    SecretStr,
    Field(min_length=4, max_length=2000, json_schema_extra={"pattern": KEY_PATTERN}),
    AfterValidator(_sendable),
]


class VendorCredentials(DeferredModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def secret_values(self) -> dict[str, Any]:
        """The fields as stored in Secrets Manager (secrets revealed: never return this to a caller)."""
        return {
            name: value.get_secret_value() if isinstance(value, SecretStr) else value
            for name, value in self
            if value is not None
        }


class VendorAccount(DeferredModel):
    id: str
    name: str | None = None


class CheckResult(DeferredModel):
    vendor: Vendor
    accounts: list[VendorAccount]
    note: str | None = None


class Verified(DeferredModel):
    """A successful check: what to show the user, and what to store as the connector's secret."""

    result: CheckResult
    secret: dict[str, Any]


def verified(
    vendor: Vendor, secret: dict[str, Any], accounts: list[VendorAccount], note: str | None = None
) -> Verified:
    return Verified(result=CheckResult(vendor=vendor, accounts=accounts, note=note), secret=secret)
