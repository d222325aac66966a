"""1 M simulated Ringostat calls through Leadhub's pipeline — parse → normalise → attribute →
write day partitions — against the same rows loaded by dlt, in the same run.

The vendor page is real: the Ringostat simulator renders it and it is fetched over HTTP once;
both pipelines then consume the same bytes, `days` times (a day each). Timings are reported as a
ratio to dlt measured in this run, since the machines are noisy.
"""

from __future__ import annotations

import gc
import json
import shutil
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
import requests

from leadhub.attribution import ringostat as attribution
from leadhub.attribution.rules import AttributionRules
from leadhub.connectors.ringostat import RingostatSettings
from leadhub.models.conversion import conversion_json
from leadhub.models.settings import StaticChannel
from leadhub.store.partitions import CONVERSIONS, Partition, encode_lines
from simulators.ringostat import RingostatScenario, RingostatSimulator

FIELDS = (
    "calldate,caller,dst,pool_name,disposition,duration,billsec,call_counter,repeated_flag,proper_flag,"
    "utm_source,utm_medium,utm_campaign,utm_content,utm_term,uniqueid,client_id"
)


@dataclass
class Measurement:
    name: str
    rows: int
    seconds: float
    peak_mib: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds


def vendor_page(calls_per_day: int) -> bytes:
    """One day of calls exactly as the Ringostat simulator answers `calls/list`."""
    scenario = RingostatScenario(days=1, calls_per_day=calls_per_day, start_date=date(2026, 11, 2))
    with RingostatSimulator(scenario, seed=7) as simulator:
        simulator.knobs.row_cap = calls_per_day + 1
        answer = requests.get(
            f"{simulator.base_url}/calls/list",
            params={"from": "2026-11-02 00:00:00", "to": "2026-11-03 00:00:00", "fields": FIELDS},
            headers={"Auth-key": simulator.auth_key},
            timeout=600,
        )
        answer.raise_for_status()
        return answer.content


def rules() -> AttributionRules:
    settings = RingostatSettings(
        static_channels=[
            StaticChannel(
                parameter="pool", value="OLX static", source="OLX", traffic_type="classified", campaign="OLX"
            ),
            StaticChannel(
                parameter="pool", value="Billboard Kyiv", source="Billboard", traffic_type="offline", campaign="Kyiv"
            ),
        ]
    )
    return AttributionRules.from_settings(settings, project_timezone="Europe/Kyiv")


def leadhub_pipeline(page: bytes, days: int, out: Path) -> int:
    attribution_rules = rules()
    total = 0
    for index in range(days):
        partition = Partition(CONVERSIONS, "bench", "c1", "calls", date(2026, 1, 1) + timedelta(days=index))
        total += _one_day(page, attribution_rules, out / partition.key)
    return total


def _one_day(page: bytes, attribution_rules: AttributionRules, target: Path) -> int:
    """One day, in a scope of its own: its rows are freed before the next day is parsed."""
    rows = orjson.loads(page)  # what the transport does with a vendor page
    conversions = attribution.normalise_calls(rows, attribution_rules, "11111")
    data, count = encode_lines(conversion_json(conversion) for conversion in conversions)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return count


def dlt_pipeline(page: bytes, days: int, out: Path) -> int:
    import dlt

    def calls() -> Iterator[dict[str, Any]]:
        for _ in range(days):
            yield from json.loads(page)

    pipeline = dlt.pipeline(
        pipeline_name="bench_ringostat",
        destination=dlt.destinations.filesystem(bucket_url=str(out)),
        dataset_name="calls",
        pipelines_dir=str(out / ".dlt"),
    )
    info = pipeline.run(calls(), table_name="calls", loader_file_format="jsonl")
    info.raise_on_failed_jobs()
    return days * len(json.loads(page))


def timed(name: str, run: Callable[[Path], int]) -> Measurement:
    out = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    gc.collect()
    started = time.perf_counter()
    try:
        rows = run(out)
        return Measurement(name, rows, time.perf_counter() - started, 0.0)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def peak_mib(run: Callable[[Path], int]) -> float:
    """Peak Python heap while `run` runs (tracemalloc slows it down, so it is timed separately)."""
    out = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    gc.collect()
    tracemalloc.start()
    try:
        run(out)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
        shutil.rmtree(out, ignore_errors=True)
