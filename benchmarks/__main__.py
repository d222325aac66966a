"""`make bench`: run the benchmarks and write their figures to BENCHMARKS.md."""

from __future__ import annotations

import os
import platform
import sys
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from benchmarks.pipeline import dlt_pipeline, leadhub_pipeline, peak_mib, timed, vendor_page

ROOT = Path(__file__).resolve().parent.parent
CALLS_PER_DAY = int(os.environ.get("BENCH_CALLS_PER_DAY", "50000"))
DAYS = int(os.environ.get("BENCH_DAYS", "20"))


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def main() -> int:
    page = vendor_page(CALLS_PER_DAY)
    rows = CALLS_PER_DAY * DAYS
    print(f"{rows:,} calls: {DAYS} days × {CALLS_PER_DAY:,} calls, page of {len(page) / 2**20:.1f} MiB", flush=True)
    ours = timed("leadhub", partial(leadhub_pipeline, page, DAYS))
    print(f"leadhub: {ours.rows_per_second:,.0f} rows/s", flush=True)
    theirs = timed("dlt", partial(dlt_pipeline, page, DAYS))
    print(f"dlt:     {theirs.rows_per_second:,.0f} rows/s", flush=True)
    ratio = ours.rows_per_second / theirs.rows_per_second
    small_days = max(1, DAYS // 10)
    memory_small = peak_mib(partial(leadhub_pipeline, page, small_days))
    memory_large = peak_mib(partial(leadhub_pipeline, page, DAYS))
    print(f"ratio {ratio:.1f}×; peak heap {memory_small:.0f} MiB ({small_days} d) vs {memory_large:.0f} MiB ({DAYS} d)")
    report = f"""# Benchmarks

Written by `make bench` ({" ".join(sys.argv)}). Timings are ratios against a baseline measured in the
same run: these machines are noisy, so compare ratios, not seconds.

- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC
- Machine: {machine()}

## Ringostat calls: parse → normalise → attribute → write day partitions, vs dlt

{rows:,} calls ({DAYS} days × {CALLS_PER_DAY:,}; one real `calls/list` page from the simulator,
{len(page) / 2**20:.1f} MiB of JSON, consumed once per day by both pipelines). Leadhub: `orjson.loads`
(as the transport parses a vendor page), the attribution rules (static pools, UTM marks, Undefined
campaign, unique flag, local date), gzip JSON Lines day partitions written to local disk.
dlt {dlt_version()}: the same parsed rows, `filesystem` destination, `jsonl` files (dlt normalises
and writes; it does no attribution).

| pipeline | rows | seconds | rows/s |
|---|---:|---:|---:|
| Leadhub | {ours.rows:,} | {ours.seconds:.1f} | {ours.rows_per_second:,.0f} |
| dlt | {theirs.rows:,} | {theirs.seconds:.1f} | {theirs.rows_per_second:,.0f} |

**Ratio: Leadhub is {ratio:.1f}× dlt** (goal: ≥ 5×).

Peak Python heap (tracemalloc, a separate run): {memory_small:.0f} MiB for {small_days * CALLS_PER_DAY:,} rows,
{memory_large:.0f} MiB for {rows:,} rows — memory follows the size of one day, not the row count.
"""
    (ROOT / "BENCHMARKS.md").write_text(report, encoding="utf-8")
    return 0


def dlt_version() -> str:
    import dlt

    return str(getattr(dlt, "__version__", "?"))


if __name__ == "__main__":
    raise SystemExit(main())
