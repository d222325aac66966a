"""README's examples, run as written (through bash, with curl) against the local stack.

Every bash block of README.md that calls `$API` is run line by line; its `<placeholders>` are filled
from what the stack printed and from the previous answers, as a reader would fill them. A line
answers 2xx unless it says otherwise with a trailing `# answers NNN`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from simulators.roistat import DEFAULT_API_KEY as ROISTAT_KEY
from tests.e2e.backfill_api import Client, wait_idle

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BASH_BLOCK = re.compile(r"```bash\n(.*?)```", re.S)
PLACEHOLDER = re.compile(r"<([a-z][^<>]*)>")
EXPECTED = re.compile(r"#\s*answers (\d{3})")
ASSIGNED = re.compile(r"(?:^|;)\s*([A-Za-z_][A-Za-z0-9_]*)=")
#: the API address README writes; the test's stack listens elsewhere
README_API = "http://127.0.0.1:8080"
STATUS_MARK = "\nHTTP_STATUS="


def example_lines() -> list[str]:
    """README's example commands, continuation lines joined, comment-only lines dropped."""
    lines: list[str] = []
    for block in BASH_BLOCK.findall(README.read_text(encoding="utf-8")):
        if "$API" not in block:
            continue
        joined = re.sub(r"\\\n\s*", " ", block)
        lines += [line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return lines


def shell_env(variables: dict[str, str]) -> dict[str, str]:
    # a make started from `make test` would announce its directories on stdout, into `$(…)`
    inherited = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    return {**inherited, **variables}


def bash(script: str, variables: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", script],
        check=False,  # the test reads the status itself, with the output
        cwd=ROOT,
        env=shell_env(variables),
        capture_output=True,
        text=True,
        timeout=120,
    )


def harvest(answer: Any, known: dict[str, str]) -> None:
    """What a reader takes from an answer for the next lines' placeholders."""
    if not isinstance(answer, dict):
        return
    if "credentials_ref" in answer:
        known["ref"] = answer["credentials_ref"]
        known["id"] = answer["accounts"][0]["id"]
    elif "vendor_account_id" in answer:
        known["connector"] = answer["id"]
    elif "timezone" in answer and "id" in answer:
        known["project"] = answer["id"]


def test_readme_examples_work_as_written(stack: dict[str, str]) -> None:
    known = {
        "the dev token printed at start": stack["token"],
        "embedded AWS printed at start": stack["aws"],
        "key": ROISTAT_KEY,
    }
    variables: dict[str, str] = {}
    lines = example_lines()
    assert any(line.startswith("curl") for line in lines), "README shows no curl example"
    for line in lines:
        missing = [name for name in PLACEHOLDER.findall(line) if name not in known]
        assert not missing, f"README: nothing earlier says what {missing} is in: {line}"
        command = PLACEHOLDER.sub(lambda found: known[found.group(1)], line).replace(README_API, stack["api"])
        if not command.startswith("curl"):
            names = ASSIGNED.findall(command.split("#")[0])
            shown = "".join(f'; printf "%s\\0" "${name}"' for name in names)
            done = bash(f"set -e; {command}{shown}", variables)
            assert done.returncode == 0, f"{line}\n{done.stderr}"
            variables.update(zip(names, done.stdout.split("\0"), strict=False))
            continue
        done = bash(command.replace("curl", f"curl -w '{STATUS_MARK}%{{http_code}}'", 1), variables)
        assert done.returncode == 0, f"{line}\n{done.stderr}"
        body, _, status = done.stdout.rpartition(STATUS_MARK)
        expected = EXPECTED.search(line)
        if expected:
            assert status == expected.group(1), f"{line}\n→ {status}: {body}"
        else:
            assert status.startswith("2"), f"{line}\n→ {status}: {body}"
        try:
            harvest(json.loads(body), known)
        except json.JSONDecodeError:
            continue
    if "connector" in known:  # the README's sync: finished here, not holding a worker in the next tests
        wait_idle(Client(stack), known["connector"], 1)
