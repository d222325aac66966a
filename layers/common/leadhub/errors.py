"""Requests the domain refuses, each answered as a 4xx naming the reason."""

from __future__ import annotations

from typing import Any


class InvalidRequest(ValueError):
    """The request is well-formed but cannot be carried out as asked (HTTP 422)."""

    def __init__(self, message: str, *, field: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.field = field
        #: Extra keys of the answer, e.g. the per-row errors of an import.
        self.details = details


class RunInProgress(Exception):
    """An extraction run holds the connector: a second one would only wait for it (HTTP 409)."""

    def __init__(self, connector_id: str) -> None:
        super().__init__(
            f"a run of connector {connector_id} is in progress: follow it in /connectors/{connector_id}/status "
            "and sync again once it has finished"
        )
