"""Cold start: how long each handler module takes to import, in a fresh process, from the layer as
`sam build` builds it (layers/common/Makefile), with its bytecode and without; and the layer's size.

Every function of template.yaml is measured (its CodeUri and Handler), none from a hand list.
Lambda-like: the layer on the path before the function's directory, the AWS SDK from the interpreter's
own site-packages (as the runtime's), the function's environment from the template (Globals and its
own variables) plus what the runtime sets: AWS_LAMBDA_FUNCTION_NAME (Powertools' Tracer is on),
LAMBDA_TASK_ROOT (the X-Ray SDK then samples locally, as in Lambda, instead of building a botocore
X-Ray client for centralised sampling at import) and the X-Ray daemon's address. "Without bytecode" is the layer
with every `__pycache__` removed and PYTHONDONTWRITEBYTECODE set: what a read-only /opt without .pyc
costs on every cold start. The import is timed inside the child (interpreter start-up excluded), the
median of several fresh processes.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LAYER_SOURCE = ROOT / "layers" / "common"
FUNCTIONS = ROOT / "functions"
BUDGET_MS = 300
RUNS = int(os.environ.get("BENCH_COLDSTART_RUNS", "5"))
#: The code measured as "before", in the same run: the commit this work started from.
BASE = os.environ.get("BENCH_COLDSTART_BASE", "a11d619")
_IMPORT = (
    "import time, importlib; started, cpu = time.perf_counter(), time.process_time(); importlib.import_module({!r}); "
    "print((time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000)"
)


#: What every handler imports before any Leadhub code, as Leadhub sets it up (observability.py, store/):
#: the floor of a handler's cold start on this machine, measured like a handler.
LIBRARIES_ONLY = '''"""The libraries every handler needs, and nothing of Leadhub."""
from aws_lambda_powertools import Logger, Metrics, Tracer
from boto3.dynamodb.conditions import Attr, Key
from pydantic import BaseModel

logger = Logger(service="leadhub")
tracer = Tracer(service="leadhub", patch_modules=("botocore",))
metrics = Metrics(namespace="Leadhub", service="leadhub")
'''


@dataclass(frozen=True)
class Function:
    logical_id: str
    #: The directory under functions/ (the template's CodeUri)
    name: str
    module: str
    #: The function's own variables, beside the template's Globals
    variables: dict[str, Any]


def template_functions() -> list[Function]:
    """Every AWS::Serverless::Function of template.yaml, so a new function is measured without a word here."""
    from devstack import template

    found = []
    for logical_id, resource in template.load(template.TEMPLATE).get("Resources", {}).items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        found.append(
            Function(
                logical_id,
                Path(properties["CodeUri"]).name,
                properties["Handler"].rsplit(".", 1)[0],
                dict(properties.get("Environment", {}).get("Variables", {})),
            )
        )
    return sorted(found, key=lambda function: function.name)


def build_layer(into: Path, platform_tag: str) -> Path:
    """`make build-CommonLayer` as `sam build` runs it; answers the layer's python/ directory."""
    subprocess.run(
        [
            "make",
            "-s",
            "build-CommonLayer",
            f"ARTIFACTS_DIR={into}",
            f"PYTHON={sys.executable}",
            f"PLATFORM={platform_tag}",
        ],
        cwd=LAYER_SOURCE,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return into / "python"


def without_bytecode(layer: Path, into: Path) -> Path:
    copy = into / "python"
    shutil.copytree(layer, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def lambda_environment(layer: Path, function: Function, *, bytecode: bool, functions: Path) -> dict[str, str]:
    from devstack import template

    found = template.resources(template.load(template.TEMPLATE))
    found.environment.update(function.variables)
    environment = {name: str(value) for name, value in template.local_environment(found, "bench").items()}
    task_root = functions / function.name
    environment.update(
        PATH=os.environ.get("PATH", ""),
        PYTHONPATH=f"{layer}{os.pathsep}{task_root}",
        AWS_LAMBDA_FUNCTION_NAME=f"leadhub-{function.name}",
        AWS_EXECUTION_ENV="AWS_Lambda_python3.13",
        LAMBDA_TASK_ROOT=str(task_root),
        _HANDLER=f"{function.module}.lambda_handler",
        # Set by the runtime when the function's Tracing is Active (template Globals).
        AWS_XRAY_DAEMON_ADDRESS="169.254.79.129:2000",
        AWS_XRAY_CONTEXT_MISSING="LOG_ERROR",
        AWS_REGION="eu-central-1",
        AWS_DEFAULT_REGION="eu-central-1",
        POWERTOOLS_SERVICE_NAME="leadhub",
        POWERTOOLS_METRICS_NAMESPACE="Leadhub",
        POWERTOOLS_LOG_LEVEL="INFO",
    )
    if not bytecode:
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
    return environment


def import_once(layer: Path, function: Function, *, bytecode: bool, functions: Path = FUNCTIONS) -> tuple[float, float]:
    """One import of the handler module in a fresh process: (wall, CPU) milliseconds."""
    answer = subprocess.run(
        [sys.executable, "-c", _IMPORT.format(function.module)],
        env=lambda_environment(layer, function, bytecode=bytecode, functions=functions),
        cwd=functions / function.name,
        capture_output=True,
        text=True,
        check=True,
    )
    wall, used = answer.stdout.strip().splitlines()[-1].split()
    return float(wall), float(used)


Tree = tuple[Path, bool, Path]


def import_ms(trees: dict[str, Tree], functions: list[Function]) -> dict[tuple[str, str], tuple[float, float, float]]:
    """The median import time of every handler from every tree over RUNS fresh processes: (wall, CPU,
    least CPU) per (tree, function); a function a tree lacks is left out. The runs are interleaved (one
    of each per round, after one unmeasured import of each to warm the page cache), so the machine's
    drift over the section falls on every figure alike instead of on whichever handler ran first."""
    present = [
        (tree, function)
        for tree, (_, _, root) in trees.items()
        for function in functions
        if (root / function.name / f"{function.module}.py").exists()
    ]
    samples: dict[tuple[str, str], list[tuple[float, float]]] = {(tree, f.name): [] for tree, f in present}
    for round_ in range(RUNS + 1):
        for tree, function in present:
            layer, bytecode, root = trees[tree]
            measured = import_once(layer, function, bytecode=bytecode, functions=root)
            if round_:
                samples[(tree, function.name)].append(measured)
    return {
        key: (
            statistics.median(wall for wall, _ in runs),
            statistics.median(cpu for _, cpu in runs),
            min(cpu for _, cpu in runs),
        )
        for key, runs in samples.items()
    }


def base_tree(layer: Path, into: Path) -> tuple[Path, Path]:
    """The same libraries with BASE's leadhub and handlers, compiled the same way: (layer, functions)."""
    subprocess.run(
        f"git archive {BASE} layers/common/leadhub functions | tar -x -C {into}",
        shell=True,
        cwd=ROOT,
        check=True,
    )
    old = into / "python"
    shutil.copytree(layer, old, ignore=shutil.ignore_patterns("leadhub"))
    shutil.copytree(into / "layers" / "common" / "leadhub", old / "leadhub")
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", str(old / "leadhub")],
        check=True,
    )
    return old, into / "functions"


def size_mib(path: Path) -> float:
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file()) / 2**20


def zipped_mib(path: Path, into: Path) -> float:
    return Path(shutil.make_archive(str(into / "layer"), "zip", path.parent, path.name)).stat().st_size / 2**20


@dataclass
class Measured:
    handler: str
    #: (wall, CPU, least CPU) milliseconds
    with_bytecode: tuple[float, float, float]
    without: tuple[float, float, float]
    before: tuple[float, float, float] | None


def _cpu(measured: tuple[float, float, float] | None) -> str:
    return "–" if measured is None else f"{measured[1]:.0f}"


def main_section(stamp: Callable[[], str]) -> str:
    host = "manylinux2014_aarch64" if platform.machine() in ("aarch64", "arm64") else "manylinux2014_x86_64"
    with tempfile.TemporaryDirectory(prefix="bench-coldstart-") as scratch:
        work = Path(scratch)
        shipped = build_layer(work / "arm64", "manylinux2014_aarch64")
        unzipped, zipped = size_mib(shipped), zipped_mib(shipped, work)
        local = shipped if host.endswith("aarch64") else build_layer(work / "host", host)
        sourceless = without_bytecode(local, work / "nobytecode")
        (work / "base").mkdir()
        old_layer, old_functions = base_tree(local, work / "base")
        functions = template_functions()
        libraries = Function("Libraries", "libraries", "libraries_only", {})
        (work / "floor" / libraries.name).mkdir(parents=True)
        (work / "floor" / libraries.name / f"{libraries.module}.py").write_text(LIBRARIES_ONLY)
        figures = import_ms(
            {
                "new": (local, True, FUNCTIONS),
                "sourceless": (sourceless, False, FUNCTIONS),
                "before": (old_layer, True, old_functions),
                "libraries": (local, True, work / "floor"),
            },
            [*functions, libraries],
        )
        floor = figures[("libraries", libraries.name)]
        print(f"coldstart: the libraries alone {floor} ms", flush=True)
        measured = []
        for function in functions:
            row = Measured(
                function.name,
                figures[("new", function.name)],
                figures[("sourceless", function.name)],
                figures.get(("before", function.name)),
            )
            print(f"coldstart: {row.handler} {row.with_bytecode} ms, without bytecode {row.without} ms", flush=True)
            measured.append(row)
    table = "\n".join(
        f"| `functions/{row.handler}` | {row.with_bytecode[0]:.0f} | {row.with_bytecode[1]:.0f} | "
        f"{row.with_bytecode[2]:.0f} | "
        f"{row.without[0]:.0f} | {row.without[1]:.0f} | {_cpu(row.before)} | "
        f"{'yes' if row.with_bytecode[1] <= BUDGET_MS else '**no**'} |"
        for row in measured
    )
    slowest = max(row.with_bytecode[1] for row in measured)
    own = max(row.with_bytecode[1] - floor[1] for row in measured)
    floor_row = (
        f"| the libraries alone | {floor[0]:.0f} | {floor[1]:.0f} | {floor[2]:.0f} | – | – | – | "
        f"{'yes' if floor[1] <= BUDGET_MS else '**no**'} |"
    )
    return f"""## Cold start: handler imports and the layer

{stamp()}
Each handler module of every function in template.yaml imported in a fresh process (median of {RUNS},
interleaved: one import of every handler and tree per round, after an unmeasured warm-up round) from
the layer `sam build` makes (`layers/common/Makefile`: `BuildMethod: makefile`, bytecode compiled at
build with `unchecked-hash`), built here for this machine's platform. The environment is the function's
own from the template (Globals and its variables) plus what the Lambda runtime sets:
`AWS_LAMBDA_FUNCTION_NAME` (Powertools' Tracer is on: X-Ray SDK loaded, botocore patched),
`LAMBDA_TASK_ROOT` (the X-Ray SDK samples locally, as in Lambda; without it the SDK builds a botocore
X-Ray client for centralised sampling at import, ~100 ms Lambda never pays, which earlier runs of this
section counted) and the X-Ray daemon's address. The AWS SDK comes from the interpreter's site-packages,
as from the runtime. "Without bytecode": the same layer with no `.pyc` and `PYTHONDONTWRITEBYTECODE`
(what SAM's python3.13 builder would ship: every cold start compiles).

| handler | wall, ms | CPU, ms | least CPU | no .pyc: wall | no .pyc: CPU | before: CPU | CPU ≤ {BUDGET_MS} ms |
|---|---:|---:|---:|---:|---:|---:|:---:|
{table}
{floor_row}

"The libraries alone": a module importing what every handler needs before any Leadhub code, set up as
Leadhub sets it up (Powertools' Logger, Metrics and Tracer patching botocore; boto3 with its DynamoDB
conditions; pydantic's BaseModel), measured like a handler in the same rounds: the floor of a cold start
on this machine. **It takes {floor[1]:.0f} ms of CPU here; Leadhub's own code adds at most {own:.0f} ms to it.**

CPU time is the figure to judge on a shared machine: wall time adds whatever the other processes took
(on an idle core the two agree). The median is the judged figure; "least CPU" is the quietest of the
runs: contention on a shared machine (caches, clock) adds CPU time too, never removes it.
**Slowest handler import: {slowest:.0f} ms of CPU** (goal ≤ {BUDGET_MS} ms).
"Before" is the code issue 14 started from ({BASE}), with the same libraries, bytecode and environment, same
run ("–": the function did not exist then).
What an import no longer pays: building pydantic models (every Leadhub model is a `DeferredModel`, built on
first use: a few ms for the handful one invocation touches), the X-Ray patches of libraries Leadhub does
not call (http.client, sqlite3), requests (loaded and traced with the first vendor client: the API's
routes that call no vendor never load it; the jobs function pays its ~30 ms at its first vendor call
instead of at init), Powertools' OpenAPI models (with `/openapi.json` or `/swagger`), openpyxl (with a
workbook). What remains is libraries every invocation needs: Powertools (Logger, Metrics, Tracer and, in
the API, its resolver with the event data classes), the X-Ray SDK with botocore's client patched, boto3
(every invocation but `/health` reads DynamoDB, so importing it lazily would only move its cost into the
first request) and pydantic's class creation; the API also declares every route's typed bodies, all four
vendors' settings among them.

**Layer (arm64, as shipped): {unzipped:.1f} MiB unzipped, {zipped:.1f} MiB zipped** (goal ≤ 50 MB; before:
66 MB). It bundles leadhub and its pinned libraries (Powertools + X-Ray SDK, pydantic, requests, openpyxl,
orjson, tzdata, defusedxml) with their bytecode; not the AWS SDK (boto3, botocore, s3transfer, dateutil,
six), which the python3.13 runtime provides and AWS patches.
"""
