"""Calltouch plan import: 10 000 rows against the simulator enforcing 5 requests a second per IP.

The production path runs in this process, as in a Lambda: the service checks and stores the rows
(DynamoDB and S3, provisioned from template.yaml), the sending job reserves every request's slot in
the shared slot table and sends the 100 chunks, then polls each import log until Calltouch says
`success`, and writes the result XLSX. The embedded AWS (moto) and the Calltouch simulator run in a
second process, as AWS and Calltouch are elsewhere: the simulator's clock of arrivals does not wait
for this process's threads. The floor is 100 `plans-import/add` requests at exactly 5 a
second: 20 s. Reported: how close the sending gets to it, and how many requests Calltouch refused.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from devstack.aws import EmbeddedAws, provision_from_template, use_endpoint
from leadhub.clock import utc_now
from leadhub.models.connector import Connector
from leadhub.models.settings import Vendor
from leadhub.plans.job import default_client, run_plan_import
from leadhub.plans.model import ChunkState, ImportState, PlanImport
from leadhub.plans.service import PlanImports
from leadhub.settings import get_settings
from leadhub.store.connectors import ConnectorStore
from leadhub.store.secrets import SecretStore
from leadhub.vendors.calltouch import CalltouchClient
from simulators.calltouch import DEMO_SITE_ID, DEMO_TOKEN, CalltouchKnobs, CalltouchSimulator

ITEMS = int(os.environ.get("BENCH_PLAN_ITEMS", "10000"))
REQUESTS_PER_SECOND = 5
ACCOUNT = "bench-account"


@dataclass
class Outcome:
    items: int
    chunks: int
    confirmed: int
    send_seconds: float
    total_seconds: float
    requests: int
    peak_per_second: int
    rate_limited: int

    @property
    def floor_seconds(self) -> float:
        return self.chunks / REQUESTS_PER_SECOND

    @property
    def share(self) -> float:
        """The floor as a share of the sending time (1.0: as fast as Calltouch allows)."""
        return self.floor_seconds / self.send_seconds


def rows(count: int) -> list[dict[str, Any]]:
    return [
        {
            "dateFrom": "01-01-2027",
            "dateTo": "31-01-2027",
            "source": "yandex",
            "campaign": f"campaign-{number}",
            "metric": {"type": "Площадки", "name": "Бюджет", "value": number},
        }
        for number in range(count)
    ]


def serve() -> None:
    """The other process: the embedded AWS and the simulator, until stdin closes."""
    aws = EmbeddedAws()
    endpoint = aws.start()
    sim = CalltouchSimulator(knobs=CalltouchKnobs(daily_points=None, import_progress_polls=1))
    print(json.dumps({"aws": endpoint, "calltouch": sim.start()}), flush=True)
    sys.stdin.read()
    sim.stop()
    aws.stop()


def measure(count: int = ITEMS) -> Outcome:
    server = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.plan_import", "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None and server.stdin is not None
    urls = json.loads(server.stdout.readline())
    try:
        use_endpoint(urls["aws"])
        os.environ["CALLTOUCH_BASE_URL"] = urls["calltouch"]
        provision_from_template()
        get_settings.cache_clear()
        now = utc_now()
        connector = Connector(
            id="bench-calltouch",
            account_id=ACCOUNT,
            project_id="bench-project",
            vendor=Vendor.CALLTOUCH,
            name="Calltouch",
            vendor_account_id=DEMO_SITE_ID,
            created_at=now,
            updated_at=now,
        )
        ConnectorStore().create_connector(connector)
        SecretStore().put(connector.id, {"access_token": DEMO_TOKEN, "site_id": DEMO_SITE_ID})
        view = PlanImports().submit_items(ACCOUNT, connector.id, rows(count), send_valid_only=False)
        accepted: list[float] = []

        def timed_client(record: PlanImport) -> CalltouchClient:
            client = default_client(record)
            send = client.add_plan_chunk

            def add_plan_chunk(chunk: Any) -> int:
                import_id = send(chunk)
                accepted.append(time.monotonic())
                return import_id

            client.add_plan_chunk = add_plan_chunk  # type: ignore[method-assign]
            return client

        started = time.monotonic()
        record = run_plan_import(view.id, remaining_ms=lambda: 10**9, client_factory=timed_client)
        finished = time.monotonic()
        assert record.state is ImportState.DONE, record.last_error
        rates = requests.get(f"{urls['calltouch']}/__sim__/rates", timeout=10).json()
        local = rates["ips"]["local"]
        return Outcome(
            items=count,
            chunks=len(record.chunks),
            confirmed=len(record.chunks_in(ChunkState.CONFIRMED)),
            send_seconds=accepted[-1] - started,
            total_seconds=finished - started,
            requests=local["requests"],
            peak_per_second=local["peak_per_window"],
            rate_limited=rates["rate_limited"],
        )
    finally:
        server.stdin.close()
        server.wait(timeout=30)
        os.environ.pop("CALLTOUCH_BASE_URL", None)


def main_section(stamp: Callable[[], str]) -> str:
    load = os.getloadavg()[0]
    outcome = measure()
    print(
        f"plan import: {outcome.chunks} chunks sent in {outcome.send_seconds:.1f} s "
        f"({outcome.share:.0%} of the floor), {outcome.rate_limited} refused",
        flush=True,
    )
    period = get_settings().calltouch_rate_period_seconds
    return f"""## Calltouch plan import: 10 000 rows within 5 requests a second

{stamp()}
{outcome.items:,} plan rows submitted through `PlanImports` (checks, content hash, rows to S3), then the
plan-import job in this process: {outcome.chunks} chunks of ≤ 100 to the Calltouch simulator's
`plans-import/add`, every request first reserving a slot in the shared DynamoDB slot table (moto),
then each import log polled until `success` and the result XLSX written. The simulator (in a process
of its own, with the embedded AWS) refuses anything over 5 requests in any sliding second per IP and
counts every arrival.

| measure | value |
|---|---:|
| chunks sent / confirmed | {outcome.chunks} / {outcome.confirmed} |
| floor for the chunks (5 a second) | {outcome.floor_seconds:.1f} s |
| sending: first request to last chunk accepted | {outcome.send_seconds:.1f} s |
| whole import (with every status poll and the result file) | {outcome.total_seconds:.1f} s |
| requests Calltouch received (adds + status polls) | {outcome.requests} |
| most requests in any sliding second | {outcome.peak_per_second} |
| requests refused for the rate (429) | {outcome.rate_limited} |

**Sending runs at {outcome.share:.0%} of the theoretical minimum** (goal ≥ 90 %), with
{outcome.rate_limited} rate-limit errors (goal 0), at a load average of {load:.1f} on these shared cores
when it started. The figures follow the machine's load: a starved sender wakes late, and a late
request moves every later slot by its lateness (so that it does not arrive bunched with the next
ones) — on the same machine at a load average of 8–10 the same run measured 80 % and, once, a 429.
The slots are {period} s / 5 apart
(`CALLTOUCH_RATE_PERIOD_SECONDS`): Calltouch counts arrivals, and a request sent on its slot can arrive
late and bunch with the next, so the second is kept a little longer than a second — that margin is the
ceiling of the share ({1 / period:.0%}). The status polls take slots too: every import log needs at
least one, so the whole import takes about twice the floor, whatever the client does.
"""


if __name__ == "__main__":
    if "--serve" in sys.argv:
        serve()
        sys.exit(0)
    result = measure()
    print(result, f"share {result.share:.1%}")
