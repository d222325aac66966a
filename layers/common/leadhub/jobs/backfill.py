"""Backfill on a settings change: a connectors-table stream record → the jobs its diff needs.

Idempotent: the jobs of one settings version have ids made of that version and their place in the
plan, and are stored only if new, so a record delivered twice plans nothing new. A plan for a newer
version carries on what older jobs had not finished (they stop at their next day, superseded).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

from leadhub.connectors.registry import spec_for
from leadhub.extract.slices import account_zone, local_today
from leadhub.jobs.plan import PlannedJob, plan
from leadhub.jobs.runner import connector_jobs, dispatch_next, enqueue, new_job
from leadhub.models.connector import Connector
from leadhub.models.job import Job, JobKind, JobState
from leadhub.observability import logger
from leadhub.store.connectors import ConnectorStore, connector_from_image
from leadhub.store.jobs import JobStore
from leadhub.store.sync_state import SyncStateStore


def _stored_ranges(connector_id: str) -> dict[str, list[tuple[date, date]]]:
    return {
        stream: [
            (date.fromisoformat(first), date.fromisoformat(last)) for first, last in state.get("completed_ranges", [])
        ]
        for stream, state in SyncStateStore().by_stream(connector_id).items()
    }


def _carried(job: Job) -> PlannedJob | None:
    """What is left of a job of an older settings version; None when nothing is."""
    start = job.range_start
    if job.kind is JobKind.RANGE and job.streams and len(job.streams) == 1 and job.streams[0] in job.checkpoint:
        start = date.fromisoformat(job.checkpoint[job.streams[0]]) + timedelta(days=1)
        if job.range_end is not None and start > job.range_end:
            return None
    return PlannedJob(job.kind, tuple(job.streams) if job.streams else None, start, job.range_end, carries=job.id)


def left_over(jobs: list[Job], old: Connector, new: Connector) -> list[PlannedJob]:
    """What older jobs leave undone when attribution changes, each carried by one plan only: those still
    unfinished (they stop at their next day, superseded) and those this change superseded already (a job
    notices the change when the settings are saved, before the change's plan is made). Re-attributions
    are not carried: the new plan re-attributes the whole archive."""
    carried = {job.carries for job in jobs if job.carries}
    found = []
    for job in jobs:
        if job.id in carried or job.kind is JobKind.REATTRIBUTE or job.settings_version >= new.settings_version:
            continue
        # superseded by this change: planned under the attribution the change replaces, or later
        stopped_now = job.state is JobState.SUPERSEDED and job.settings_version >= old.attribution_version
        if not job.finished or stopped_now:
            rest = _carried(job)
            if rest is not None:
                found.append(rest)
    return found


def on_connector_change(
    old_image: dict[str, Any] | None, new_image: dict[str, Any] | None, *, now: datetime | None = None
) -> list[str]:
    """Plan the jobs a connector's settings change needs; answers the ids of those stored now."""
    old, new = connector_from_image(old_image), connector_from_image(new_image)
    if old is None or new is None or new.settings_version <= old.settings_version:
        return []  # a new or deleted connector, a project, or a change that left the settings alone
    store, jobs_store = ConnectorStore(), JobStore()
    zone = store.get_project(new.account_id, new.project_id).timezone
    today = local_today(now or datetime.now(UTC), account_zone(new, zone))
    planned = plan(old.settings, new.settings, spec_for(new.vendor).streams, today=today, stored=_stored_ranges(new.id))
    if new.attribution_version > old.attribution_version:
        planned += left_over(connector_jobs(new.id, jobs_store), old, new)
    stored = _enqueue(new, planned, jobs_store)
    logger.info(
        "backfill planned", extra={"connector_id": new.id, "settings_version": new.settings_version, "jobs": stored}
    )
    if planned:
        dispatch_next(new.id, jobs_store)
    return stored


def _enqueue(connector: Connector, planned: list[PlannedJob], jobs: JobStore) -> list[str]:
    stored = []
    for index, item in enumerate(planned):
        # a carried job's id names what it carries: a record delivered again, after another job stopped,
        # carries that one too instead of finding its place in the plan taken
        place = f"c{hashlib.sha256(item.carries.encode()).hexdigest()[:10]}" if item.carries else f"{index:02d}"
        job_id = f"plan-{connector.settings_version:06d}-{place}-{item.kind.value}"
        job = new_job(
            connector,
            item.kind,
            job_id=job_id,
            streams=list(item.streams) if item.streams else None,
            range_start=item.range_start,
            range_end=item.range_end,
            carries=item.carries,
        )
        if enqueue(job, jobs):
            stored.append(job_id)
    return stored
