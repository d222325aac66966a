"""Entry points of extraction: every scheduled connector of a vendor, or one connector now."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any
from zoneinfo import ZoneInfo

from leadhub.attribution.rules import AttributionRules
from leadhub.connectors.registry import spec_for
from leadhub.extract.dispatch import can_dispatch, start_extraction
from leadhub.extract.engine import ConnectorRun, RunLimits, RunOutcome
from leadhub.extract.streams import ExtractionInputs, StreamReader
from leadhub.models.connector import Connector
from leadhub.models.settings import Vendor
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
    readers = spec.readers(ExtractionInputs(connector, secret, rules, zone, statuses))
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
) -> RunOutcome:
    store = store or ConnectorStore()
    connector = store.find_connector(connector_id)
    if not connector.active:
        return RunOutcome(connector_id, "inactive")
    if spec_for(connector.vendor).readers is None:
        return RunOutcome(connector_id, "nothing to extract")
    zone = store.get_project(connector.account_id, connector.project_id).timezone
    run = ConnectorRun(
        connector=connector,
        streams=build_streams(connector, SecretStore().get(connector_id), zone),
        account_zone=ZoneInfo(connector.settings.get("vendor_timezone") or zone),
        states=SyncStateStore(),
        partitions=PartitionStore(),
        connectors=store,
        remaining_ms=remaining_ms,
        limits=limits or RunLimits(),
    )
    outcome = run.run()
    logger.info("connector run", extra={"connector_id": connector_id, "outcome": asdict(outcome)})
    return outcome


def run_vendor(
    vendor: Vendor,
    *,
    remaining_ms: Callable[[], int],
    limits: RunLimits | None = None,
    fan_out: bool | None = None,
) -> list[RunOutcome]:
    """Every scheduled connector of the vendor. Fanned out, each gets an invocation (and its
    15 minutes) of its own; inline, they run one after the other. Either way one connector's
    failure stops no other. By default: fanned out wherever runs can be dispatched."""
    store = ConnectorStore()
    connector_ids = store.scheduled(vendor.value)
    if fan_out if fan_out is not None else can_dispatch():
        return [
            RunOutcome(connector_id, f"dispatched ({start_extraction(connector_id)})") for connector_id in connector_ids
        ]
    limits = limits or RunLimits()
    outcomes = []
    for connector_id in connector_ids:
        if remaining_ms() < limits.safety_ms:
            logger.warning("time ran out before every connector ran", extra={"vendor": vendor.value})
            break
        try:
            outcomes.append(run_connector(connector_id, remaining_ms=remaining_ms, limits=limits, store=store))
        except Exception:
            logger.exception("connector run crashed", extra={"connector_id": connector_id})
            outcomes.append(RunOutcome(connector_id, "crashed"))
    return outcomes
