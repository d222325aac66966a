"""The sync as jobs: queue messages in, passes per amoCRM connector, and the re-check schedule.

A message is `{"connector_id", "inquiries": [...]}` (extraction) or `{"connector_id", "recheck": [ids],
"at": <scheduled time>}` (the schedule). A scheduled message carries the schedule's time: the pass's clock
is the later of it and the real one, which is also how a test moves time forward through the queue.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from leadhub.crm_sync.sync import LeadSyncPass, Outcome
from leadhub.models.lead_sync import Inquiry
from leadhub.observability import logger
from leadhub.settings import get_settings
from leadhub.store import errors as store_errors
from leadhub.store.connectors import ConnectorStore
from leadhub.store.crm_sync import CrmSyncStore
from leadhub.store.queues import Queue


@dataclass
class _Batch:
    inquiries: dict[str, Inquiry] = field(default_factory=dict)
    recheck: set[str] = field(default_factory=set)
    at: float = 0.0
    message_ids: list[str] = field(default_factory=list)


def _epoch(text: Any) -> float:
    if not text:
        return 0.0
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def consume(messages: Iterable[tuple[str, str]]) -> list[str]:
    """Run the passes the messages ask for, one per connector; answers the ids of messages that failed."""
    batches: dict[str, _Batch] = {}
    failed: list[str] = []
    for message_id, body in messages:
        try:
            payload = json.loads(body)
            batch = batches.setdefault(str(payload["connector_id"]), _Batch())
            for raw in payload.get("inquiries") or []:
                inquiry = Inquiry.model_validate(raw)
                batch.inquiries[inquiry.id] = inquiry  # the later delivery of one inquiry wins
            batch.recheck.update(str(item) for item in payload.get("recheck") or [])
            batch.at = max(batch.at, _epoch(payload.get("at")))
            batch.message_ids.append(message_id)
        except (ValueError, KeyError, TypeError):
            # a malformed message cannot succeed on a retry: log it and let it go
            logger.exception("malformed amoCRM sync message", extra={"message_id": message_id})
    for connector_id, batch in batches.items():
        try:
            run_pass(connector_id, list(batch.inquiries.values()), batch.recheck, at=batch.at)
        except store_errors.StoreError:
            logger.exception("amoCRM sync pass could not store its state", extra={"connector_id": connector_id})
            failed.extend(batch.message_ids)
    return failed


def run_pass(connector_id: str, inquiries: list[Inquiry], recheck: Iterable[str] = (), *, at: float = 0.0) -> Outcome:
    connectors = ConnectorStore()
    try:
        connector = connectors.find_connector(connector_id)
    except store_errors.NotFound:
        logger.info("amoCRM connector gone; its inquiries are dropped", extra={"connector_id": connector_id})
        return Outcome()
    if not connector.active:
        return Outcome(stopped_by="inactive")
    project = connectors.get_project(connector.account_id, connector.project_id)
    sync = LeadSyncPass(connector, project.name, now=lambda: max(time.time(), at))
    outcome = sync.run(inquiries, recheck)
    logger.info("amoCRM sync pass", extra={"connector_id": connector_id, "outcome": outcome.__dict__})
    return outcome


def schedule_rechecks(scheduled_time: str | None = None, *, queue: Queue | None = None) -> int:
    """The schedule's tick: a message per connector with inquiries whose re-check is due."""
    at = _epoch(scheduled_time) or time.time()
    due = CrmSyncStore().due(max(at, time.time()))
    messages = [
        {"connector_id": connector_id, "recheck": ids[start : start + 200], "at": scheduled_time}
        for connector_id, ids in due.items()
        for start in range(0, len(ids), 200)
    ]
    if messages:
        (queue or Queue(get_settings().crm_sync_queue)).send(messages)
    return sum(len(ids) for ids in due.values())
