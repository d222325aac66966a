"""Start a job (or a scheduled tick) elsewhere, without making the caller wait for it.

In AWS the jobs function is invoked asynchronously (JOBS_FUNCTION_NAME); the local stack
registers a runner that calls the same handler on a worker thread, and tests one that runs it
at once.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from leadhub.store.functions import invoke_async

LocalRunner = Callable[[dict[str, Any]], None]
_local: dict[str, LocalRunner] = {}
#: A target is the environment variable naming the function that does the work.
JOBS_TARGET = "JOBS_FUNCTION_NAME"
#: Calltouch plan imports run in a function of their own (leadhub.plans.job).
PLAN_IMPORT_TARGET = "PLAN_IMPORT_FUNCTION_NAME"


def use_local_runner(runner: LocalRunner | None, target: str = JOBS_TARGET) -> None:
    _local.pop(target, None)
    if runner is not None:
        _local[target] = runner


def can_dispatch(target: str = JOBS_TARGET) -> bool:
    """Whether work can be started elsewhere (an async Lambda invocation, or the local runner)."""
    return target in _local or bool(os.environ.get(target))


def dispatch(payload: dict[str, Any], target: str = JOBS_TARGET) -> str:
    """Start the work the payload names; answers how it was started."""
    runner = _local.get(target)
    if runner is not None:
        runner(payload)
        return "local"
    function_name = os.environ.get(target)
    if not function_name:
        raise RuntimeError(f"{target} is not set and no local runner is registered")
    invoke_async(function_name, payload)
    return "lambda"


def job_payload(connector_id: str, job_id: str) -> dict[str, Any]:
    return {"job": {"connector_id": connector_id, "id": job_id}}
