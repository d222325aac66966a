"""`make run` on a busy LEADHUB_PORT: a plain message naming the port and how to pick another."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def run_stack(port: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_BASE_URL") and k != "AWS_ENDPOINT_URL"}
    env.update({"LEADHUB_PORT": port, "LEADHUB_SCHEDULE_SECONDS": "0"})
    return subprocess.run(
        [sys.executable, "-m", "devstack"],
        check=False,  # the exit status is what is tested
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_busy_port_is_named_with_the_way_out() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_stack(str(port))
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"port {port} on 127.0.0.1 is busy" in done.stderr
    assert "LEADHUB_PORT=" in done.stderr and "make run" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_a_port_that_is_no_number_is_refused_plainly() -> None:
    done = run_stack("eighty")
    assert done.returncode == 1
    assert "LEADHUB_PORT='eighty' is not a port number" in done.stderr
    assert "Traceback" not in done.stderr
