"""What the backfill e2e tests share: the HTTP API as a user calls it, and waiting for an archive to
settle at a settings version."""

from __future__ import annotations

import time
from typing import Any

import requests

RINGOSTAT_KEY = "ringostat-demo-auth-key"


class Client:
    def __init__(self, stack: dict[str, str]) -> None:
        self.base = stack["api"]
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {stack['token']}"

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.session.request(method, f"{self.base}{path}", timeout=30, **kwargs)
        assert answer.status_code < 300, f"{method} {path} → {answer.status_code}: {answer.text}"
        return answer.json()


def wait_idle(client: Client, connector_id: str, version: int) -> dict[str, Any]:
    """The status once the backfill of settings `version` was planned and ran: every day reflects
    those settings, no job is left and every stream the settings switch on is idle."""
    deadline = time.monotonic() + 180
    status: dict[str, Any] = {}
    confirmed = False
    while time.monotonic() < deadline:
        status = client.call("GET", f"/connectors/{connector_id}/status")
        archive, jobs = status["archive"], status["jobs"]
        planned = version == 1 or any(job["settings_version"] == version for job in jobs)
        settled = planned and all(job["state"] in ("done", "superseded") for job in jobs)
        current = archive["settings_version"] == version and archive["state"] == "idle" and archive["days_total"]
        loaded = all(stream["state"] == "idle" for stream in status["streams"] if stream["enabled"])
        if settled and current and loaded:
            if confirmed:
                return status
            # a status reads the streams before the jobs: read again, so the streams postdate the jobs' end
            confirmed = True
        else:
            confirmed = False
        time.sleep(0.5)
    raise AssertionError(f"the archive did not settle at settings v{version}: {status}")


def change(client: Client, connector_id: str, settings: dict[str, Any]) -> int:
    """Saves a settings change; the settings version it made."""
    return int(client.call("PATCH", f"/connectors/{connector_id}/settings", json=settings)["settings_version"])


def ringostat_connector(client: Client, project_id: str, **settings: Any) -> dict[str, Any]:
    """A Ringostat connector of the simulator's demo account, created through the check, then synced."""
    check = client.call("POST", f"/projects/{project_id}/connectors/ringostat/check", json={"auth_key": RINGOSTAT_KEY})
    connector: dict[str, Any] = client.call(
        "POST",
        f"/projects/{project_id}/connectors",
        json={
            "vendor": "ringostat",
            "name": "Calls",
            "vendor_account_id": check["accounts"][0]["id"],
            "credentials_ref": check["credentials_ref"],
            "settings": settings,
        },
    )
    client.call("POST", f"/connectors/{connector['id']}/sync")
    return connector
