"""`make bench`: run the benchmarks and write their figures to BENCHMARKS.md.

Each section is one entry of `SECTIONS`: a name (what `BENCH_SECTIONS` selects) and a function
answering the section's Markdown, `## ` heading first, given a function that stamps the date and the
machine. A section not measured in a run keeps its last figures. To add one: write
`benchmarks/<name>.py` with a `main_section(stamp)` and register it below, one line.
"""

from __future__ import annotations

import importlib
import os
import platform
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "BENCHMARKS.md"

Stamp = Callable[[], str]
Section = Callable[[Stamp], str]


def _module_section(module: str) -> Section:
    """`benchmarks.<module>.main_section`, imported only when its section runs."""

    def run(stamp: Stamp) -> str:
        section: Section = importlib.import_module(f"benchmarks.{module}").main_section
        return section(stamp)

    return run


#: name → the section's measurement, each a module's `main_section(stamp)`.
SECTIONS: dict[str, Section] = {
    "pipeline": _module_section("pipeline"),
    "limits": _module_section("limits"),
    "reattribution": _module_section("reattribution"),
    "reports": _module_section("reports"),
    "coldstart": _module_section("coldstart"),
    "roistat_crm": _module_section("roistat_crm"),
    "plan_import": _module_section("plan_import"),
}

HEADER = """# Benchmarks

Written by `make bench` (`BENCH_SECTIONS` picks sections, comma-separated; all by default). Timings are
ratios against baselines measured in the same run: these machines are noisy, so compare ratios, not seconds.
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


def chosen() -> list[str]:
    wanted = os.environ.get("BENCH_SECTIONS", "").strip()
    names = [name.strip() for name in wanted.split(",") if name.strip()] if wanted else list(SECTIONS)
    unknown = [name for name in names if name not in SECTIONS]
    if unknown:
        raise SystemExit(f"unknown BENCH_SECTIONS {unknown}; known: {', '.join(SECTIONS)}")
    return names


def main() -> int:
    names = chosen()
    kept = sections(REPORT.read_text(encoding="utf-8")) if REPORT.exists() else {}
    for name in names:
        measured = sections("\n" + SECTIONS[name](stamp))
        kept.update(measured)
        # written after every section: a long run interrupted keeps what it measured
        REPORT.write_text(f"{HEADER}\n" + "\n".join(kept.values()), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
