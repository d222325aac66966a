"""Entry points of extraction: every scheduled connector of a vendor, or one connector now."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any
from zoneinfo import ZoneInfo

from leadhub.attribution.rules import AttributionRules
from leadhub.connectors.registry import settings_for
from leadhub.extract.dispatch import can_dispatch, start_extraction
from leadhub.extract.engine import ConnectorRun, RunLimits, RunOutcome
from leadhub.extract.first_contacts import FirstContacts
from leadhub.extract.streams import StreamReader
from leadhub.extract.vendors import ringostat_streams, roistat_streams
from leadhub.models.settings import Vendor
from leadhub.observability import logger
from leadhub.store.connectors import ConnectorStore
from leadhub.store.partitions import PartitionStore
from leadhub.store.secrets import SecretStore
from leadhub.store.sync_state import SyncStateStore
from leadhub.vendors import factory

EXTRACTED_VENDORS = (Vendor.ROISTAT, Vendor.RINGOSTAT)


def build_streams(
    connector: dict[str, Any], secret: dict[str, Any], zone: str, *, statuses: list[dict[str, Any]] | None = None
) -> list[StreamReader]:
    vendor = Vendor(connector["vendor"])
    settings = connector.get("settings", {})
    rules = AttributionRules.from_settings(settings_for(vendor, settings), project_timezone=zone)
    account = str(connector["vendor_account_id"])
    if vendor is Vendor.ROISTAT:
        contacts = FirstContacts.for_connector(str(connector["project_id"]), str(connector["item_id"]), "calls")
        return roistat_streams(
            factory.roistat(secret), settings, rules, account, first_contacts=contacts, statuses=statuses
        )
    if vendor is Vendor.RINGOSTAT:
        client = factory.ringostat(secret, project_tz=settings.get("vendor_timezone") or zone)
        return ringostat_streams(client, settings, rules, account)
    return []


def run_connector(
    connector_id: str,
    *,
    remaining_ms: Callable[[], int],
    limits: RunLimits | None = None,
    store: ConnectorStore | None = None,
) -> RunOutcome:
    store = store or ConnectorStore()
    connector = store.find_connector(connector_id)
    if not connector.get("active"):
        return RunOutcome(connector_id, "inactive")
    if Vendor(connector["vendor"]) not in EXTRACTED_VENDORS:
        return RunOutcome(connector_id, "nothing to extract")
    project = store.get_project(connector["account_id"], connector["project_id"])
    zone = str(project["timezone"])
    settings = connector.get("settings", {})
    run = ConnectorRun(
        connector=connector,
        streams=build_streams(connector, SecretStore().get(connector_id), zone),
        account_zone=ZoneInfo(settings.get("vendor_timezone") or zone),
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
