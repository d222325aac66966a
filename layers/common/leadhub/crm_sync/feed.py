"""From extraction to the amoCRM sync: a stored day's inquiries, queued for each amoCRM connector of the
project whose lead sync takes them.

Extraction (and re-attribution after a settings change) calls `day_stored` after it replaced a day's
partitions. Only inquiries from the last `AMOCRM_SYNC_MAX_AGE_HOURS` go: a backfill of last month must not
create last month's deals. Every re-read of a day queues its inquiries again; the sync sends only what
changed (attribution arriving), within each inquiry's three hours.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from leadhub.connectors.registry import spec_for
from leadhub.models.connector import Connector
from leadhub.models.lead_sync import KIND_TYPES, Inquiry, Param, lead_sync_of
from leadhub.models.settings import Vendor
from leadhub.observability import logger
from leadhub.settings import get_settings
from leadhub.store import errors as store_errors
from leadhub.store.connectors import ConnectorStore
from leadhub.store.partitions import CONVERSIONS, Partition, PartitionStore
from leadhub.store.queues import Queue

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
#: Inquiries per queue message (well under SQS's 256 KiB).
PER_MESSAGE = 50

#: The raw row's key that is the conversion's `vendor_id` (Roistat `id`, Ringostat `uniqueid`).
_ROW_IDS = ("id", "uniqueid")
#: Where the vendors' raw rows keep what a conversion does not (Roistat proxy leads and calls, Ringostat
#: calls; a visit attached at extraction): the first key present wins.
_RAW_KEYS: dict[str, tuple[str, ...]] = {
    "phone": ("phone", "caller", "caller_number"),
    "email": ("email",),
    "name": ("name", "client_name"),
    "subject": ("title",),
    "message": ("text", "comment"),
    "company": ("company",),
}
_RAW_PARAMS: dict[Param, tuple[str, ...]] = {
    Param.CITY: ("visit.geo.city", "city"),
    Param.COUNTRY: ("visit.geo.country", "country"),
    Param.IP: ("visit.ip", "ip", "remote_ip"),
    Param.BROWSER: ("visit.device.agent", "browser"),
    Param.PAGE_PATH: ("visit.landing_page", "landing", "page"),
    Param.FULL_PATH: ("visit.referrer", "referrer", "refferrer"),
    Param.YM_CLIENT_ID: ("visit.metrika_client_id", "ym_client_id"),
}


def _dig(row: Mapping[str, Any], path: str) -> str | None:
    value: Any = row
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    if value is None or isinstance(value, Mapping | list):
        return None
    text = str(value).strip()
    return text or None


def _first(row: Mapping[str, Any], paths: Iterable[str]) -> str | None:
    return next((found for path in paths if (found := _dig(row, path)) is not None), None)


def inquiry_id(connector_id: str, stream: str, vendor_id: str) -> str:
    """`<connector>.<stream>.<vendor id>`, in characters a URL path carries as they are."""
    return _UNSAFE.sub("_", f"{connector_id}.{stream}.{vendor_id}")


def inquiries_of(
    connector: Connector, stream: str, conversions: Iterable[Mapping[str, Any]], raw: Iterable[Mapping[str, Any]]
) -> list[Inquiry]:
    """The conversions that are inquiries (calls, forms, chats, offline), with who made them from the raw rows."""
    rows = {}
    for row in raw:
        row_id = next((row[key] for key in _ROW_IDS if row.get(key) is not None), None)
        if row_id is not None:
            rows[str(row_id)] = row
    undefined = spec_for(connector.vendor).undefined_campaign
    found = []
    for conversion in conversions:
        kind = KIND_TYPES.get(str(conversion.get("kind")))
        if kind is None or not conversion.get("inquiry", True):
            continue
        row = rows.get(str(conversion["vendor_id"]), {})
        params = {
            Param.SOURCE: conversion.get("source"),
            Param.TRAFFIC_TYPE: conversion.get("traffic_type"),
            Param.CAMPAIGN: None if conversion.get("campaign") == undefined else conversion.get("campaign"),
            Param.CONTENT: conversion.get("content"),
            Param.KEYWORD: conversion.get("keyword"),
            Param.GA_CLIENT_ID: conversion.get("ga_client_id"),
            **{param: _first(row, paths) for param, paths in _RAW_PARAMS.items()},
        }
        details = {name: _first(row, paths) for name, paths in _RAW_KEYS.items()}
        found.append(
            Inquiry(
                id=inquiry_id(connector.id, stream, str(conversion["vendor_id"])),
                source_connector_id=connector.id,
                type=kind,
                occurred_at=datetime.fromisoformat(str(conversion["occurred_at"]).replace("Z", "+00:00")),
                params={param: str(value) for param, value in params.items() if value},
                **details,
            )
        )
    return found


def sync_targets(connector: Connector, store: ConnectorStore | None = None) -> list[Connector]:
    """The project's active amoCRM connectors whose lead sync takes this connector's inquiries."""
    if connector.vendor == Vendor.AMOCRM:
        return []
    targets = []
    for other in (store or ConnectorStore()).list_connectors(connector.account_id, connector.project_id):
        if other.vendor != Vendor.AMOCRM or not other.active:
            continue
        rules = lead_sync_of(other.settings)
        if rules.enabled and (not rules.source_connector_ids or connector.id in rules.source_connector_ids):
            targets.append(other)
    return targets


def queue_inquiries(target_id: str, inquiries: list[Inquiry], queue: Queue | None = None) -> int:
    """Put inquiries on the sync's queue for one amoCRM connector, as extraction does."""
    messages = [
        {
            "connector_id": target_id,
            "inquiries": [inquiry.model_dump(mode="json") for inquiry in inquiries[start : start + PER_MESSAGE]],
        }
        for start in range(0, len(inquiries), PER_MESSAGE)
    ]
    (queue or Queue(get_settings().crm_sync_queue)).send(messages)
    return len(inquiries)


def day_stored(
    connector: Connector,
    stream: str,
    day: date,
    raw: list[dict[str, Any]],
    *,
    partitions: PartitionStore | None = None,
    now: datetime | None = None,
) -> int:
    """Called by extraction once a day's partitions are stored: queue its recent inquiries. Answers how many."""
    targets = sync_targets(connector)
    if not targets:
        return 0
    since = (now or datetime.now(UTC)) - timedelta(hours=get_settings().amocrm_sync_max_age_hours)
    if day < since.date() - timedelta(days=1):
        return 0
    store = partitions or PartitionStore()
    conversions = store.read(Partition(CONVERSIONS, connector.project_id, connector.id, stream, day))
    recent = [inquiry for inquiry in inquiries_of(connector, stream, conversions, raw) if inquiry.occurred_at >= since]
    if not recent:
        return 0
    for target in targets:
        try:
            queue_inquiries(target.id, recent)
        except store_errors.StoreError:
            # the day is stored all the same; the next run re-reads today and queues its inquiries again
            logger.exception("inquiries not queued for amoCRM", extra={"connector_id": target.id})
            return 0
    logger.info("inquiries queued for amoCRM", extra={"connector_id": connector.id, "inquiries": len(recent)})
    return len(recent)
