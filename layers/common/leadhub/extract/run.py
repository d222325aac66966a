"""Entry points of extraction: one connector's streams, under the incremental or the range policy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from leadhub.attribution.rules import AttributionRules
from leadhub.connectors.registry import spec_for
from leadhub.egress import shared_limiter_for
from leadhub.extract.engine import ConnectorRun, Policy, RunLimits, RunOutcome
from leadhub.extract.slices import account_zone
from leadhub.extract.streams import ExtractionInputs, StreamReader
from leadhub.models.connector import Connector
from leadhub.models.job import JobControl
from leadhub.observability import logger
from leadhub.store.connectors import ConnectorStore
from leadhub.store.partitions import PartitionStore
from leadhub.store.secrets import SecretStore
from leadhub.store.sync_state import SyncStateStore


def build_streams(
    connector: Connector, secret: dict[str, Any], zone: str, *, statuses: list[dict[str, Any]] | None = None
) -> list[StreamReader]:
    """The connector's enabled streams, in the order its vendor declares them."""
    spec = spec_for(connector.vendor)
    if spec.readers is None:
        return []
    settings = connector.settings
    rules = AttributionRules.from_settings(
        spec.validate_settings(settings),
        project_timezone=zone,
        undefined_campaign=spec.undefined_campaign,
        naive_timezone=spec.naive_timezone,
    )
    limiter = shared_limiter_for(connector.vendor)
    readers = spec.readers(ExtractionInputs(connector, secret, rules, zone, statuses, limiter))
    return [
        StreamReader(stream.name, stream.lookback(settings), *readers[stream.name], snapshot=stream.snapshot)
        for stream in spec.streams
        if stream.enabled(settings)
    ]


def run_connector(
    connector_id: str,
    *,
    remaining_ms: Callable[[], int],
    limits: RunLimits | None = None,
    store: ConnectorStore | None = None,
    policy: Policy | None = None,
    control: JobControl | None = None,
    streams: list[str] | None = None,
    lease_held: bool = False,
) -> RunOutcome:
    """Run the connector's enabled streams (or those of `streams`); `lease_held`: the caller (a job)
    holds the connector's lease already."""
    store = store or ConnectorStore()
    connector = store.find_connector(connector_id)
    if not connector.active:
        return RunOutcome(connector_id, "inactive")
    if spec_for(connector.vendor).readers is None:
        return RunOutcome(connector_id, "nothing to extract")
    zone = store.get_project(connector.account_id, connector.project_id).timezone
    readers = build_streams(connector, SecretStore().get(connector_id), zone)
    run = ConnectorRun(
        connector=connector,
        streams=[reader for reader in readers if streams is None or reader.name in streams],
        account_zone=account_zone(connector, zone),
        states=SyncStateStore(),
        partitions=PartitionStore(),
        connectors=store,
        remaining_ms=remaining_ms,
        limits=limits or RunLimits(),
        policy=policy,
        control=control,
        take_lease=not lease_held,
    )
    outcome = run.run()
    logger.info("connector run", extra={"connector_id": connector_id, "outcome": asdict(outcome)})
    return outcome
