"""The plan-import function: one Calltouch plan import sent (continuing itself when its time runs
low), or the schedule's tick that resumes imports waiting for Calltouch's daily API points."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from leadhub.observability import logger, metrics, tracer
from leadhub.plans.job import resume_waiting, run_plan_import


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    remaining = context.get_remaining_time_in_millis
    target = event.get("plan_import")
    if isinstance(target, dict) and isinstance(target.get("id"), str):
        record = run_plan_import(target["id"], remaining_ms=remaining)
        return {"plan_import": record.id, "state": record.state.value}
    return {"resumed": resume_waiting(remaining_ms=remaining)}
