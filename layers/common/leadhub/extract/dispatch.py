"""Start a connector's extraction now, without making the caller wait for it.

In AWS the extraction function is invoked asynchronously (EXTRACT_FUNCTION_NAME); the local
stack registers a runner that calls the same handler on a thread.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from leadhub.store.functions import invoke_async

LocalRunner = Callable[[dict[str, Any]], None]
_local: dict[str, LocalRunner] = {}


def use_local_runner(runner: LocalRunner | None) -> None:
    _local.pop("runner", None)
    if runner is not None:
        _local["runner"] = runner


def can_dispatch() -> bool:
    """Whether runs can be started elsewhere (an async Lambda invocation, or the local runner)."""
    return "runner" in _local or bool(os.environ.get("EXTRACT_FUNCTION_NAME"))


def start_extraction(connector_id: str) -> str:
    """Start the run; answers how it was started."""
    payload = {"connector_id": connector_id}
    runner = _local.get("runner")
    if runner is not None:
        runner(payload)
        return "local"
    function_name = os.environ.get("EXTRACT_FUNCTION_NAME")
    if not function_name:
        raise RuntimeError("EXTRACT_FUNCTION_NAME is not set and no local runner is registered")
    invoke_async(function_name, payload)
    return "lambda"
