"""The one place that looks a vendor up: adding a vendor adds its module here, nothing else."""

from __future__ import annotations

from leadhub.connectors import amocrm, calltouch, ringostat, roistat
from leadhub.connectors.amocrm import AmoCrmSettings
from leadhub.connectors.calltouch import CalltouchSettings
from leadhub.connectors.ringostat import RingostatSettings
from leadhub.connectors.roistat import RoistatSettings
from leadhub.connectors.spec import VendorSpec
from leadhub.models.settings import Vendor

SPECS: dict[Vendor, VendorSpec] = {
    module.SPEC.vendor: module.SPEC for module in (roistat, ringostat, calltouch, amocrm)
}

#: Any vendor's settings, told apart by `vendor`.
ConnectorSettings = RoistatSettings | RingostatSettings | CalltouchSettings | AmoCrmSettings


def spec_for(vendor: Vendor | str) -> VendorSpec:
    return SPECS[Vendor(vendor)]
