"""Connectors and their lifecycle: create, settings, deactivate / activate, reconnect, delete.

An active connector is scheduled: it carries `schedule_vendor`, which puts it in the sparse
`by_schedule` index that each vendor's scheduled extraction reads. Deactivating or deleting takes
it out. Credentials go to Secrets Manager only and are never part of an answer.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from leadhub.connectors.registry import CREDENTIALS_BY_VENDOR, settings_for
from leadhub.models.credentials import VendorCredentials
from leadhub.models.settings import Vendor
from leadhub.setup import credentials as creds
from leadhub.setup.clock import utc_now
from leadhub.setup.errors import InvalidRequest
from leadhub.setup.kpi import duplication_warnings
from leadhub.setup.pending import PendingCredentials
from leadhub.setup.settings_changes import SettingsChanges, changed
from leadhub.store.connectors import ConnectorStore
from leadhub.store.objects import ObjectStore
from leadhub.store.secrets import SecretStore
from leadhub.store.sync_state import SyncStateStore

STREAMS = {
    Vendor.ROISTAT: ("calls", "orders", "proxyleads", "clients"),
    Vendor.RINGOSTAT: ("calls",),
    Vendor.CALLTOUCH: ("plans",),
    Vendor.AMOCRM: ("leads",),
}

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"\S")]


class AccountNotVisible(InvalidRequest):
    """The chosen vendor project/account is not among those the credentials can see."""


if TYPE_CHECKING:
    AnyCredentials = VendorCredentials
else:
    #: Whichever vendor's credentials: their field sets differ, so a body matches one vendor only.
    AnyCredentials = Union[tuple(CREDENTIALS_BY_VENDOR.values())]  # noqa: UP007 - built from the registry

#: Exactly one of the two is sent: as a schema, so a body the schema accepts is not refused for it.
_REF_OR_CREDENTIALS: dict[str, Any] = {
    "oneOf": [
        {"required": ["credentials_ref"], "properties": {"credentials_ref": {"not": {"type": "null"}}}},
        {"required": ["credentials"], "properties": {"credentials": {"not": {"type": "null"}}}},
    ]
}


class _NewCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_REF_OR_CREDENTIALS)

    credentials_ref: str | None = Field(
        default=None,
        max_length=200,
        description="What `POST /projects/{project_id}/connectors/{vendor}/check` answered: single-use, "
        "valid for an hour. Send it or `credentials`, not both.",
    )
    credentials: AnyCredentials | None = Field(
        default=None,
        description="The connector's vendor's credentials, checked with the vendor now (as a check would). "
        "Send them or `credentials_ref`, not both.",
        json_schema_extra={"writeOnly": True},
    )


class ConnectorCreate(_NewCredentials):
    vendor: Vendor = Field(description="The vendor; `credentials` and `settings` must be this vendor's.")
    name: Name = Field(description="The connector's name, as the connectors page shows it.")
    vendor_account_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] = Field(
        pattern=r"\S", description="The vendor project or account picked from the check's `accounts` list."
    )
    settings: SettingsChanges = Field(
        default_factory=SettingsChanges,
        description="The settings to start with; those left out take their defaults.",
    )


class Reconnect(_NewCredentials):
    pass


class ConnectorView(BaseModel):
    id: str
    project_id: str
    vendor: Vendor
    name: str
    vendor_account_id: str
    vendor_account_name: str | None
    settings: dict[str, Any]
    active: bool
    scheduled: bool
    created_at: str
    updated_at: str
    warnings: list[str] = Field(default_factory=list)


class CheckAnswer(creds.CheckResult):
    credentials_ref: str


def view(item: dict[str, Any], warnings: list[str] | None = None) -> ConnectorView:
    return ConnectorView(
        id=item["item_id"],
        project_id=item["project_id"],
        vendor=item["vendor"],
        name=item["name"],
        vendor_account_id=item["vendor_account_id"],
        vendor_account_name=item.get("vendor_account_name"),
        settings=item.get("settings", {}),
        active=bool(item.get("active")),
        scheduled="schedule_vendor" in item,
        created_at=item["created_at"],
        updated_at=item["updated_at"],
        warnings=warnings or [],
    )


def _scheduled(item: dict[str, Any], active: bool) -> dict[str, Any]:
    """The item with its schedule-index attribute set (active) or dropped (inactive)."""
    updated = {key: value for key, value in item.items() if key != "schedule_vendor"}
    updated["active"] = active
    if active:
        updated["schedule_vendor"] = item["vendor"]
    return updated


class Connectors:
    def __init__(
        self,
        store: ConnectorStore | None = None,
        secrets: SecretStore | None = None,
        states: SyncStateStore | None = None,
        objects: ObjectStore | None = None,
        pending: PendingCredentials | None = None,
    ) -> None:
        self.store = store or ConnectorStore()
        self.secrets = secrets or SecretStore()
        self.states = states or SyncStateStore()
        self.objects = objects or ObjectStore()
        self.pending = pending or PendingCredentials()

    # --- credentials ---------------------------------------------------------------------------
    def check(self, account_id: str, project_id: str, vendor: Vendor, raw: Any) -> CheckAnswer:
        self.store.get_project(account_id, project_id)
        verified = creds.verify(vendor, creds.parse_credentials(vendor, raw))
        accounts = [account.model_dump() for account in verified.result.accounts]
        ref = self.pending.hold(account_id, vendor, verified.secret, accounts)
        return CheckAnswer(**verified.result.model_dump(), credentials_ref=ref)

    def _verified_secret(
        self, account_id: str, vendor: Vendor, ref: str | None, raw: VendorCredentials | None
    ) -> tuple[dict[str, Any], list[creds.VendorAccount]]:
        if (ref is None) == (raw is None):
            raise InvalidRequest(
                "give exactly one of credentials_ref (from a check) or credentials", field="credentials"
            )
        if raw is None:
            secret, accounts = self.pending.take(account_id, vendor, str(ref))
            return secret, [creds.VendorAccount.model_validate(account) for account in accounts]
        # revalidated as the vendor's own: another vendor's credentials are refused naming the fields
        verified = creds.verify(vendor, creds.parse_credentials(vendor, raw.secret_values()))
        return verified.secret, verified.result.accounts

    @staticmethod
    def _require_visible(chosen: str, accounts: list[creds.VendorAccount]) -> creds.VendorAccount:
        for account in accounts:
            if account.id == chosen:
                return account
        if not accounts:  # the vendor lists nothing to pick from (e.g. a Ringostat key with no calls yet)
            return creds.VendorAccount(id=chosen)
        visible = ", ".join(account.id for account in accounts)
        raise AccountNotVisible(
            f"vendor account {chosen!r} is not visible with these credentials; visible: {visible}",
            field="vendor_account_id",
        )

    # --- lifecycle -----------------------------------------------------------------------------
    def create(self, account_id: str, project_id: str, request: ConnectorCreate) -> ConnectorView:
        self.store.get_project(account_id, project_id)
        settings = settings_for(request.vendor, _with_defaults(changed(request.settings))).model_dump(mode="json")
        secret, accounts = self._verified_secret(
            account_id, request.vendor, request.credentials_ref, request.credentials
        )
        chosen = self._require_visible(request.vendor_account_id, accounts)
        connector_id = uuid.uuid4().hex
        self.secrets.put(connector_id, secret)
        now = utc_now()
        item = self.store.create_connector(
            account_id,
            project_id,
            connector_id,
            _scheduled(
                {
                    "vendor": request.vendor.value,
                    "name": request.name,
                    "vendor_account_id": chosen.id,
                    "vendor_account_name": chosen.name,
                    "settings": settings,
                    "created_at": now,
                    "updated_at": now,
                },
                active=True,
            ),
        )
        return self._with_warnings(account_id, item)

    def list(self, account_id: str, project_id: str) -> list[ConnectorView]:
        self.store.get_project(account_id, project_id)
        items = list(self.store.list_connectors(account_id, project_id))
        warnings = duplication_warnings(items)
        return [view(item, warnings.get(item["item_id"])) for item in items]

    def get(self, account_id: str, connector_id: str) -> ConnectorView:
        return self._with_warnings(account_id, self.store.get_connector(account_id, connector_id))

    def update_settings(self, account_id: str, connector_id: str, changes: dict[str, Any]) -> ConnectorView:
        item = self.store.get_connector(account_id, connector_id)
        merged = _with_defaults({**item.get("settings", {}), **changes})
        settings = settings_for(Vendor(item["vendor"]), merged).model_dump(mode="json")
        item = self.store.save({**item, "settings": settings, "updated_at": utc_now()})
        return self._with_warnings(account_id, item)

    def set_active(self, account_id: str, connector_id: str, active: bool) -> ConnectorView:
        item = self.store.get_connector(account_id, connector_id)
        if bool(item.get("active")) != active or ("schedule_vendor" in item) != active:
            item = self.store.save({**_scheduled(item, active), "updated_at": utc_now()})
        return self._with_warnings(account_id, item)

    def reconnect(self, account_id: str, connector_id: str, request: Reconnect) -> ConnectorView:
        """New credentials for the same connector: its data, settings and sync state stay."""
        item = self.store.get_connector(account_id, connector_id)
        vendor = Vendor(item["vendor"])
        secret, accounts = self._verified_secret(account_id, vendor, request.credentials_ref, request.credentials)
        self._require_visible(item["vendor_account_id"], accounts)
        self.secrets.put(connector_id, secret)
        item = self.store.save({**item, "reconnected_at": utc_now(), "updated_at": utc_now()})
        return self._with_warnings(account_id, item)

    def delete(self, account_id: str, connector_id: str, *, purge: bool) -> dict[str, Any]:
        """Unschedule and forget the connector; its extracted data stays unless `purge`."""
        item = self.store.get_connector(account_id, connector_id)
        self.store.delete(item)
        self.secrets.delete(connector_id)
        self.states.delete_all(connector_id)
        self.objects.delete_prefix(state_prefix(item["project_id"], connector_id))
        removed = 0
        if purge:
            for prefix in data_prefixes(item["project_id"], connector_id):
                removed += self.objects.delete_prefix(prefix)
        return {"id": connector_id, "deleted": True, "purged_objects": removed, "data_kept": not purge}

    def _with_warnings(self, account_id: str, item: dict[str, Any]) -> ConnectorView:
        siblings = list(self.store.list_connectors(account_id, item["project_id"]))
        siblings = [s for s in siblings if s["item_id"] != item["item_id"]] + [item]
        return view(item, duplication_warnings(siblings).get(item["item_id"]))


def _with_defaults(settings: dict[str, Any]) -> dict[str, Any]:
    """Settings without their `null`s, so the defaults take those fields' place."""
    return {name: value for name, value in settings.items() if value is not None}


def state_prefix(project_id: str, connector_id: str) -> str:
    """Where extraction keeps what it must remember besides the sync state (first contacts)."""
    return f"state/project={project_id}/connector={connector_id}/"


def data_prefixes(project_id: str, connector_id: str) -> list[str]:
    """Where a connector's extracted data lives in the bucket."""
    return [
        f"conversions/project={project_id}/connector={connector_id}/",
        f"raw/project={project_id}/connector={connector_id}/",
    ]
