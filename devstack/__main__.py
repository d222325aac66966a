"""`make run`: the local stack in the foreground until Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for folder in ("functions", "layers/common", "."):
    if str(ROOT / folder) not in sys.path:
        sys.path.insert(0, str(ROOT / folder))

from devstack.stack import DEV_ACCOUNT, LocalStack  # noqa: E402  (the path must be set first)


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    stack = LocalStack(
        port=int(os.environ.get("LEADHUB_PORT", "8080")),
        schedule_seconds=float(os.environ.get("LEADHUB_SCHEDULE_SECONDS", "300")),
    )
    # SIGTERM ends the stack as Ctrl-C does. The handler only raises: anything that takes a lock
    # (Event.set, say) could deadlock against the very wait it interrupts.
    # SIGINT too: a shell may start us with it ignored, which Python would otherwise keep.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        urls = stack.start()
        api = urls["api"]
        lines = [
            "Leadhub local stack is up.",
            f"  HTTP API      {api}",
            f"  health        {api}/health",
            f"  OpenAPI       {api}/openapi.json",
            f"  Swagger UI    {api}/swagger",
            f"  embedded AWS  {urls['aws']}   (moto; tables and bucket from template.yaml)",
            f"  dev token     {stack.dev_token}   (account {DEV_ACCOUNT}; set LEADHUB_DEV_TOKEN to choose it)",
            f"                curl -H 'Authorization: Bearer {stack.dev_token}' {api}/projects",
        ]
        for name, demo in stack.vendors.items():
            origin = "override" if demo.external else "simulator"
            lines.append(f"  {name:<13} {demo.base_url}   ({origin}; demo credentials: {demo.hint})")
        every = f"every {stack.schedule_seconds:g} s" if stack.schedule_seconds else "off"
        lines.append(
            f"  schedule      extraction of roistat and ringostat connectors {every} (LEADHUB_SCHEDULE_SECONDS)"
        )
        lines.append("Ctrl-C stops everything.")
        print("\n".join(lines), flush=True)
        ready_file = os.environ.get("LEADHUB_READY_FILE")
        if ready_file:
            Path(ready_file).write_text(json.dumps({**urls, "token": stack.dev_token}), encoding="utf-8")
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
        print("Leadhub local stack stopped.", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
