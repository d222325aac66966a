"""amoCRM lead sync: inquiry messages from the queue, and the re-check schedule's ticks."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from leadhub.crm_sync.delivery import consume, schedule_rechecks
from leadhub.observability import logger, metrics, tracer


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("recheck"):
        return {"due": schedule_rechecks(event.get("scheduled_time"))}
    failed = consume((record["messageId"], record["body"]) for record in event.get("Records", []))
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}
