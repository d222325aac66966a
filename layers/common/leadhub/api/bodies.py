"""Examples of request bodies whose fields depend on a vendor: one per vendor, so Swagger UI's
"Try it out" offers a body the connector's vendor accepts."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.openapi.models import Example
from aws_lambda_powertools.event_handler.openapi.params import Body

from leadhub.connectors.registry import SPECS
from leadhub.models.settings import Vendor

_EXAMPLES: dict[Vendor, dict[str, Any]] = {
    Vendor.ROISTAT: {
        "kpi_mode": "tagged",
        "tags": ["квал"],
        "include_not_counted": False,
        "streams": {"calls": True, "orders": True, "proxyleads": False},
        "static_channels": [
            {
                "parameter": "roistat",
                "value": "avito",
                "source": "Авито",
                "traffic_type": "Классифайды",
                "campaign": "Авито — объявления",
            }
        ],
        "lookback_days": {"calls": 3, "orders": 30},
    },
    Vendor.RINGOSTAT: {
        "kpi_mode": "unique",
        "static_channels": [
            {
                "parameter": "utm_source",
                "value": "Пул Авито",
                "source": "Авито",
                "traffic_type": "Классифайды",
                "campaign": "Авито — объявления",
            }
        ],
        "vendor_timezone": "Europe/Kyiv",
    },
    Vendor.CALLTOUCH: {},
    Vendor.AMOCRM: {},
}


def settings_changes_body() -> Body:
    return Body(
        description="The settings to change. Which fields apply depends on the connector's vendor: pick its example.",
        openapi_examples={
            vendor.value: Example(summary=f"a {SPECS[vendor].title} connector", value=example)
            for vendor, example in _EXAMPLES.items()
        },
    )
