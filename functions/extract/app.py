"""Scheduled per-vendor extraction (EventBridge Scheduler) and on-demand runs of one connector."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from leadhub.extract.request import ExtractRequest
from leadhub.extract.run import run_connector, run_vendor
from leadhub.observability import logger, metrics, tracer


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = ExtractRequest.model_validate(event)
    remaining = context.get_remaining_time_in_millis
    if request.connector_id is not None:
        outcomes = [run_connector(request.connector_id, remaining_ms=remaining)]
    else:
        assert request.vendor is not None
        outcomes = run_vendor(request.vendor, remaining_ms=remaining)
    return {"scheduled_time": request.scheduled_time, "outcomes": [asdict(outcome) for outcome in outcomes]}
