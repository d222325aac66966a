"""Long-running work on one connector (an extraction run, a range read, a re-attribution) as a job.

A job is planned for one settings version of its connector; it holds the connector's lease while
it writes, works in units (days) with a checkpoint after each, and re-dispatches itself when the
invocation's time runs low. The kinds' code lives with the work (`leadhub.extract`); `leadhub.jobs`
runs them.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol

from pydantic import Field

from leadhub.models.base import DeferredModel


class JobKind(StrEnum):
    #: The incremental policy: cursor + lookback, moving the cursor (the schedule's run, `POST …/sync`).
    EXTRACT = "extract"
    #: The range policy: a fixed range of days read from the vendor; the cursor never moves.
    RANGE = "range"
    #: Every stored day normalised again from its raw rows: no vendor calls.
    REATTRIBUTE = "reattribute"


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    #: A newer settings version arrived: its plan carries on whatever of this job is still needed.
    SUPERSEDED = "superseded"


FINISHED = frozenset({JobState.DONE, JobState.FAILED, JobState.SUPERSEDED})


class Job(DeferredModel):
    id: str
    connector_id: str
    kind: JobKind
    #: The connector's settings version the job was planned for.
    settings_version: int = 1
    state: JobState = JobState.QUEUED
    #: The streams it works (None: every enabled stream).
    streams: list[str] | None = None
    range_start: date | None = None
    range_end: date | None = None
    #: Where a continuation resumes: per stream, the last day done.
    checkpoint: dict[str, Any] = Field(default_factory=dict)
    done: int = 0
    planned: int = 0
    last_error: str | None = None
    #: Invocations so far: 1 plus its continuations.
    invocations: int = 0
    #: A queued job the vendor's passing trouble stopped: not started again before this time (ISO UTC).
    retry_at: str | None = None
    #: Those stops in a row; past RETRY_LIMIT the job fails.
    transient_failures: int = 0
    reason: str | None = None
    #: The older settings version's job whose rest this one does (a plan carries each job once).
    carries: str | None = None
    created_at: str
    updated_at: str
    #: The stored version this was read at (optimistic locking).
    version: int | None = None

    @property
    def queued(self) -> bool:
        return self.state is JobState.QUEUED

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    def waiting_at(self, now: datetime) -> bool:
        """Queued for a retry that is not due yet."""
        return self.queued and self.retry_at is not None and datetime.fromisoformat(self.retry_at) > now


class StopReason(StrEnum):
    TIME = "time"
    SUPERSEDED = "superseded"


class JobControl(Protocol):
    """What a job kind's work asks of its runner between two units."""

    def stop_reason(self) -> StopReason | None:
        """Why the work must stop before the next unit (None: carry on)."""

    def unit_done(self, checkpoint: dict[str, Any], done: int, planned: int) -> None:
        """Record a unit: where a continuation resumes and how far the work is."""
