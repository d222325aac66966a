"""The backfill as the local stack runs it, driven step by step by a test: settings saved, the
connectors table's stream pumped into the backfill handler as its event-source mapping would
(template.yaml), the jobs it dispatches kept until the test runs them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from backfill.app import lambda_handler as backfill_handler

from devstack.streams import StreamPump
from leadhub.jobs.dispatch import use_local_runner
from leadhub.jobs.runner import run_job
from leadhub.setup.connectors import Connectors


def forever() -> int:
    return 10**9


@dataclass
class LocalBackfill:
    pump: StreamPump
    #: Jobs dispatched and not run yet: `drain` runs them, each with a fresh `budget()`.
    dispatched: list[dict[str, Any]] = field(default_factory=list)
    budget: Callable[[], Callable[[], int]] = lambda: forever

    def change(self, account_id: str, connector_id: str, **settings: Any) -> None:
        """Save settings and deliver the stream's records to the backfill."""
        Connectors().update_settings(account_id, connector_id, settings)
        self.pump.pump_once()

    def drain(self) -> None:
        while self.dispatched:
            payload = self.dispatched.pop(0)["job"]
            run_job(payload["connector_id"], payload["id"], remaining_ms=self.budget(), safety_ms=1000)


@contextmanager
def local_backfill() -> Iterator[LocalBackfill]:
    """The pump opened on the stream as it stands (on a provisioned embedded AWS)."""
    flow = LocalBackfill(StreamPump(backfill_handler, "BackfillFunction"))
    use_local_runner(flow.dispatched.append)
    try:
        yield flow
    finally:
        use_local_runner(None)
