"""The local stand-ins for EventBridge Scheduler and for asynchronous invocation.

The schedules are read from template.yaml (the extraction function's ScheduleV2 events: their
Input), and fired at a local interval, `LEADHUB_SCHEDULE_SECONDS` (default 300; 0 turns the
local schedule off), each on a worker thread running the same handler as in AWS.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from devstack import template
from devstack.lambda_runtime import LocalContext
from leadhub.observability import logger

Handler = Callable[[dict[str, Any], Any], Any]


def scheduled_inputs(function_id: str = "ExtractFunction") -> list[dict[str, Any]]:
    """The Input of every ScheduleV2 event of a function in the template."""
    function = template.load()["Resources"][function_id]
    inputs = []
    for event in function["Properties"].get("Events", {}).values():
        if event["Type"] == "ScheduleV2":
            inputs.append(json.loads(event["Properties"]["Input"]))
    return inputs


class LocalInvoker:
    """Runs a handler on worker threads, as Lambda runs an asynchronous invocation.

    The workers are daemon threads: when the stack stops, a job in the middle of a vendor call (or
    its retry back-off) must not hold the process open; a job between two days stops at once (its
    time is up) and is not continued.
    """

    WORKERS = 4

    def __init__(self, handler: Handler, *, timeout_seconds: float = 900.0) -> None:
        self._handler = handler
        self._timeout = timeout_seconds
        self._payloads: queue.Queue[dict[str, Any]] = queue.Queue()
        self._stopping = threading.Event()
        for number in range(self.WORKERS):
            threading.Thread(target=self._work, name=f"local-lambda-{number}", daemon=True).start()

    def __call__(self, payload: dict[str, Any]) -> None:
        if not self._stopping.is_set():
            self._payloads.put(payload)

    def _work(self) -> None:
        while not self._stopping.is_set():
            try:
                payload = self._payloads.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                self.invoke(payload)
            except Exception:
                logger.exception("a local invocation failed", extra={"payload_keys": sorted(payload)})

    def invoke(self, payload: dict[str, Any]) -> Any:
        context = LocalContext(function_name="leadhub-extract", timeout_seconds=self._timeout, stopping=self._stopping)
        return self._handler(payload, context)

    def stop(self) -> None:
        self._stopping.set()


class LocalScheduler:
    def __init__(self, invoker: LocalInvoker, inputs: list[dict[str, Any]], every_seconds: float) -> None:
        self._invoker = invoker
        self._inputs = inputs
        self._every = every_seconds
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="local-scheduler", daemon=True)

    def start(self) -> None:
        if self._every > 0:
            self._thread.start()

    def _loop(self) -> None:
        while not self._stopped.wait(self._every):
            tick = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
            for payload in self._inputs:
                filled = {k: tick if v == "<aws.scheduler.scheduled-time>" else v for k, v in payload.items()}
                self._invoker(filled)

    def stop(self) -> None:
        self._stopped.set()
