"""`make bench`: run the benchmarks and write their figures to BENCHMARKS.md."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from benchmarks import coldstart, plan_import, reattribution, reports, roistat_crm
from benchmarks.pipeline import dlt_pipeline, leadhub_pipeline, peak_mib, timed, vendor_page

ROOT = Path(__file__).resolve().parent.parent
CALLS_PER_DAY = int(os.environ.get("BENCH_CALLS_PER_DAY", "50000"))
DAYS = int(os.environ.get("BENCH_DAYS", "20"))
#: The re-attribution benchmark: one year of a project with 5 000 calls a day.
REATTRIBUTE_CALLS_PER_DAY = int(os.environ.get("BENCH_REATTRIBUTE_CALLS_PER_DAY", "5000"))
REATTRIBUTE_DAYS = int(os.environ.get("BENCH_REATTRIBUTE_DAYS", "365"))
#: Which sections to measure (comma-separated); a section not measured keeps its last figures.
SECTIONS = os.environ.get("BENCH_SECTIONS", "pipeline,reattribution,roistat_crm,reports,coldstart").split(",")
REPORT = ROOT / "BENCHMARKS.md"
HEADER = """# Benchmarks

Written by `make bench` (`BENCH_SECTIONS=pipeline,reattribution,reports,coldstart` by default). Timings are
ratios against a baseline measured in the same run: these machines are noisy, so compare ratios, not seconds.
"""


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


def stamp() -> str:
    return f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n- Machine: {machine()}\n"


def sections(text: str) -> dict[str, str]:
    """The report's `## ` sections by heading."""
    found = {}
    for part in text.split("\n## ")[1:]:
        heading = part.split("\n", 1)[0]
        found[heading] = f"## {part.rstrip()}\n"
    return found


def main() -> int:
    kept = sections(REPORT.read_text(encoding="utf-8")) if REPORT.exists() else {}
    measured = {}
    if "pipeline" in SECTIONS:
        measured.update(sections("\n" + pipeline_section()))
    if "reattribution" in SECTIONS:
        measured.update(sections("\n" + reattribution_section()))
    if "roistat_crm" in SECTIONS:
        measured.update(sections("\n" + roistat_crm.section()))
    if "reports" in SECTIONS:
        measured.update(sections("\n" + reports.section(stamp())))
    if "coldstart" in SECTIONS:
        measured.update(sections("\n" + coldstart.section(stamp())))
    if "plan_import" in SECTIONS:
        measured.update(sections("\n" + plan_import.section(stamp())))
    body = "\n".join({**kept, **measured}.values())
    REPORT.write_text(f"{HEADER}\n{body}", encoding="utf-8")
    return 0


def pipeline_section() -> str:
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
    return f"""## Ringostat calls: parse → normalise → attribute → write day partitions, vs dlt

{stamp()}

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


def reattribution_section() -> str:
    page = vendor_page(REATTRIBUTE_CALLS_PER_DAY)
    archive = reattribution.stored_archive(page, REATTRIBUTE_DAYS)
    small = reattribution.stored_archive(page, max(1, REATTRIBUTE_DAYS // 12))
    try:
        rows, mib = archive.rows, archive.raw_bytes / 2**20
        print(f"re-attribution: {rows:,} stored rows, {mib:.0f} MiB of raw partitions", flush=True)
        ours = reattribution.timed(reattribution.reattribute_archive, archive)
        floor = reattribution.timed(reattribution.floor_archive, archive)
        print(f"re-attribution {rows / ours:,.0f} rows/s; floor {rows / floor:,.0f} rows/s", flush=True)
        memory = reattribution.peak_mib(reattribution.reattribute_archive, archive)
        memory_small = reattribution.peak_mib(reattribution.reattribute_archive, small)
    finally:
        reattribution.remove(archive)
        reattribution.remove(small)
    return f"""## Re-attributing a year of stored raw rows (backfill after a settings change)

{stamp()}
{REATTRIBUTE_DAYS} days × {REATTRIBUTE_CALLS_PER_DAY:,} Ringostat calls = {rows:,} rows stored as raw day
partitions ({mib:.0f} MiB of gzip JSON Lines; one real `calls/list` page from the simulator per day), the
bucket a local directory. Re-attribution is `leadhub.extract.reattribute.rebuild_day` over every day: read
and parse the raw partition, attribute (two static channels, UTM marks, Undefined), write the conversion
partition. The floor is the same bytes gunzipped, parsed, serialised and gzipped again, no attribution.

| pass | rows | seconds | rows/s |
|---|---:|---:|---:|
| re-attribution | {rows:,} | {ours:.1f} | {rows / ours:,.0f} |
| parse + gzip floor | {rows:,} | {floor:.1f} | {rows / floor:,.0f} |

**Re-attribution takes {ours / floor:.1f}× the floor.** Peak Python heap (tracemalloc, separate runs):
{memory:.0f} MiB for all {REATTRIBUTE_DAYS} days, {memory_small:.0f} MiB for {small.days} — one day in memory at a time.
In AWS each day adds an S3 read and write and a DynamoDB write (the day's settings version), and the
job continues itself before the Lambda's 15 minutes run out.
"""


def dlt_version() -> str:
    import dlt

    return str(getattr(dlt, "__version__", "?"))


if __name__ == "__main__":
    raise SystemExit(main())
