"""Examples of request bodies whose fields depend on a vendor: one per vendor, so Swagger UI's
"Try it out" offers a body the connector's vendor accepts."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.openapi.params import Body

from leadhub.connectors.registry import SPECS


def settings_changes_body() -> Body:
    # plain data, validated into Powertools' Example when the document is made: its OpenAPI models then
    # load with /openapi.json, not with every cold start
    examples: dict[str, Any] = {
        vendor.value: {"summary": f"a {spec.title} connector", "value": spec.settings_example}
        for vendor, spec in SPECS.items()
    }
    return Body(
        description="The settings to change. Which fields apply depends on the connector's vendor: pick its example.",
        openapi_examples=examples,
    )
