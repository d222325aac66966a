"""Connectors and their lifecycle: create, settings, deactivate / activate, reconnect, delete.

An active connector is scheduled (the store puts it where each vendor's scheduled extraction
looks); deactivating or deleting takes it out. Credentials go to Secrets Manager only and are
never part of an answer.
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import ConfigDict, Field, RootModel, StringConstraints, create_model

from leadhub.clock import utc_now
from leadhub.connectors.registry import SPECS, spec_for
from leadhub.connectors.spec import VendorSpec
from leadhub.errors import InvalidRequest, RunInProgress
from leadhub.jobs.plan import archive_outdated
from leadhub.jobs.runner import start_extraction
from leadhub.models.base import DeferredModel
from leadhub.models.connector import Connector
from leadhub.models.credentials import CheckResult, VendorAccount, VendorCredentials
from leadhub.models.settings import Vendor
from leadhub.setup import credentials as creds
from leadhub.setup.duplication import duplication_warnings
from leadhub.setup.pending import PendingCredentials
from leadhub.setup.settings_changes import NEW_SETTINGS, SettingsChanges, changed
from leadhub.store.connectors import ConnectorStore
from leadhub.store.daily import summaries_prefix
from leadhub.store.jobs import JobStore
from leadhub.store.objects import ObjectStore
from leadhub.store.partitions import STATE, connector_prefix, data_prefixes
from leadhub.store.secrets import SecretStore
from leadhub.store.sync_state import SyncStateStore

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"\S")]


class AccountNotVisible(InvalidRequest):
    """The chosen vendor project/account is not among those the credentials can see."""


if TYPE_CHECKING:
    AnyCredentials = VendorCredentials
else:
    #: Whichever vendor's credentials: their field sets differ, so a body matches one vendor only.
    AnyCredentials = Union[tuple(spec.credentials for spec in SPECS.values())]  # noqa: UP007 - built from the registry

#: Exactly one of the two is sent: as a schema, so a body the schema accepts is not refused for it.
_REF_OR_CREDENTIALS: dict[str, Any] = {
    "oneOf": [
        {"required": ["credentials_ref"], "properties": {"credentials_ref": {"not": {"type": "null"}}}},
        {"required": ["credentials"], "properties": {"credentials": {"not": {"type": "null"}}}},
    ]
}


class _NewCredentials(DeferredModel):
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
    """What every vendor's new connector holds; `NewConnector` narrows it to one vendor's fields."""

    vendor: Vendor = Field(description="The vendor; `credentials` and `settings` are this vendor's.")
    name: Name = Field(description="The connector's name, as the connectors page shows it.")
    vendor_account_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] = Field(
        pattern=r"\S", description="The vendor project or account picked from the check's `accounts` list."
    )
    settings: SettingsChanges = Field(
        default_factory=SettingsChanges,
        description="The settings to start with; those left out take their defaults.",
    )


def _new_connector(spec: VendorSpec) -> type[ConnectorCreate]:
    settings = NEW_SETTINGS[spec.vendor]
    vendor: Any = Literal[spec.vendor]
    credentials: Any = spec.credentials | None
    return create_model(
        f"{spec.credentials.__name__.removesuffix('Credentials')}ConnectorCreate",
        __base__=ConnectorCreate,
        __doc__=f"A new {spec.title} connector.",
        vendor=(vendor, Field(description=f"`{spec.vendor.value}`: a {spec.title} connector.")),
        credentials=(
            credentials,
            Field(
                default=None,
                description=f"{spec.title} credentials, checked with {spec.title} now (as a check would). "
                "Send them or `credentials_ref`, not both.",
                json_schema_extra={"writeOnly": True},
            ),
        ),
        settings=(
            settings,
            Field(default_factory=settings, description="The settings to start with; those left out take defaults."),
        ),
    )


_NEW_CONNECTORS = tuple(_new_connector(spec) for spec in SPECS.values())


class NewConnector(RootModel[Any], DeferredModel):
    """A new connector of one vendor, told apart by `vendor`: its credentials and settings are that
    vendor's, so a body the schema accepts cannot mix vendors."""

    if TYPE_CHECKING:
        root: ConnectorCreate
    else:
        root: Annotated[Union[_NEW_CONNECTORS], Field(discriminator="vendor")]  # noqa: UP007 - from the registry


class Reconnect(_NewCredentials):
    pass


class ConnectorView(DeferredModel):
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
    settings_version: int = Field(default=1, description="Bumped by every settings change.")
    attribution_version: int = Field(
        default=1,
        description="The settings version at which what attribution reads last changed: an archive day built "
        "with it or a later version reflects the current settings.",
    )
    warnings: list[str] = Field(default_factory=list)


class CheckAnswer(CheckResult):
    credentials_ref: str


def view(connector: Connector, warnings: list[str] | None = None) -> ConnectorView:
    """What a caller sees of a connector: its fields (never where the store keeps it or whose it is), and
    `scheduled`, which an active connector is."""
    shown = connector.model_dump(include=set(ConnectorView.model_fields))
    return ConnectorView(**shown, scheduled=connector.active, warnings=warnings or [])


class Connectors:
    def __init__(
        self,
        *,
        store: ConnectorStore | None = None,
        secrets: SecretStore | None = None,
        states: SyncStateStore | None = None,
        objects: ObjectStore | None = None,
        pending: PendingCredentials | None = None,
        jobs: JobStore | None = None,
    ) -> None:
        self.store = store or ConnectorStore()
        self.secrets = secrets or SecretStore()
        self.states = states or SyncStateStore()
        self.objects = objects or ObjectStore()
        self.pending = pending or PendingCredentials()
        self.jobs = jobs or JobStore()

    # --- credentials ---------------------------------------------------------------------------
    def check(self, account_id: str, project_id: str, vendor: Vendor, raw: Any) -> CheckAnswer:
        self.store.get_project(account_id, project_id)
        verified = creds.verify(vendor, creds.parse_credentials(vendor, raw))
        accounts = [account.model_dump() for account in verified.result.accounts]
        ref = self.pending.hold(account_id, vendor, verified.secret, accounts)
        return CheckAnswer(**verified.result.model_dump(), credentials_ref=ref)

    def _verified_secret(
        self, account_id: str, vendor: Vendor, ref: str | None, raw: VendorCredentials | None
    ) -> tuple[dict[str, Any], list[VendorAccount]]:
        """The secret to store and the accounts it sees. A `credentials_ref` is only read here: the
        caller spends it once the connector holds the secret (`_spend`)."""
        if (ref is None) == (raw is None):
            raise InvalidRequest(
                "give exactly one of credentials_ref (from a check) or credentials", field="credentials"
            )
        if raw is None:
            secret, accounts = self.pending.peek(account_id, vendor, str(ref))
            return secret, [VendorAccount.model_validate(account) for account in accounts]
        # revalidated as the vendor's own: another vendor's credentials are refused naming the fields
        verified = creds.verify(vendor, creds.parse_credentials(vendor, raw.secret_values()))
        return verified.secret, verified.result.accounts

    def _spend(self, account_id: str, ref: str | None) -> None:
        if ref is not None:
            self.pending.spend(account_id, ref)

    @staticmethod
    def _require_visible(chosen: str, accounts: list[VendorAccount]) -> VendorAccount:
        for account in accounts:
            if account.id == chosen:
                return account
        if not accounts:  # the vendor lists nothing to pick from (e.g. a Ringostat key with no calls yet)
            return VendorAccount(id=chosen)
        visible = ", ".join(account.id for account in accounts)
        raise AccountNotVisible(
            f"vendor account {chosen!r} is not visible with these credentials; visible: {visible}",
            field="vendor_account_id",
        )

    # --- lifecycle -----------------------------------------------------------------------------
    def create(self, account_id: str, project_id: str, request: ConnectorCreate) -> ConnectorView:
        self.store.get_project(account_id, project_id)
        settings = (
            spec_for(request.vendor)
            .validate_settings(_with_defaults(changed(request.settings)))
            .model_dump(mode="json")
        )
        secret, accounts = self._verified_secret(
            account_id, request.vendor, request.credentials_ref, request.credentials
        )
        chosen = self._require_visible(request.vendor_account_id, accounts)
        connector_id = uuid.uuid4().hex
        self.secrets.put(connector_id, secret)
        now = utc_now()
        connector = self.store.create_connector(
            Connector(
                id=connector_id,
                account_id=account_id,
                project_id=project_id,
                vendor=request.vendor,
                name=request.name,
                vendor_account_id=chosen.id,
                vendor_account_name=chosen.name,
                settings=settings,
                active=True,
                created_at=now,
                updated_at=now,
            )
        )
        self._spend(account_id, request.credentials_ref)
        return self._with_warnings(connector)

    def list(self, account_id: str, project_id: str) -> list[ConnectorView]:
        self.store.get_project(account_id, project_id)
        connectors = list(self.store.list_connectors(account_id, project_id))
        warnings = duplication_warnings(connectors)
        return [view(connector, warnings.get(connector.id)) for connector in connectors]

    def get(self, account_id: str, connector_id: str) -> ConnectorView:
        return self._with_warnings(self.store.get_connector(account_id, connector_id))

    def update_settings(self, account_id: str, connector_id: str, changes: dict[str, Any]) -> ConnectorView:
        connector = self.store.get_connector(account_id, connector_id)
        merged = _with_defaults({**connector.settings, **changes})
        settings = spec_for(connector.vendor).validate_settings(merged).model_dump(mode="json")
        if settings == connector.settings:
            return self._with_warnings(connector)
        if connector.vendor is Vendor.AMOCRM:
            # the lead sync's choices against the account (it calls amoCRM only for what changed)
            from leadhub.crm_sync.choices import check_choices

            check_choices(connector, connector.settings, settings)
        # the new version is what the backfill (on the table's stream) plans for and what every day
        # built from now on records; jobs planned for older versions stop once attribution moved on
        version = connector.settings_version + 1
        update: dict[str, Any] = {"settings": settings, "updated_at": utc_now(), "settings_version": version}
        if archive_outdated(connector.settings, settings):
            update["attribution_version"] = version
        connector = self.store.save(connector.model_copy(update=update))
        return self._with_warnings(connector)

    def set_active(self, account_id: str, connector_id: str, active: bool) -> ConnectorView:
        connector = self.store.get_connector(account_id, connector_id)
        if connector.active != active:
            connector = self.store.save(connector.model_copy(update={"active": active, "updated_at": utc_now()}))
        return self._with_warnings(connector)

    def reconnect(self, account_id: str, connector_id: str, request: Reconnect) -> ConnectorView:
        """New credentials for the same connector: its data, settings and sync state stay."""
        connector = self.store.get_connector(account_id, connector_id)
        secret, accounts = self._verified_secret(
            account_id, connector.vendor, request.credentials_ref, request.credentials
        )
        self._require_visible(connector.vendor_account_id, accounts)
        self.secrets.put(connector_id, secret)
        now = utc_now()
        connector = self.store.save(connector.model_copy(update={"reconnected_at": now, "updated_at": now}))
        self._spend(account_id, request.credentials_ref)
        return self._with_warnings(connector)

    def sync_now(self, account_id: str, connector_id: str) -> str:
        """Start a run now; answers how it was started. Refused while a run holds the connector:
        the new one would find the lease taken and end at once, so "started" would not be true."""
        connector = self.store.get_connector(account_id, connector_id)
        if not connector.active:
            raise InvalidRequest("the connector is deactivated: activate it first", field="connector")
        if self.jobs.lease_held(connector_id, now=time.time()):
            raise RunInProgress(connector_id)
        return start_extraction(connector, self.jobs)

    def delete(self, account_id: str, connector_id: str, *, purge: bool) -> dict[str, Any]:
        """Unschedule and forget the connector; its extracted data stays unless `purge`."""
        connector = self.store.get_connector(account_id, connector_id)
        self.store.delete(connector)
        self.secrets.delete(connector_id)
        self.states.delete_all(connector_id)
        self.jobs.delete_all(connector_id)
        self.objects.delete_prefix(connector_prefix(STATE, connector.project_id, connector_id))
        removed = 0
        if purge:
            for prefix in [
                *data_prefixes(connector.project_id, connector_id),
                summaries_prefix(connector.project_id, connector_id),
            ]:
                removed += self.objects.delete_prefix(prefix)
        return {"id": connector_id, "deleted": True, "purged_objects": removed, "data_kept": not purge}

    def _with_warnings(self, connector: Connector) -> ConnectorView:
        siblings = self.store.list_connectors(connector.account_id, connector.project_id)
        project = [other for other in siblings if other.id != connector.id] + [connector]
        return view(connector, duplication_warnings(project).get(connector.id))


def _with_defaults(settings: dict[str, Any]) -> dict[str, Any]:
    """Settings without their `null`s, so the defaults take those fields' place."""
    return {name: value for name, value in settings.items() if value is not None}
