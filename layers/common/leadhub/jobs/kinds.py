"""Each job kind's work: what a job of that kind runs, given its control (stop? progress)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from leadhub.extract.engine import FixedRange, RunOutcome
from leadhub.extract.reattribute import reattribute
from leadhub.extract.run import run_connector
from leadhub.models.job import Job, JobControl, JobKind


@dataclass(frozen=True)
class WorkResult:
    #: Why the work stopped before its end ("time", "superseded"); None: it ended.
    stopped_by: str | None = None
    #: What failed, in plain words; None: nothing did.
    error: str | None = None
    #: The error was the vendor's passing trouble (down, limit used up): the work is worth trying again,
    #: no sooner than this many seconds (0: whenever). None: nothing to try again, or nothing a retry mends.
    retry_after: float | None = None


def _resume_after(job: Job) -> dict[str, date]:
    return {stream: date.fromisoformat(day) for stream, day in job.checkpoint.items()}


def _extraction_result(outcome: RunOutcome) -> WorkResult:
    failed = [stream for stream in outcome.streams if stream.status == "failed"]
    error = "; ".join(f"{stream.stream}: {(stream.error or {}).get('explanation', '')}" for stream in failed)
    return WorkResult(outcome.stopped_by, error or None, outcome.retry_after)


def extract(job: Job, control: JobControl) -> WorkResult:
    """The incremental policy: cursor + lookback."""
    outcome = run_connector(
        job.connector_id, remaining_ms=lambda: 10**9, control=control, streams=job.streams, lease_held=True
    )
    return _extraction_result(outcome)


def read_range(job: Job, control: JobControl) -> WorkResult:
    """The range policy: the job's fixed range, the cursor untouched."""
    assert job.range_start is not None and job.range_end is not None
    policy = FixedRange(job.range_start, job.range_end, _resume_after(job))
    outcome = run_connector(
        job.connector_id,
        remaining_ms=lambda: 10**9,
        control=control,
        streams=job.streams,
        policy=policy,
        lease_held=True,
    )
    return _extraction_result(outcome)


def rebuild(job: Job, control: JobControl) -> WorkResult:
    """Every stored day normalised again from its raw rows."""
    outcome = reattribute(
        job.connector_id, control=control, streams=job.streams, resume_after=_resume_after(job), lease_held=True
    )
    return WorkResult(outcome.stopped_by)


KINDS: dict[JobKind, Callable[[Job, JobControl], WorkResult]] = {
    JobKind.EXTRACT: extract,
    JobKind.RANGE: read_range,
    JobKind.REATTRIBUTE: rebuild,
}
