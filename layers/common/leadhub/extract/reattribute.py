"""Re-attribute a connector's archive from its raw partitions, without asking the vendor again.

After a settings change (a tag, a static channel, the KPI mode) every stored day is normalised
again with the current rules and its conversion partition replaced whole; the extraction cursor
is not touched, so the incremental schedule carries on as before.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from leadhub.extract.run import build_streams
from leadhub.models.conversion import conversion_json
from leadhub.store.connectors import ConnectorStore
from leadhub.store.partitions import CONVERSIONS, RAW, Partition, PartitionStore
from leadhub.store.secrets import SecretStore

_ALL_TIME = (date(2000, 1, 1), date(2100, 1, 1))


def _latest_statuses(partitions: PartitionStore, project_id: str, connector_id: str) -> list[dict[str, Any]]:
    snapshots = [
        partition
        for partition in partitions.partitions(RAW, project_id, start=_ALL_TIME[0], end=_ALL_TIME[1])
        if partition.connector_id == connector_id and partition.stream == "statuses"
    ]
    if not snapshots:
        return []
    return list(partitions.read(max(snapshots, key=lambda partition: partition.day)))


def reattribute(connector_id: str, *, store: ConnectorStore | None = None) -> int:
    """Rewrite every conversion partition of the connector from its raw rows; returns days rewritten."""
    store = store or ConnectorStore()
    partitions = PartitionStore()
    connector = store.find_connector(connector_id)
    project = store.get_project(connector.account_id, connector.project_id)
    project_id = connector.project_id
    streams = build_streams(
        connector,
        SecretStore().get(connector_id),
        project.timezone,
        statuses=_latest_statuses(partitions, project_id, connector_id),
    )
    readers = {reader.name: reader for reader in streams if reader.normalise is not None}
    raw_days = sorted(
        (
            partition
            for partition in partitions.partitions(RAW, project_id, start=_ALL_TIME[0], end=_ALL_TIME[1])
            if partition.connector_id == connector_id and partition.stream in readers
        ),
        key=lambda partition: (partition.stream, partition.day),
    )
    for partition in raw_days:
        normalise = readers[partition.stream].normalise
        assert normalise is not None
        conversions = normalise(list(partitions.read(partition)), partition.day)
        target = Partition(CONVERSIONS, project_id, connector_id, partition.stream, partition.day)
        partitions.replace_lines(target, (conversion_json(conversion) for conversion in conversions))
    return len(raw_days)
