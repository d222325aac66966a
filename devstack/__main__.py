"""`make run`: the local stack in the foreground until Ctrl-C."""

from __future__ import annotations

import errno
import json
import os
import signal
import sys
from pathlib import Path

from devstack.scheduler import scheduled_inputs
from devstack.stack import DEFAULT_PORT, DEV_ACCOUNT, LocalStack


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def _port() -> int:
    text = os.environ.get("LEADHUB_PORT", str(DEFAULT_PORT))
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise SystemExit(f"LEADHUB_PORT={text!r} is not a port number; pick one, e.g. LEADHUB_PORT=8090 make run")
    return int(text)


def _port_refusal(port: int, error: OSError) -> str:
    reason = "is busy (another `make run`, or any other server, listens on it)"
    if error.errno != errno.EADDRINUSE:
        reason = f"cannot be listened on ({error.strerror})"
    return (
        f"Leadhub cannot start: port {port} on 127.0.0.1 {reason}.\n"
        f"Pick another with LEADHUB_PORT, e.g.  LEADHUB_PORT={port + 10 if port < 65526 else 8090} make run"
    )


def main() -> int:
    stack = LocalStack(
        port=_port(),
        schedule_seconds=float(os.environ.get("LEADHUB_SCHEDULE_SECONDS", "300")),
        recheck_seconds=float(os.environ.get("LEADHUB_RECHECK_SECONDS", "60")),
    )
    # SIGTERM ends the stack as Ctrl-C does. The handler only raises: anything that takes a lock
    # (Event.set, say) could deadlock against the very wait it interrupts.
    # SIGINT too: a shell may start us with it ignored, which Python would otherwise keep.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        try:
            urls = stack.start()
        except OSError as error:
            # the API's port is the only fixed one: the embedded AWS and the simulators take free ports
            if error.errno not in (errno.EADDRINUSE, errno.EACCES):
                raise
            print(_port_refusal(stack.port, error), file=sys.stderr, flush=True)
            return 1
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
            f"  more tokens   AWS_ENDPOINT_URL={urls['aws']} make token ACCOUNT=acme"
            "   (another account; its token is printed once)",
        ]
        for name, demo in stack.vendors.items():
            origin = "override" if demo.external else "simulator"
            lines.append(f"  {name:<13} {demo.base_url}   ({origin}; demo credentials: {demo.hint})")
        every = f"every {stack.schedule_seconds:g} s" if stack.schedule_seconds else "off"
        scheduled = ", ".join(str(inputs["vendor"]) for inputs in scheduled_inputs())
        lines.append(f"  schedule      extraction of {scheduled} connectors {every} (LEADHUB_SCHEDULE_SECONDS)")
        lines.append("  backfill      the connectors table's stream feeds the backfill function (settings changes)")
        lines.append(
            "  amoCRM sync   its queue feeds the sync function; waiting inquiries re-checked every "
            f"{stack.recheck_seconds:g} s (LEADHUB_RECHECK_SECONDS)"
        )
        crm = stack.roistat_crm
        lines.append(
            f"  roistat CRM   {crm['url']}   (export page of the demo project; login {crm['login']}, "
            f"password {crm['password']}; Roistat sends token = md5(login . password))"
        )
        lines.append("Ctrl-C stops everything.")
        print("\n".join(lines), flush=True)
        ready_file = os.environ.get("LEADHUB_READY_FILE")
        if ready_file:
            Path(ready_file).write_text(
                json.dumps({**urls, "token": stack.dev_token, "roistat_crm": stack.roistat_crm}), encoding="utf-8"
            )
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
        print("Leadhub local stack stopped.", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
