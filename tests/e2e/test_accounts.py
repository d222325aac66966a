"""Accounts and tokens on the local stack, made the documented way (`python -m devstack.admin`, what
`make token` runs): two accounts never see each other's objects on any route of the published
OpenAPI, and a revoked token is refused."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from simulators.roistat import DEFAULT_API_KEY as ROISTAT_KEY

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PERIOD = {"from": "2026-11-01", "to": "2026-11-30"}


def admin(stack: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AWS_ENDPOINT_URL": stack["aws"]}
    return subprocess.run(
        [sys.executable, "-m", "devstack.admin", *args],
        check=False,  # the refusals are what some tests look at
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@dataclass
class Tenant:
    account: str
    token: str
    token_id: str
    session: requests.Session

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, path, timeout=30, **kwargs)


def new_tenant(stack: dict[str, str], prefix: str) -> Tenant:
    account = f"{prefix}-{uuid.uuid4().hex[:8]}"
    done = admin(stack, "issue-token", account, "--create-account", "--label", "e2e")
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    found = re.search(r"\btok_[0-9a-f]+\b", done.stderr)
    assert found, done.stderr
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return Tenant(account, token, found.group(), session)


class Urls:
    def __init__(self, base: str) -> None:
        self.base = base

    def __call__(self, path: str) -> str:
        return f"{self.base}{path}"


@pytest.fixture(scope="module")
def url(stack: dict[str, str]) -> Urls:
    return Urls(stack["api"])


@dataclass
class Owned:
    """Account A's objects, and what only A's answers may contain."""

    project_id: str
    connector_id: str
    upload_key: str
    secrets_of_a: tuple[str, ...]


def check_ref(tenant: Tenant, url: Urls, project_id: str) -> str:
    answer = tenant.call("POST", url(f"/projects/{project_id}/connectors/roistat/check"), json={"api_key": ROISTAT_KEY})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["credentials_ref"])


def own_project(tenant: Tenant, url: Urls, name: str) -> str:
    answer = tenant.call("POST", url("/projects"), json={"name": name, "timezone": "Europe/Moscow"})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


@pytest.fixture(scope="module")
def a(stack: dict[str, str]) -> Tenant:
    return new_tenant(stack, "tenant-a")


@pytest.fixture(scope="module")
def b(stack: dict[str, str]) -> Tenant:
    return new_tenant(stack, "tenant-b")


@pytest.fixture(scope="module")
def owned(a: Tenant, url: Urls) -> Owned:
    marker = uuid.uuid4().hex[:10]
    project_name, connector_name = f"A-project-{marker}", f"A-connector-{marker}"
    project_id = own_project(a, url, project_name)
    body = {
        "vendor": "roistat",
        "name": connector_name,
        "vendor_account_id": "10001",
        "credentials_ref": check_ref(a, url, project_id),
    }
    created = a.call("POST", url(f"/projects/{project_id}/connectors"), json=body)
    assert created.status_code == 201, created.text
    connector_id = str(created.json()["id"])
    upload = a.call("POST", url(f"/connectors/{connector_id}/static-channels/upload-url"))
    assert upload.status_code == 200, upload.text
    return Owned(project_id, connector_id, str(upload.json()["key"]), (project_name, connector_name, marker))


def bodies(b: Tenant, url: Urls, owned: Owned) -> dict[tuple[str, str], Callable[[], Any]]:
    """A request body B could validly send to each operation that takes one, so the only thing
    wrong with B's requests is whose objects they name. B's credentials refs are B's own."""
    b_project = own_project(b, url, "B's own")
    return {
        ("post", "/projects"): lambda: {"name": "B's second", "timezone": "Europe/Moscow"},
        ("patch", "/projects/{project_id}"): lambda: {"name": "taken over by B"},
        ("post", "/projects/{project_id}/connectors/roistat/check"): lambda: {"api_key": ROISTAT_KEY},
        ("post", "/projects/{project_id}/connectors/ringostat/check"): lambda: {"auth_key": "b-ringostat-key"},
        ("post", "/projects/{project_id}/connectors/calltouch/check"): lambda: {
            "access_token": "b-calltouch-token",
            "site_id": "12345",
        },
        ("post", "/projects/{project_id}/connectors/amocrm/check"): lambda: {
            "subdomain": "bshop",
            "client_id": "b-client",
            "client_secret": "b-client-secret",
            "redirect_uri": "https://b.example/oauth",
            "code": "b-authorization-code",
        },
        ("post", "/projects/{project_id}/connectors"): lambda: {
            "vendor": "roistat",
            "name": "B's connector",
            "vendor_account_id": "10001",
            "credentials_ref": check_ref(b, url, b_project),
        },
        ("patch", "/connectors/{connector_id}/settings"): lambda: {"kpi_mode": "tagged", "tags": ["b"]},
        ("post", "/connectors/{connector_id}/reconnect"): lambda: {"credentials_ref": check_ref(b, url, b_project)},
        ("post", "/connectors/{connector_id}/static-channels/import"): lambda: {"upload_key": owned.upload_key},
        ("post", "/projects/{project_id}/reports/conversions"): lambda: dict(PERIOD),
        ("post", "/projects/{project_id}/crm/deals"): lambda: {
            "items": [{"id": "b-deal", "date_create": 1764547200, "status": "1"}]
        },
        ("post", "/projects/{project_id}/crm/clients"): lambda: {"items": [{"id": "b-client", "name": "B"}]},
        ("post", "/projects/{project_id}/crm/statuses"): lambda: {"items": [{"id": "1", "name": "B's"}]},
        ("post", "/projects/{project_id}/crm/fields"): lambda: {"items": [{"id": "f", "name": "B's"}]},
        ("post", "/projects/{project_id}/crm/managers"): lambda: {"items": [{"id": "m", "name": "B's"}]},
        ("post", "/projects/{project_id}/roistat-crm"): lambda: {"format": "json"},
        ("post", "/connectors/{connector_id}/plan-imports"): lambda: {"upload_key": owned.upload_key},
    }


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    # deleting goes last, so every other route meets A's connector still there
    return sorted(found, key=lambda op: op[0] == "delete")


def test_no_route_shows_or_changes_another_accounts_objects(a: Tenant, b: Tenant, owned: Owned, url: Urls) -> None:
    document = requests.get(url("/openapi.json"), timeout=30).json()
    body_for = bodies(b, url, owned)
    ids = {
        "project_id": owned.project_id,
        "connector_id": owned.connector_id,
        "vendor": "roistat",
        # ids of objects A does not have: what matters is that B meets A's project and connector
        "import_id": "no-such-import",
        "inquiry_id": "no-such-inquiry",
    }
    queries = {"purge": "true", **PERIOD}
    tried = []
    for method, template, operation in operations(document):
        path = template.format(**ids)
        params = {
            p["name"]: queries[p["name"]]
            for p in operation.get("parameters", [])
            if p["in"] == "query" and p["name"] in queries
        }
        kwargs: dict[str, Any] = {"params": params}
        if (method, template) in body_for:
            kwargs["json"] = body_for[(method, template)]()
        else:
            assert "requestBody" not in operation, f"{method.upper()} {template} takes a body: add one to bodies()"
        answer = b.call(method.upper(), url(path), **kwargs)
        tried.append(f"{method.upper()} {template} → {answer.status_code}")
        for secret in owned.secrets_of_a:
            assert secret not in answer.text, f"{method.upper()} {path} showed A's {secret!r} to B"
        if any(f"{{{name}}}" in template for name in ("project_id", "connector_id", "import_id", "inquiry_id")):
            assert answer.status_code == 404, f"{method.upper()} {path} as B → {answer.status_code}: {answer.text}"
        else:
            # routes that name no object act on B's own (or nothing): they may succeed, never with A's ids
            assert answer.status_code < 300, f"{method.upper()} {path} → {answer.status_code}: {answer.text}"
            assert owned.project_id not in answer.text and owned.connector_id not in answer.text
    assert len(tried) == len(operations(document)), tried

    # and nothing of A's changed behind its back
    project = a.call("GET", url(f"/projects/{owned.project_id}"))
    assert project.status_code == 200 and project.json()["name"] == owned.secrets_of_a[0]
    connector = a.call("GET", url(f"/connectors/{owned.connector_id}"))
    assert connector.status_code == 200, connector.text
    assert connector.json()["settings"]["kpi_mode"] == "all" and connector.json()["active"] is True
    assert [c["id"] for c in a.call("GET", url(f"/projects/{owned.project_id}/connectors")).json()] == [
        owned.connector_id
    ]


def test_a_revoked_token_is_refused_and_never_shown_again(stack: dict[str, str], url: Urls) -> None:
    tenant = new_tenant(stack, "revoked")
    spare = admin(stack, "issue-token", tenant.account, "--label", "spare")
    assert spare.returncode == 0, spare.stderr
    assert tenant.call("GET", url("/projects")).status_code == 200

    revoked = admin(stack, "revoke-token", tenant.account, tenant.token_id)
    assert revoked.returncode == 0, revoked.stderr
    refused = tenant.call("GET", url("/projects"))
    assert refused.status_code == 401, refused.text
    kept = requests.get(url("/projects"), headers={"Authorization": f"Bearer {spare.stdout.strip()}"}, timeout=30)
    assert kept.status_code == 200, kept.text

    listing = admin(stack, "list-tokens", tenant.account)
    assert listing.returncode == 0, listing.stderr
    rows = {line.split()[0]: line for line in listing.stdout.splitlines()[1:]}
    assert len(rows) == 2 and tenant.token_id in rows
    assert "-" not in rows[tenant.token_id].split()[2:3], "the revoked token shows when it was revoked"
    assert tenant.token not in listing.stdout + listing.stderr
    assert spare.stdout.strip() not in listing.stdout + listing.stderr


def test_the_cli_refuses_what_it_cannot_do(stack: dict[str, str]) -> None:
    unknown = admin(stack, "issue-token", f"nobody-{uuid.uuid4().hex[:8]}")
    assert unknown.returncode == 1 and "create-account" in unknown.stderr and not unknown.stdout
    invalid = admin(stack, "create-account", "Not A Slug")
    assert invalid.returncode == 1 and "lowercase" in invalid.stderr
    tenant = new_tenant(stack, "twice")
    again = admin(stack, "create-account", tenant.account)
    assert again.returncode == 1 and "already exists" in again.stderr
    missing = admin(stack, "revoke-token", tenant.account, "tok_000000000000")
    assert missing.returncode == 1 and "no token" in missing.stderr
