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

#: The label a compare-and-swap stages its value under before making it current.
_STAGED = "LEADHUB_STAGED"
_REPLACE_ATTEMPTS = 5


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
            # a replacement goes through the same stage-and-swap as `put_if_current`, so both move
            # AWSCURRENT the same way; a writer that swapped in between is simply replaced again
            for _ in range(_REPLACE_ATTEMPTS):
                _, current = self.get_versioned(connector_id)
                try:
                    self.put_if_current(connector_id, credentials, current)
                    return
                except errors.VersionConflict:
                    continue
            raise errors.VersionConflict(f"secret of {connector_id} kept changing while it was replaced") from None

    def get(self, connector_id: str) -> dict[str, Any]:
        with translated(f"read secret for {connector_id}"):
            answer = aws.client("secretsmanager").get_secret_value(
                SecretId=self.name(connector_id), VersionStage="AWSCURRENT"
            )
        credentials: dict[str, Any] = json.loads(answer["SecretString"])
        _register(credentials)
        return credentials

    def get_versioned(self, connector_id: str) -> tuple[dict[str, Any], str]:
        """The credentials and the id of the version read: what `put_if_current` compares against."""
        with translated(f"read secret for {connector_id}"):
            answer = aws.client("secretsmanager").get_secret_value(
                SecretId=self.name(connector_id), VersionStage="AWSCURRENT"
            )
        credentials: dict[str, Any] = json.loads(answer["SecretString"])
        _register(credentials)
        return credentials, str(answer["VersionId"])

    def put_if_current(self, connector_id: str, credentials: dict[str, Any], read_version: str) -> str:
        """Replace the credentials only if the current version is still `read_version` (a compare-and-swap):
        the new value is staged beside the current one, then AWSCURRENT moves to it on the condition that it
        still sits on `read_version`, which Secrets Manager checks atomically. VersionConflict when another
        writer got there first: re-read and use theirs. Answers the new version id."""
        _register(credentials)
        client = aws.client("secretsmanager")
        name = self.name(connector_id)
        with translated(f"stage secret for {connector_id}"):
            staged = client.put_secret_value(
                SecretId=name, SecretString=json.dumps(credentials), VersionStages=[_STAGED]
            )
        new_version = str(staged["VersionId"])
        try:
            with translated(f"swap secret for {connector_id}"):
                client.update_secret_version_stage(
                    SecretId=name,
                    VersionStage="AWSCURRENT",
                    MoveToVersionId=new_version,
                    RemoveFromVersionId=read_version,
                )
        except errors.StoreError as lost:
            raise errors.VersionConflict(f"secret of {connector_id} changed since it was read") from lost
        return new_version

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
