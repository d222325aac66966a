"""The jobs function: scheduled ticks (EventBridge Scheduler), one connector's run, and every
dispatched job (extraction, range reads, re-attribution), each resuming from its checkpoint."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from leadhub.extract.request import ExtractRequest
from leadhub.extract.run import run_connector
from leadhub.jobs.runner import run_job, run_vendor
from leadhub.observability import logger, metrics, tracer


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = ExtractRequest.model_validate(event)
    remaining = context.get_remaining_time_in_millis
    if request.job is not None:
        job = run_job(request.job.connector_id, request.job.id, remaining_ms=remaining)
        return {"job": job.model_dump(mode="json", include={"id", "kind", "state", "done", "planned"})}
    if request.connector_id is not None:
        return {"outcomes": [asdict(run_connector(request.connector_id, remaining_ms=remaining))]}
    assert request.vendor is not None
    outcomes = run_vendor(request.vendor, remaining_ms=remaining)
    return {"scheduled_time": request.scheduled_time, "outcomes": [asdict(outcome) for outcome in outcomes]}
