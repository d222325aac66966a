"""The local stack, started once per test session exactly as `make run` starts it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 90


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    ready = tmp_path_factory.mktemp("stack") / "ready.json"
    log = ready.with_name("stack.log")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.endswith("_BASE_URL") and key not in ("AWS_ENDPOINT_URL",)
    }
    env.update({"LEADHUB_PORT": str(free_port()), "LEADHUB_READY_FILE": str(ready), "PYTHONUNBUFFERED": "1"})
    # Each test starts its work through the API. The local schedule would fan out an extraction of every
    # connector the session has created so far (dozens by the end) onto the stack's four workers, and a
    # test's own job would queue behind them for minutes; tests/unit/test_local_scheduler.py covers it.
    env["LEADHUB_SCHEDULE_SECONDS"] = "0"
    # Calltouch's 5 a second, kept over 1.25 s (as the integration tier does): a loaded 2-core box can
    # delay a request after its slot long enough for six to land in one second
    env["CALLTOUCH_RATE_PERIOD_SECONDS"] = "1.25"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "devstack"], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + STARTUP_SECONDS
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the local stack did not start:\n{log.read_text()}")
        time.sleep(0.2)
    urls: dict[str, str] = json.loads(ready.read_text())
    urls["log"] = str(log)
    yield urls
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("the local stack did not stop on Ctrl-C")
    assert process.returncode == 0, log.read_text()
