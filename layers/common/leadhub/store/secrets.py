"""Vendor credentials live in Secrets Manager only, one secret per connector.

The secret fields of every credential read or written here (keys, tokens; not the ids and names
stored beside them) are registered with the redaction filter, so the process masks them in any log
line or error from then on.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from leadhub.redaction import register_secrets, secret_fields
from leadhub.settings import get_settings
from leadhub.store import aws, errors
from leadhub.store.translate import translated


def _register(values: dict[str, Any]) -> None:
    # Only the secret fields: the vendor, ids and dates stored beside them must stay readable in logs.
    register_secrets(secret_fields(values))


class SecretStore:
    def __init__(self, prefix: str | None = None) -> None:
        self.prefix = (prefix or get_settings().secrets_prefix).rstrip("/")

    def name(self, connector_id: str) -> str:
        return f"{self.prefix}/{connector_id}"

    def put(self, connector_id: str, credentials: dict[str, Any]) -> None:
        """Create or replace the connector's credentials."""
        _register(credentials)
        body = json.dumps(credentials)
        client = aws.client("secretsmanager")
        try:
            with translated(f"create secret for {connector_id}"):
                client.create_secret(Name=self.name(connector_id), SecretString=body)
        except errors.AlreadyExists:
            with translated(f"update secret for {connector_id}"):
                client.put_secret_value(SecretId=self.name(connector_id), SecretString=body)

    def get(self, connector_id: str) -> dict[str, Any]:
        with translated(f"read secret for {connector_id}"):
            answer = aws.client("secretsmanager").get_secret_value(SecretId=self.name(connector_id))
        credentials: dict[str, Any] = json.loads(answer["SecretString"])
        _register(credentials)
        return credentials

    def created_before(self, subpath: str, moment: datetime) -> list[str]:
        """Names (below this store's prefix, under `subpath`) of secrets created before `moment`."""
        prefix = f"{self.name(subpath)}/"
        client = aws.client("secretsmanager")
        found = []
        with translated(f"list secrets under {subpath}"):
            for page in client.get_paginator("list_secrets").paginate(Filters=[{"Key": "name", "Values": [prefix]}]):
                for entry in page.get("SecretList", []):
                    created = entry.get("CreatedDate")
                    if entry["Name"].startswith(prefix) and created is not None and created < moment:
                        found.append(entry["Name"].removeprefix(f"{self.prefix}/"))
        return found

    def delete(self, connector_id: str) -> None:
        try:
            with translated(f"delete secret for {connector_id}"):
                aws.client("secretsmanager").delete_secret(
                    SecretId=self.name(connector_id), ForceDeleteWithoutRecovery=True
                )
        except errors.NotFound:
            return
