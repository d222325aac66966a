"""Jobs, the connector lease and the backfill plans, in the jobs table.

Layout: partition `CONNECTOR#<connector>`; sort key `JOB#<job id>` (ids sort by creation, so one
query lists a connector's jobs) and `LEASE` (the one lease every writer of the connector's
partitions holds: incremental runs, range reads, re-attribution). Jobs are created only if new, so
a plan delivered twice (ids made of the settings version) stores nothing new.
"""

from __future__ import annotations

import time
from typing import Any

from leadhub.settings import get_settings
from leadhub.store.tables import VersionedTable

#: Finished jobs and plan markers are forgotten after this long (the table's TTL).
KEEP_SECONDS = 30 * 86400


def _pk(connector_id: str) -> str:
    return f"CONNECTOR#{connector_id}"


def _job_key(connector_id: str, job_id: str) -> dict[str, str]:
    return {"pk": _pk(connector_id), "sk": f"JOB#{job_id}"}


def _lease_key(connector_id: str) -> dict[str, str]:
    return {"pk": _pk(connector_id), "sk": "LEASE"}


def _job(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key not in ("pk", "sk", "expires_at")}


class JobStore:
    def __init__(self, table_name: str | None = None) -> None:
        self.table = VersionedTable(table_name or get_settings().jobs_table, ("pk", "sk"))

    # jobs
    def create(self, job: dict[str, Any]) -> dict[str, Any]:
        item = {**job, **_job_key(job["connector_id"], job["id"]), "expires_at": int(time.time()) + KEEP_SECONDS}
        return _job(self.table.create(item))

    def get(self, connector_id: str, job_id: str) -> dict[str, Any]:
        return _job(self.table.require(_job_key(connector_id, job_id)))

    def save(self, job: dict[str, Any]) -> dict[str, Any]:
        """Write back a job read at `job["version"]`; VersionConflict if it changed meanwhile."""
        item = {**job, **_job_key(job["connector_id"], job["id"]), "expires_at": int(time.time()) + KEEP_SECONDS}
        return _job(self.table.update(item))

    def of_connector(self, connector_id: str) -> list[dict[str, Any]]:
        """The connector's jobs, oldest first (strongly consistent: a job just planned is listed)."""
        return [_job(item) for item in self.table.query("pk", _pk(connector_id), sort_prefix="JOB#", consistent=True)]

    # the connector lease
    def lease_held(self, connector_id: str, *, now: float) -> bool:
        """Whether a writer holds an unexpired lease on the connector right now."""
        lease = self.table.get(_lease_key(connector_id))
        return lease is not None and float(lease.get("lease_until", 0)) > now

    def acquire_lease(self, connector_id: str, owner: str, *, now: float, seconds: float) -> None:
        """Raises LeaseHeld while another writer holds an unexpired lease on this connector."""
        self.table.claim(_lease_key(connector_id), owner=owner, now=now, until=now + seconds)

    def release_lease(self, connector_id: str, owner: str) -> None:
        self.table.release(_lease_key(connector_id), owner=owner)

    def delete_all(self, connector_id: str) -> None:
        for item in list(self.table.query("pk", _pk(connector_id))):
            self.table.delete(item)
