"""The local stand-ins for EventBridge Scheduler and asynchronous invocation (devstack.scheduler): the
template's schedules fire with their Input, the scheduled time filled in, on Lambda-like workers."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

from devstack.scheduler import LocalInvoker, LocalScheduler, scheduled_inputs


class Recorder:
    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []

    def __call__(self, payload: dict[str, Any], *_: Any) -> None:
        self.payloads.append(payload)


def test_the_template_schedules_every_extracted_vendor() -> None:
    vendors = sorted(payload["vendor"] for payload in scheduled_inputs())
    assert vendors == ["calltouch", "ringostat", "roistat"]
    assert all(payload["scheduled_time"] == "<aws.scheduler.scheduled-time>" for payload in scheduled_inputs())


def test_a_tick_sends_every_input_with_its_scheduled_time() -> None:
    recorder = Recorder()
    scheduler = LocalScheduler(recorder, scheduled_inputs(), every_seconds=0.05)
    scheduler.start()
    try:
        deadline = time.monotonic() + 10
        while len(recorder.payloads) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        scheduler.stop()
    first_tick = recorder.payloads[:3]
    assert sorted(payload["vendor"] for payload in first_tick) == ["calltouch", "ringostat", "roistat"]
    for payload in first_tick:
        fired = datetime.fromisoformat(payload["scheduled_time"].replace("Z", "+00:00"))
        assert abs((datetime.now(UTC) - fired).total_seconds()) < 60


def test_an_interval_of_zero_turns_the_schedule_off() -> None:
    recorder = Recorder()
    scheduler = LocalScheduler(recorder, scheduled_inputs(), every_seconds=0)
    scheduler.start()
    time.sleep(0.2)
    scheduler.stop()
    assert recorder.payloads == []


def test_an_invocation_runs_the_handler_on_a_worker_with_lambda_time() -> None:
    seen: list[int] = []
    done = threading.Event()

    def handler(payload: dict[str, Any], context: Any) -> None:
        seen.append(context.get_remaining_time_in_millis())
        done.set()

    invoker = LocalInvoker(handler, timeout_seconds=900)
    try:
        invoker({"vendor": "roistat"})
        assert done.wait(10)
    finally:
        invoker.stop()
    assert 0 < seen[0] <= 900_000
