"""What a marketer reads about a connector's loading: per stream, its state within a run, the last
success, rows read and rows stored, the last error in plain words; for the archive, how many days
reflect the current settings; the connector's jobs with their progress."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field

from leadhub.connectors.registry import spec_for
from leadhub.extract.findings import StreamFindings
from leadhub.extract.slices import account_zone, local_today
from leadhub.jobs.plan import history_start
from leadhub.jobs.runner import connector_jobs
from leadhub.models.base import DeferredModel
from leadhub.models.connector import Connector
from leadhub.models.job import Job, JobKind, JobState
from leadhub.models.settings import Vendor
from leadhub.setup.connectors import ConnectorView
from leadhub.store.jobs import JobStore
from leadhub.store.sync_state import SyncStateStore

#: Finished jobs a status still lists (the latest ones).
RECENT_JOBS = 5


class LoadingState(StrEnum):
    """What a stream is doing, as the status shows it: within a run `queued` → `running` (or
    `backfilling`, reading history) → `done`; `idle` between runs."""

    IDLE = "idle"
    QUEUED = "queued"
    RUNNING = "running"
    BACKFILLING = "backfilling"
    DONE = "done"
    FAILED = "failed"
    PAUSED = "paused"


class StreamError(DeferredModel):
    error_class: str = Field(alias="class", serialization_alias="class")
    message: str
    explanation: str
    at: str | None = None
    scope: str | None = Field(
        default=None, description="`stream`: this stream's own configuration (a feature off); the others load."
    )

    model_config = ConfigDict(populate_by_name=True)


class Progress(DeferredModel):
    done: int
    total: int


class StreamStatus(DeferredModel):
    stream: str
    vendor_account_id: str
    state: LoadingState
    enabled: bool = True
    progress: Progress | None = None
    last_success_at: str | None = None
    rows_read: int = Field(default=0, description="Every row read from the vendor, re-reads included.")
    rows_stored: int = Field(default=0, description="Distinct rows stored: each day once, however often re-read.")
    days_stored: int = 0
    days_current: int = Field(default=0, description="Stored days built with the current settings.")
    last_error: StreamError | None = None
    note: str | None = None


class ArchiveState(StrEnum):
    IDLE = "idle"
    BACKFILLING = "backfilling"


class ArchiveStatus(DeferredModel):
    """Whether every stored day reflects the current settings. A day keeps its old figures until
    its rebuilt partition replaces it whole, so the report never shows a half-built day."""

    state: ArchiveState
    settings_version: int
    days_current: int
    days_total: int
    summary: str = Field(examples=["backfilling 212/365 days, settings v7"])


class JobView(DeferredModel):
    id: str
    kind: JobKind
    state: JobState
    settings_version: int
    done: int
    planned: int
    last_error: str | None = None
    retry_at: str | None = Field(
        default=None,
        description="A queued job the vendor's passing trouble stopped (down, its request limit used up) is "
        "started again by the first scheduled run after this time (ISO 8601, UTC); `last_error` says why.",
    )
    updated_at: str


class ConnectorStatus(DeferredModel):
    connector_id: str
    active: bool
    streams: list[StreamStatus]
    archive: ArchiveStatus
    jobs: list[JobView] = Field(default_factory=list, description="Unfinished jobs and the latest finished ones.")
    warnings: list[str] = Field(default_factory=list)


def enabled_streams(vendor: Vendor, settings: dict[str, Any]) -> dict[str, bool]:
    """The streams a status shows, each with whether the settings switch it on."""
    return {stream.name: stream.enabled(settings) for stream in spec_for(vendor).streams if stream.shown}


def _stream_status(
    stream: str, account: str, enabled: bool, active: bool, stored: dict[str, Any] | None, *, current: int
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
    days: dict[str, list[int]] = stored.get("days", {})
    return StreamStatus(
        stream=stream,
        vendor_account_id=account,
        state=state,
        enabled=enabled,
        progress=Progress(**stored["progress"]) if stored.get("progress") else None,
        last_success_at=stored.get("last_success_at"),
        rows_read=int(stored.get("rows_read", stored.get("rows_loaded", 0))),
        rows_stored=sum(int(rows) for rows, _ in days.values()),
        days_stored=len(days),
        days_current=sum(1 for _, version in days.values() if version >= current),
        last_error=StreamError.model_validate(error) if error else None,
        note=note,
    )


def archive_status(
    settings_version: int, attribution_version: int, stored: Iterable[dict[str, Any]], jobs: list[Job]
) -> ArchiveStatus:
    """A day is current when every enabled stream built it with the current settings (the
    attribution version or later); `idle` only when all are and no backfill job is left."""
    built: dict[str, int] = {}
    for stream_state in stored:
        for day, (_, version) in stream_state.get("days", {}).items():
            built[day] = min(built.get(day, version), version)
    current = sum(1 for version in built.values() if version >= attribution_version)
    backfill_left = any(not job.finished and job.kind is not JobKind.EXTRACT for job in jobs)
    state = ArchiveState.IDLE if current == len(built) and not backfill_left else ArchiveState.BACKFILLING
    summary = f"{state.value} {current}/{len(built)} days, settings v{settings_version}"
    return ArchiveStatus(
        state=state,
        settings_version=settings_version,
        days_current=current,
        days_total=len(built),
        summary=summary,
    )


def _job_view(job: Job) -> JobView:
    return JobView.model_validate(job.model_dump(include=set(JobView.model_fields)))


def connector_status(
    connector: ConnectorView, states: SyncStateStore | None = None, jobs: JobStore | None = None
) -> ConnectorStatus:
    states = states or SyncStateStore()
    stored = states.by_stream(connector.id)
    shown = enabled_streams(connector.vendor, connector.settings)
    current = connector.attribution_version
    streams = [
        _stream_status(
            stream, connector.vendor_account_id, enabled, connector.active, stored.get(stream), current=current
        )
        for stream, enabled in shown.items()
    ]
    # what reading found that the user must act on (e.g. a vendor account in another time zone)
    findings = [
        message
        for stream in streams
        for message in StreamFindings.for_stream(connector.project_id, connector.id, stream.stream).load().values()
    ]
    every_job = connector_jobs(connector.id, jobs)
    listed = [job for job in every_job if not job.finished] + [job for job in every_job if job.finished][-RECENT_JOBS:]
    # a snapshot (Roistat's client report) is no archive day: nothing re-attributes it, so counting it
    # would keep the archive "backfilling" after every settings change until the next scheduled run
    archived = {stream.name for stream in spec_for(connector.vendor).streams if not stream.snapshot}
    enabled_states = [
        stored[stream] for stream, enabled in shown.items() if enabled and stream in stored and stream in archived
    ]
    return ConnectorStatus(
        connector_id=connector.id,
        active=connector.active,
        streams=streams,
        archive=archive_status(connector.settings_version, current, enabled_states, every_job),
        jobs=[_job_view(job) for job in listed],
        warnings=[*connector.warnings, *findings],
    )


@dataclass(frozen=True)
class ReportCoverage:
    """What a project's report may count, and what it cannot yet."""

    #: (connector, stream) pairs whose conversions count: a deleted connector's and a switched-off
    #: stream's do not (their raw rows stay, so switching back is a re-attribution).
    visible: frozenset[tuple[str, str]]
    #: Deactivated connectors whose (kept) data the report counts.
    inactive: list[str]
    #: Days of the range a stream should hold (within its history, up to today) but does not yet.
    missing: list[date]


def report_coverage(
    connectors: Iterable[Connector], date_from: date, date_to: date, *, project_zone: str, now: datetime | None = None
) -> ReportCoverage:
    states = SyncStateStore()
    visible: set[tuple[str, str]] = set()
    inactive, missing = [], set()
    for connector in connectors:
        if not connector.active:
            inactive.append(connector.id)
        if spec_for(connector.vendor).readers is None:
            continue  # nothing of this vendor is extracted yet: it holds no days to miss
        stored = states.by_stream(connector.id)
        today = local_today(now or datetime.now(UTC), account_zone(connector, project_zone))
        first = max(date_from, history_start(connector.settings, today))
        last = min(date_to, today)
        for stream in spec_for(connector.vendor).streams:
            if not stream.enabled(connector.settings):
                continue
            visible.add((connector.id, stream.name))
            if stream.snapshot or stream.kpi_kind is None or not connector.active:
                continue
            held = set((stored.get(stream.name) or {}).get("days", {}))
            day = first
            while day <= last:
                if day.isoformat() not in held:
                    missing.add(day)
                day += timedelta(days=1)
    return ReportCoverage(frozenset(visible), sorted(inactive), sorted(missing))
