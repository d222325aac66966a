"""Roistat's documented limits (roistat-ringostat.md A3), used and never exceeded, as the vendor sees it.

The Roistat simulator enforces exactly the documented limits (10 requests a second and 5 000 an hour
per project; order lists 20 a minute, with `extend:["visit"]` 10 / 5 / 1 a minute by page size) and
records when each request it admitted arrived. The client reads as a long backfill does — orders with
visits on the 1 000-row tier, orders without, call pages — as fast as its limiter lets it. Use of a
limit is the requests that arrived in the whole periods from the first one over the slots those
periods offered: 1.0 when every window was full. A 429 is a refusal the vendor counted.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from leadhub.vendors import ratelimit
from leadhub.vendors.roistat import ORDER_PAGE_SIZE, RoistatClient
from simulators.roistat import DEFAULT_API_KEY, RoistatKnobs, RoistatScenario, RoistatSimulator


@dataclass(frozen=True)
class LimitUse:
    name: str
    count: int
    period: float
    requests: int
    refused: int
    use: float


def slots_used(arrivals: list[float], count: int, period: float, ended: float) -> float:
    """Requests that arrived in the whole periods from the first one, over the slots those periods
    offered: 1.0 when every window was full."""
    if not arrivals:
        return 0.0
    first = min(arrivals)
    periods = int((ended - first) // period)
    if periods < 1:
        return 0.0
    return sum(first <= arrival < first + periods * period for arrival in arrivals) / (periods * count)


def measure(seconds: float) -> list[LimitUse]:
    ratelimit.forget_all()
    clock = time.monotonic  # the simulator's clock
    scenario = RoistatScenario(projects=1, days=60, orders_per_day=1500, calls_per_day=200, proxy_leads_per_day=0)
    # the documented limits, and nothing switched off: what a backfill meets
    with RoistatSimulator(scenario, knobs=RoistatKnobs()) as simulator:
        project = next(iter(scenario.project_ids()))
        end = datetime.combine(scenario.start + timedelta(days=scenario.days), datetime.min.time(), tzinfo=UTC)
        start = end - timedelta(days=scenario.days)

        def read_for(reader: Callable[[RoistatClient], Iterable[object]], seconds: float) -> Callable[[], None]:
            def run() -> None:
                client = RoistatClient(DEFAULT_API_KEY, base_url=simulator.api_url)
                deadline = threading.Event()
                timer = threading.Timer(seconds, deadline.set)
                timer.start()
                try:
                    for _ in reader(client):
                        if deadline.is_set():
                            return
                finally:
                    timer.cancel()

            return run

        with_visits = read_for(lambda client: client.iter_orders(project, start, end, extend_visit=True), seconds)
        without = read_for(lambda client: client.iter_orders(project, start, end), seconds)
        threads = [threading.Thread(target=with_visits), threading.Thread(target=without)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        orders_ended = clock()
        # the project's 10 a second: small call pages, read for a fifth of the time
        calls_started = clock()
        read_for(lambda client: client.iter_calls(project, start, end, page_size=20), max(10.0, seconds / 5))()
        calls_ended = clock()
        found = []
        for (kind, count, period), admitted in sorted(simulator.admitted.items()):
            per_second = kind == "project" and period == 1.0
            # the project's 10 a second binds while the call pages are read
            arrivals = [arrival for arrival in admitted if arrival >= calls_started] if per_second else admitted
            ended = calls_ended if per_second else orders_ended
            found.append(
                LimitUse(
                    name=kind,
                    count=count,
                    period=period,
                    requests=len(arrivals),
                    refused=simulator.refused[kind],
                    use=slots_used(arrivals, count, period, ended),
                )
            )
        return found


NAMES = {
    "project": "whole project",
    "orders": "order/list, no extend",
    "orders-extend": "order/list + visit, ≤ 100 rows",
    "orders-extend-100": f"order/list + visit, ≤ 1 000 rows ({ORDER_PAGE_SIZE}-row pages)",
    "orders-extend-1000": "order/list + visit, > 1 000 rows",
}


def main_section(stamp: Callable[[], str]) -> str:
    seconds = float(os.environ.get("BENCH_LIMIT_SECONDS", "150"))
    uses = measure(seconds)
    rows = "\n".join(
        f"| {NAMES.get(use.name, use.name)} | {use.count} / {use.period:g} s | {use.requests} | {use.refused} | "
        + (f"{use.use:.0%} |" if use.period < 3600 else "— |")
        for use in uses
    )
    for use in uses:
        print(f"{use.name}: {use.count}/{use.period:g}s {use.requests} requests, {use.refused} × 429, {use.use:.0%}")
    return f"""## Roistat limits: used, never exceeded

{stamp()}
A backfill's reads against the Roistat simulator enforcing the documented limits (A3: per project 10 a second
and 5 000 an hour; order lists 20 a minute, with the visit 10 / 5 / 1 a minute by page size), for {seconds:g} s:
orders with their visit on {ORDER_PAGE_SIZE}-row pages and orders without, side by side, then call pages of 20
rows. The client's limiter holds a slot from sending to the answer and counts it then (the vendor counts on
arrival, in between). Use: the requests that arrived in the whole periods from the first one, over the slots
those periods offered (the project's 10 a second while the call pages are read); 429s are refusals the
vendor counted. The hour's 5 000 is listed with its requests only.

| limit | documented | requests | 429 | use |
|---|---|---:|---:|---:|
{rows}

The 5 000-an-hour project limit cannot be shown full in a benchmark run of minutes (at 10 a second it is
reached in 8 minutes, then binds): the limiter keeps it the same way.
"""
