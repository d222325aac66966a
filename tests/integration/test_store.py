"""The store on the embedded AWS: conditional writes, optimistic locking, leases, secrets, objects."""

from __future__ import annotations

import pytest
import requests

from leadhub.models.connector import Connector, Project
from leadhub.models.settings import Vendor
from leadhub.store import errors
from leadhub.store.connectors import ConnectorStore
from leadhub.store.jobs import JobStore
from leadhub.store.objects import ObjectStore
from leadhub.store.secrets import SecretStore
from leadhub.store.sync_state import SyncStateStore
from leadhub.store.tokens import TokenStore, new_token

pytestmark = pytest.mark.usefixtures("aws")

NOW = "2026-11-20T10:00:00Z"


def _project(project_id: str, name: str) -> Project:
    return Project(id=project_id, name=name, timezone="Europe/Moscow", created_at=NOW, updated_at=NOW)


def test_a_project_is_created_once_and_seen_only_by_its_account() -> None:
    store = ConnectorStore()
    store.create_project("acc-1", _project("p-1", "Shop"))
    with pytest.raises(errors.AlreadyExists):
        store.create_project("acc-1", _project("p-1", "Other"))
    assert store.get_project("acc-1", "p-1").name == "Shop"
    with pytest.raises(errors.NotFound):
        store.get_project("acc-2", "p-1")
    assert [p.id for p in store.list_projects("acc-1")] == ["p-1"]


def test_two_writers_cannot_both_win() -> None:
    store = ConnectorStore()
    store.create_connector(
        Connector(
            id="c-1",
            account_id="acc-1",
            project_id="p-1",
            vendor=Vendor.ROISTAT,
            name="Roistat",
            vendor_account_id="1",
            created_at=NOW,
            updated_at=NOW,
        )
    )
    first = store.get_connector("acc-1", "c-1")
    second = store.get_connector("acc-1", "c-1")
    store.save(first.model_copy(update={"active": False}))
    with pytest.raises(errors.VersionConflict):
        store.save(second.model_copy(update={"settings": {"tags": ["quality"]}}))
    assert store.get_connector("acc-1", "c-1").active is False
    assert "c-1" not in store.scheduled("roistat")
    with pytest.raises(errors.NotFound):
        store.get_connector("acc-2", "c-1")


def test_sync_state_is_versioned_and_the_connector_lease_is_exclusive() -> None:
    states = SyncStateStore()
    saved = states.save("c-1", "calls", "111", {"cursor": "2026-11-01", "failures": 0})
    states.save("c-1", "calls", "111", {**saved, "cursor": "2026-11-02"})
    with pytest.raises(errors.VersionConflict):
        states.save("c-1", "calls", "111", {**saved, "cursor": "2026-10-01"})
    assert states.get("c-1", "calls", "111")["cursor"] == "2026-11-02"

    leases = JobStore()
    leases.acquire_lease("c-1", "run-a", now=1000.0, seconds=60)
    with pytest.raises(errors.LeaseHeld):
        leases.acquire_lease("c-1", "run-b", now=1030.0, seconds=60)
    leases.acquire_lease("c-1", "run-b", now=1061.0, seconds=60)  # run-a's lease expired
    leases.release_lease("c-1", "run-a")  # not its lease any more: left alone
    with pytest.raises(errors.LeaseHeld):
        leases.acquire_lease("c-1", "run-c", now=1070.0, seconds=60)
    leases.release_lease("c-1", "run-b")
    leases.acquire_lease("c-1", "run-c", now=1071.0, seconds=60)


def test_tokens_are_stored_hashed() -> None:
    tokens = TokenStore()
    token = new_token()
    tokens.register(token, "acc-1")
    assert tokens.account_for(token) == "acc-1"
    assert tokens.account_for(token + "x") is None
    stored = list(tokens.table._table.scan()["Items"])
    assert token not in str(stored)


def test_credentials_round_trip_through_secrets_manager() -> None:
    secrets = SecretStore()
    secrets.put("c-1", {"api_key": "k-1"})
    secrets.put("c-1", {"api_key": "k-2"})
    assert secrets.get("c-1") == {"api_key": "k-2"}
    secrets.delete("c-1")
    with pytest.raises(errors.NotFound):
        secrets.get("c-1")


def test_an_export_downloads_through_its_presigned_url() -> None:
    objects = ObjectStore()
    objects.put("exports/a.xlsx", b"PK\x03\x04 data", content_type="application/octet-stream")
    url = objects.download_url("exports/a.xlsx", filename="a.xlsx", expires_in=120)
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 200
    assert answer.content == b"PK\x03\x04 data"
    assert objects.delete_prefix("exports/") == 1
    assert not objects.exists("exports/a.xlsx")


def test_checked_credentials_never_used_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import timedelta

    from leadhub.models.settings import Vendor
    from leadhub.setup import pending
    from leadhub.setup.pending import PendingCredentials, UnknownCredentialsRef

    held = PendingCredentials()
    stale = held.hold("acc-1", Vendor.ROISTAT, {"api_key": "k-stale"}, [])
    other_account = held.hold("acc-2", Vendor.ROISTAT, {"api_key": "k-other"}, [])
    monkeypatch.setattr(pending, "HOLD_FOR", timedelta(seconds=-1))
    with pytest.raises(UnknownCredentialsRef):
        held.peek("acc-1", Vendor.ROISTAT, stale)  # expired: refused
    fresh = held.hold("acc-2", Vendor.ROISTAT, {"api_key": "k-new"}, [])  # sweeps acc-2's old one
    monkeypatch.setattr(pending, "HOLD_FOR", timedelta(hours=1))
    with pytest.raises(UnknownCredentialsRef):
        held.peek("acc-2", Vendor.ROISTAT, other_account)  # not expired any more: gone, swept
    assert held.peek("acc-2", Vendor.ROISTAT, fresh)[0] == {"api_key": "k-new"}
    assert held.peek("acc-2", Vendor.ROISTAT, fresh)[0] == {"api_key": "k-new"}  # reading spends nothing
    held.spend("acc-2", fresh)
    with pytest.raises(UnknownCredentialsRef):
        held.peek("acc-2", Vendor.ROISTAT, fresh)
