"""What a marketer reads about a connector's loading: per stream, its state, the last success,
rows loaded and the last error in plain words."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from leadhub.connectors.registry import spec_for
from leadhub.extract.findings import StreamFindings
from leadhub.models.settings import Vendor
from leadhub.setup.connectors import ConnectorView
from leadhub.store.sync_state import SyncStateStore


class LoadingState(StrEnum):
    """What a stream is doing, as the status shows it."""

    IDLE = "idle"
    RUNNING = "running"
    BACKFILLING = "backfilling"
    FAILED = "failed"
    PAUSED = "paused"


class StreamError(BaseModel):
    error_class: str = Field(alias="class", serialization_alias="class")
    message: str
    explanation: str
    at: str | None = None

    model_config = {"populate_by_name": True}


class Progress(BaseModel):
    done: int
    total: int


class StreamStatus(BaseModel):
    stream: str
    vendor_account_id: str
    state: LoadingState
    enabled: bool = True
    progress: Progress | None = None
    last_success_at: str | None = None
    rows_loaded: int = 0
    last_error: StreamError | None = None
    note: str | None = None


class ConnectorStatus(BaseModel):
    connector_id: str
    active: bool
    streams: list[StreamStatus]
    warnings: list[str] = Field(default_factory=list)


def enabled_streams(vendor: Vendor, settings: dict[str, Any]) -> dict[str, bool]:
    """The streams a status shows, each with whether the settings switch it on."""
    return {stream.name: stream.enabled(settings) for stream in spec_for(vendor).streams if stream.shown}


def _stream_status(
    stream: str, account: str, enabled: bool, active: bool, stored: dict[str, Any] | None
) -> StreamStatus:
    stored = stored or {}
    state = LoadingState(stored.get("status", LoadingState.IDLE))
    note = None
    if not active:
        state, note = LoadingState.PAUSED, "the connector is deactivated"
    elif not enabled:
        state, note = LoadingState.PAUSED, "this stream is switched off in the settings"
    elif stored.get("paused_reason"):
        state, note = LoadingState.PAUSED, str(stored["paused_reason"])
    error = stored.get("last_error")
    return StreamStatus(
        stream=stream,
        vendor_account_id=account,
        state=state,
        enabled=enabled,
        progress=Progress(**stored["progress"]) if stored.get("progress") else None,
        last_success_at=stored.get("last_success_at"),
        rows_loaded=int(stored.get("rows_loaded", 0)),
        last_error=StreamError.model_validate(error) if error else None,
        note=note,
    )


def connector_status(connector: ConnectorView, states: SyncStateStore | None = None) -> ConnectorStatus:
    states = states or SyncStateStore()
    stored = states.by_stream(connector.id)
    streams = [
        _stream_status(stream, connector.vendor_account_id, enabled, connector.active, stored.get(stream))
        for stream, enabled in enabled_streams(connector.vendor, connector.settings).items()
    ]
    # what reading found that the user must act on (e.g. a vendor account in another time zone)
    findings = [
        message
        for stream in streams
        for message in StreamFindings.for_stream(connector.project_id, connector.id, stream.stream).load().values()
    ]
    return ConnectorStatus(
        connector_id=connector.id, active=connector.active, streams=streams, warnings=[*connector.warnings, *findings]
    )
