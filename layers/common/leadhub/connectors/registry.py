"""The one place that looks a vendor up."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from leadhub.connectors.amocrm import AmoCrmCredentials, AmoCrmSettings
from leadhub.connectors.calltouch import CalltouchCredentials, CalltouchSettings
from leadhub.connectors.ringostat import RingostatCredentials, RingostatSettings
from leadhub.connectors.roistat import RoistatCredentials, RoistatSettings
from leadhub.models.credentials import VendorCredentials
from leadhub.models.settings import Vendor

CREDENTIALS_BY_VENDOR: dict[Vendor, type[VendorCredentials]] = {
    Vendor.ROISTAT: RoistatCredentials,
    Vendor.RINGOSTAT: RingostatCredentials,
    Vendor.CALLTOUCH: CalltouchCredentials,
    Vendor.AMOCRM: AmoCrmCredentials,
}

ConnectorSettings = RoistatSettings | RingostatSettings | CalltouchSettings | AmoCrmSettings

SETTINGS_BY_VENDOR: dict[Vendor, type[BaseModel]] = {
    Vendor.ROISTAT: RoistatSettings,
    Vendor.RINGOSTAT: RingostatSettings,
    Vendor.CALLTOUCH: CalltouchSettings,
    Vendor.AMOCRM: AmoCrmSettings,
}

#: What the static-channel value column is called for each vendor (seed 000 / seed 001).
CHANNEL_VALUE_LABEL = {Vendor.ROISTAT: "Значение", Vendor.RINGOSTAT: "Название пула номеров"}


def settings_for(vendor: Vendor, raw: dict[str, Any] | None) -> BaseModel:
    """Validate raw settings for a vendor (defaults fill what is missing)."""
    return SETTINGS_BY_VENDOR[vendor].model_validate({**(raw or {}), "vendor": vendor})
