"""Ringostat: call tracking by number pools."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from leadhub.models.credentials import Key, VendorCredentials
from leadhub.models.settings import KpiSettings, Vendor


class RingostatCredentials(VendorCredentials):
    auth_key: Key = Field(description="«Auth-key» (the token): Ringostat → any project → Интеграция → Ringostat API.")


class RingostatSettings(KpiSettings):
    vendor: Literal[Vendor.RINGOSTAT] = Vendor.RINGOSTAT
