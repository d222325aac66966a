"""Print the OpenAPI document (`make openapi` writes it to docs/openapi.json)."""

from __future__ import annotations

from leadhub.api.app import build_resolver, openapi_json

if __name__ == "__main__":
    print(openapi_json(build_resolver()))
