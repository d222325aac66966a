"""Ringostat: call tracking by number pools."""

from __future__ import annotations

from typing import Literal

from leadhub.models.credentials import Key, VendorCredentials
from leadhub.models.settings import KpiSettings, Vendor


class RingostatCredentials(VendorCredentials):
    auth_key: Key


class RingostatSettings(KpiSettings):
    vendor: Literal[Vendor.RINGOSTAT] = Vendor.RINGOSTAT
