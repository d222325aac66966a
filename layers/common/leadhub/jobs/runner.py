"""Run one job: under the connector's lease, within the invocation's time, until done, failed or
superseded; a job whose time runs low re-dispatches itself and resumes from its checkpoint.

Jobs of one connector run one at a time, oldest first: whoever releases the connector's lease
dispatches the next queued job, so a job that found the lease taken is never stranded (it was
stored before it was dispatched, and the holder looks for it after releasing).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from leadhub.clock import utc_iso, utc_now
from leadhub.jobs.dispatch import can_dispatch, dispatch, job_payload
from leadhub.models.connector import Connector
from leadhub.models.job import Job, JobKind, JobState, StopReason
from leadhub.models.settings import Vendor
from leadhub.observability import logger
from leadhub.redaction import redact
from leadhub.store import errors as store_errors
from leadhub.store.connectors import ConnectorStore
from leadhub.store.jobs import JobStore

#: Stop starting new units when less than this is left of the invocation's time.
SAFETY_MS = 60_000
LEASE_SECONDS = 900
#: A job the vendor's passing trouble stopped (down, its limit used up) waits and is started again
#: by the schedule's first tick after its retry time; after this many such stops in a row it fails.
RETRY_LIMIT = 24
RETRY_BACKOFF = 300.0
RETRY_BACKOFF_CAP = 3600.0


def new_job(connector: Connector, kind: JobKind, *, job_id: str | None = None, **fields: Any) -> Job:
    return Job(
        id=job_id or f"{kind.value}-{uuid.uuid4().hex[:12]}",
        connector_id=connector.id,
        kind=kind,
        settings_version=connector.settings_version,
        # to the microsecond: jobs run oldest first, and a plan and a tick often come within one second
        created_at=utc_iso(datetime.now(UTC), "microseconds"),
        updated_at=utc_now(),
        **fields,
    )


def enqueue(job: Job, jobs: JobStore | None = None) -> bool:
    """Store a queued job; False when a job of that id exists already (a duplicate plan)."""
    try:
        (jobs or JobStore()).create(job.model_dump(mode="json", exclude_none=True, exclude={"version"}))
    except store_errors.AlreadyExists:
        return False
    return True


def connector_jobs(connector_id: str, jobs: JobStore | None = None) -> list[Job]:
    """The connector's jobs, oldest first."""
    found = [Job.model_validate(item) for item in (jobs or JobStore()).of_connector(connector_id)]
    return sorted(found, key=lambda job: (datetime.fromisoformat(job.created_at), job.id))


def dispatch_next(connector_id: str, jobs: JobStore | None = None, *, now: datetime | None = None) -> str | None:
    """Dispatch the connector's oldest unfinished job, if any (`next_due`); answers how it was started."""
    job = next_due(connector_id, jobs, now=now)
    if job is None or not can_dispatch():
        return None  # nothing due, or nowhere to start it: the next tick runs it
    return dispatch(job_payload(connector_id, job.id))


def next_due(connector_id: str, jobs: JobStore | None = None, *, now: datetime | None = None) -> Job | None:
    """The connector's oldest unfinished job, None when there is none or it waits. A job still marked
    running is one whose invocation died (a live one holds the lease, and the job started finds it
    taken): it resumes from its checkpoint. One waiting for its retry time holds the jobs behind it
    too (they read the same vendor, and order matters): the schedule's next tick after that time
    starts it."""
    for job in connector_jobs(connector_id, jobs):
        if job.finished:
            continue
        return None if job.waiting_at(now or datetime.now(UTC)) else job
    return None


def _superseded(connector: Connector | None, job: Job) -> bool:
    """A newer settings version changed what attribution reads (or the connector is gone)."""
    return connector is None or connector.attribution_version > job.settings_version


@dataclass
class Control:
    """What the running job's work asks between two units: whether to stop, and where it got to."""

    job: Job
    jobs: JobStore
    connectors: ConnectorStore
    remaining_ms: Callable[[], int]
    safety_ms: int = SAFETY_MS
    #: Units earlier invocations of the job did: a continuation's progress adds to them.
    done_before: int = field(init=False)

    def __post_init__(self) -> None:
        self.done_before = self.job.done

    def stop_reason(self) -> StopReason | None:
        if self.remaining_ms() < self.safety_ms:
            return StopReason.TIME
        if _superseded(_find(self.connectors, self.job.connector_id), self.job):
            return StopReason.SUPERSEDED
        return None

    def unit_done(self, checkpoint: dict[str, Any], done: int, planned: int) -> None:
        self.job.checkpoint = {**self.job.checkpoint, **checkpoint}
        self.job.done, self.job.planned = self.done_before + done, self.done_before + planned
        self.job = _save(self.jobs, self.job)


def _find(connectors: ConnectorStore, connector_id: str) -> Connector | None:
    try:
        return connectors.find_connector(connector_id)
    except store_errors.NotFound:
        return None


def _save(jobs: JobStore, job: Job) -> Job:
    job.updated_at = utc_now()
    return Job.model_validate(jobs.save(job.model_dump(mode="json", exclude_none=True)))


def run_job(
    connector_id: str,
    job_id: str,
    *,
    remaining_ms: Callable[[], int],
    safety_ms: int = SAFETY_MS,
    jobs: JobStore | None = None,
    connectors: ConnectorStore | None = None,
) -> Job:
    jobs, connectors = jobs or JobStore(), connectors or ConnectorStore()
    job = Job.model_validate(jobs.get(connector_id, job_id))
    if job.finished:
        return job
    # one owner per invocation: a second invocation of this very job must find the lease taken
    owner = f"{job.id}/{uuid.uuid4().hex[:8]}"
    try:
        # only the lease holder writes a job's state
        jobs.acquire_lease(connector_id, owner, now=time.time(), seconds=LEASE_SECONDS)
    except store_errors.LeaseHeld:
        logger.info("another writer holds the connector: the job waits", extra={"job_id": job.id})
        return job
    try:
        job = Job.model_validate(jobs.get(connector_id, job_id))
        if job.finished:
            return job
        if _superseded(_find(connectors, connector_id), job):
            job.state = JobState.SUPERSEDED
            return _save(jobs, job)
        job.state, job.invocations = JobState.RUNNING, job.invocations + 1
        job = _save(jobs, job)
        return _work(job, Control(job, jobs, connectors, remaining_ms, safety_ms))
    finally:
        jobs.release_lease(connector_id, owner)
        # a continuation (this job, queued again) or the next job: whichever is the oldest queued
        dispatch_next(connector_id, jobs)


def _work(job: Job, control: Control) -> Job:
    # the work itself (the engine, its vendors) loads here: planning and queueing jobs (the API, the
    # backfill function) never runs one, and its cold start does not pay for them
    from leadhub.jobs.kinds import KINDS

    try:
        result = KINDS[job.kind](job, control)
    except Exception as error:
        logger.exception("job crashed", extra={"job_id": job.id, "kind": job.kind.value})
        job = control.job
        job.state, job.last_error = JobState.FAILED, redact(f"{type(error).__name__}: {error}")
        return _save(control.jobs, job)
    job = control.job
    if result.stopped_by == StopReason.TIME.value:
        job.state = JobState.QUEUED  # continued by the next invocation, from its checkpoint
    elif result.stopped_by == StopReason.SUPERSEDED.value:
        job.state = JobState.SUPERSEDED
    elif result.error is not None and result.retry_after is not None and job.transient_failures < RETRY_LIMIT:
        job.state, job.last_error = JobState.QUEUED, result.error
        job.transient_failures += 1
        wait = max(result.retry_after, min(RETRY_BACKOFF_CAP, RETRY_BACKOFF * 2 ** (job.transient_failures - 1)))
        job.retry_at = utc_iso(datetime.now(UTC) + timedelta(seconds=wait))
    elif result.error is not None:
        job.state, job.last_error = JobState.FAILED, result.error
    else:
        job.state, job.retry_at, job.transient_failures = JobState.DONE, None, 0
    logger.info("job", extra={"job_id": job.id, "kind": job.kind.value, "state": job.state.value})
    return _save(control.jobs, job)


# --- the schedule -------------------------------------------------------------------------------


def start_extraction(connector: Connector, jobs: JobStore | None = None) -> str:
    """Queue an incremental extraction of the connector (unless one waits already) and start the
    connector's next job; answers how it was started."""
    jobs = jobs or JobStore()
    queue_extraction(connector, jobs)
    return dispatch_next(connector.id, jobs) or "queued"


def queue_extraction(connector: Connector, jobs: JobStore) -> None:
    """An incremental extraction of the connector joins its queue, unless one waits there already."""
    if not any(
        job.kind is JobKind.EXTRACT and job.state is JobState.QUEUED for job in connector_jobs(connector.id, jobs)
    ):
        enqueue(new_job(connector, JobKind.EXTRACT), jobs)


@dataclass
class TickOutcome:
    connector_id: str
    status: str


def run_vendor(vendor: Vendor, *, remaining_ms: Callable[[], int], fan_out: bool | None = None) -> list[TickOutcome]:
    """A scheduled tick: an extraction job for every scheduled connector of the vendor. Fanned out,
    each job gets an invocation (and its 15 minutes) of its own; inline, they run one after the
    other. Either way one connector's failure stops no other."""
    connectors = ConnectorStore()
    jobs = JobStore()
    outcomes = []
    for connector_id in connectors.scheduled(vendor.value):
        connector = _find(connectors, connector_id)
        if connector is None:
            continue
        if fan_out if fan_out is not None else can_dispatch():
            start_extraction(connector, jobs)
            outcomes.append(TickOutcome(connector_id, "dispatched"))
            continue
        if remaining_ms() < SAFETY_MS:
            logger.warning("time ran out before every connector ran", extra={"vendor": vendor.value})
            break
        # inline, as fanned out: the connector's jobs in their order, a waiting one holding the rest
        queue_extraction(connector, jobs)
        due = next_due(connector_id, jobs)
        if due is None:
            outcomes.append(TickOutcome(connector_id, "waiting"))
            continue
        finished = run_job(connector_id, due.id, remaining_ms=remaining_ms, jobs=jobs, connectors=connectors)
        outcomes.append(TickOutcome(connector_id, finished.state.value))
    return outcomes
