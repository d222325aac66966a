"""schemathesis over the whole published OpenAPI document, against the local stack as `make run`
starts it: every check, once with one worker and once with several in parallel (the local gateway
must answer each request with its own answer). Deterministic generation and a bounded number of
examples per operation keep it repeatable and within a couple of minutes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = 15
#: Long enough for a credentials check that waits on a simulator; far above any healthy answer.
REQUEST_TIMEOUT = 30


@pytest.mark.timeout(900)
@pytest.mark.parametrize("workers", [1, 4])
def test_schemathesis_finds_nothing(stack: dict[str, str], workers: int, tmp_path: Path) -> None:
    command = [
        str(Path(sys.executable).with_name("st")),
        f"--config-file={CONFIG}",
        "run",
        f"{stack['api']}/openapi.json",
        "--checks=all",
        f"--workers={workers}",
        f"--max-examples={MAX_EXAMPLES}",
        "--generation-deterministic",
        f"--request-timeout={REQUEST_TIMEOUT}",
        "--header",
        f"Authorization: Bearer {stack['token']}",
        "--no-color",
        "--report=junit",
        f"--report-dir={tmp_path}",
    ]
    run = subprocess.run(command, capture_output=True, text=True, check=False, cwd=tmp_path)
    assert run.returncode == 0, f"schemathesis found failures:\n{run.stdout[-20000:]}\n{run.stderr[-2000:]}"
