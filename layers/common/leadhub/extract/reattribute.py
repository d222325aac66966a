"""Re-attribute a connector's archive from its raw partitions, without asking the vendor again.

After a settings change (a tag, a static channel, the KPI mode, the «Не учитывается» toggle)
every stored day is normalised again with the current rules and its conversion partition replaced
whole, so a day keeps its old figures until its new partition replaces it; the day then records the
settings version it was built with. The extraction cursor is not touched. It holds the connector's
lease like every writer, works day by day with a checkpoint, and stops when its time runs low or a
newer settings version supersedes it.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from leadhub.crm_sync import feed as crm_feed
from leadhub.extract.engine import RunLimits
from leadhub.extract.run import build_streams
from leadhub.extract.state import StreamSyncState
from leadhub.extract.streams import Normaliser
from leadhub.models.connector import Connector
from leadhub.models.conversion import stored_rows
from leadhub.models.job import JobControl, StopReason
from leadhub.store import errors as store_errors
from leadhub.store.connectors import ConnectorStore
from leadhub.store.daily import DailySummaries
from leadhub.store.jobs import JobStore
from leadhub.store.partitions import CONVERSIONS, RAW, Partition, PartitionStore
from leadhub.store.secrets import SecretStore
from leadhub.store.sync_state import SyncStateStore

_ALL_TIME = (date(2000, 1, 1), date(2100, 1, 1))


@dataclass
class ReattributeOutcome:
    connector_id: str
    status: str
    days: int = 0
    stopped_by: str | None = None


class _Unbounded:
    def stop_reason(self) -> StopReason | None:
        return None

    def unit_done(self, checkpoint: dict[str, Any], done: int, planned: int) -> None:
        return None


def _raw_partitions(partitions: PartitionStore, connector: Connector) -> list[Partition]:
    return [
        partition
        for partition in partitions.partitions(RAW, connector.project_id, start=_ALL_TIME[0], end=_ALL_TIME[1])
        if partition.connector_id == connector.id
    ]


def _latest_statuses(partitions: PartitionStore, raw: list[Partition]) -> list[dict[str, Any]]:
    snapshots = [partition for partition in raw if partition.stream == "statuses"]
    if not snapshots:
        return []
    return list(partitions.read(max(snapshots, key=lambda partition: partition.day)))


def rebuild_day(
    partitions: PartitionStore, raw: Partition, normalise: Normaliser, *, connector: Connector | None = None
) -> int:
    """Replace the day's conversion partition with its raw rows normalised again; answers how many. With
    the `connector`, its recent inquiries go to the amoCRM sync again, as a read of the day sends them:
    a settings change that moved them (a static channel, a mark) is attribution arriving, and the sync
    updates what it sent within each inquiry's three hours."""
    vendor_rows = list(partitions.read(raw))
    rows = stored_rows(normalise(vendor_rows, raw.day))
    target = Partition(CONVERSIONS, raw.project_id, raw.connector_id, raw.stream, raw.day)
    count = partitions.replace(target, rows)
    DailySummaries(partitions.objects).record(target, rows)
    if connector is not None:
        crm_feed.day_stored(connector, raw.stream, raw.day, vendor_rows, partitions=partitions)
    return count


@dataclass
class Reattribution:
    connector: Connector
    project_zone: str
    control: JobControl
    streams: list[str] | None = None
    #: Per stream, the last day an earlier invocation rebuilt: a continuation resumes after it.
    resume_after: dict[str, date] | None = None

    def run(self) -> ReattributeOutcome:
        partitions, states = PartitionStore(), SyncStateStore()
        connector = self.connector
        raw = _raw_partitions(partitions, connector)
        readers = {
            reader.name: reader
            for reader in build_streams(
                connector,
                SecretStore().get(connector.id),
                self.project_zone,
                statuses=_latest_statuses(partitions, raw),
            )
            if reader.normalise is not None and (self.streams is None or reader.name in self.streams)
        }
        resume = self.resume_after or {}
        days = sorted(
            (
                partition
                for partition in raw
                if partition.stream in readers and partition.day > resume.get(partition.stream, date.min)
            ),
            key=lambda partition: (partition.stream, partition.day),
        )
        outcome = ReattributeOutcome(connector.id, "done")
        account = connector.vendor_account_id
        loaded: dict[str, StreamSyncState] = {}
        for partition in days:
            reason = self.control.stop_reason()
            if reason is not None:
                outcome.status, outcome.stopped_by = "partial", reason.value
                return outcome
            normalise = readers[partition.stream].normalise
            assert normalise is not None
            rebuild_day(partitions, partition, normalise, connector=connector)
            state = loaded.get(partition.stream)
            if state is None:
                stored = states.get(connector.id, partition.stream, account)
                state = StreamSyncState.model_validate(stored) if stored else StreamSyncState()
            state.rebuilt(partition.day, connector.settings_version)
            loaded[partition.stream] = StreamSyncState.model_validate(
                states.save(connector.id, partition.stream, account, state.stored())
            )
            outcome.days += 1
            self.control.unit_done({partition.stream: partition.day.isoformat()}, outcome.days, len(days))
        return outcome


def reattribute(
    connector_id: str,
    *,
    store: ConnectorStore | None = None,
    control: JobControl | None = None,
    streams: list[str] | None = None,
    resume_after: dict[str, date] | None = None,
    lease_held: bool = False,
) -> ReattributeOutcome:
    """Rewrite the connector's conversion partitions from their raw rows (those of `streams`, or all).
    `lease_held`: the caller (a job) holds the connector's lease already."""
    store = store or ConnectorStore()
    connector = store.find_connector(connector_id)
    zone = store.get_project(connector.account_id, connector.project_id).timezone
    work = Reattribution(connector, zone, control or _Unbounded(), streams, resume_after)
    if lease_held:
        return work.run()
    leases, owner = JobStore(), uuid.uuid4().hex
    try:
        leases.acquire_lease(connector_id, owner, now=time.time(), seconds=RunLimits().lease_seconds)
    except store_errors.LeaseHeld:
        return ReattributeOutcome(connector_id, "busy")
    try:
        return work.run()
    finally:
        leases.release_lease(connector_id, owner)
