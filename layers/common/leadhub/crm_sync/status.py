"""What the API shows of the lead sync: per connector counts and errors, per inquiry its entities, and the
account's users, pipelines and fields to choose from in the settings."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from leadhub.clock import utc_iso
from leadhub.errors import InvalidRequest
from leadhub.models.base import DeferredModel
from leadhub.models.connector import Connector
from leadhub.models.lead_sync import EXPIRED, FAILED, PARAM_TITLES, PENDING, SYNCED, WAITING, Entity, lead_sync_of
from leadhub.models.settings import Vendor
from leadhub.store.crm_sync import CrmSyncStore


def _iso(epoch: Any) -> str | None:
    if not epoch:
        return None
    return utc_iso(datetime.fromtimestamp(float(epoch), UTC))


class SyncError(DeferredModel):
    at: str | None = Field(description="When it happened (UTC).")
    error_class: str = Field(description="`config` (the account must act), `transient` (retried), or another class.")
    message: str = Field(description="What went wrong, in the vendor's words where it gave any.")


class CrmSyncStatus(DeferredModel):
    connector_id: str
    enabled: bool = Field(description="Whether the lead sync is switched on in the settings.")
    config_error: str | None = Field(
        description="What stops the sync until someone acts (a revoked grant: reconnect the account); None: nothing."
    )
    cooling_down_until: str | None = Field(
        description="amoCRM refused requests for the rate limit: the sync leaves it alone until then (UTC)."
    )
    inquiries: dict[str, int] = Field(
        description="Inquiries by state: `pending` (not sent yet), `waiting` (mode 2, looking for the deal), "
        "`synced`, `expired` (three hours passed without a match), `failed`."
    )
    entities: dict[str, int] = Field(
        description="Entity actions: `created`, `updated`, `matched` (an existing contact used), `guarded` "
        "(its GA client id was filled in: not updated)."
    )
    last_errors: list[SyncError]


class EntityState(DeferredModel):
    amocrm_id: int | None = Field(description="The deal's, contact's or company's id in amoCRM.")
    action: str | None = Field(description="What the sync did: created, updated, matched, guarded, creating.")


class InquirySyncState(DeferredModel):
    inquiry_id: str
    type: str = Field(description="form, phone, chat or offline.")
    state: str = Field(description="pending, waiting, synced, expired or failed.")
    first_seen_at: str | None
    window_until: str | None = Field(description="Until when updates are sent (three hours after it was known).")
    entities: dict[str, EntityState]


class Choice(DeferredModel):
    id: int
    name: str


class PipelineChoice(Choice):
    statuses: list[Choice]


class FieldChoice(Choice):
    type: str
    code: str | None = None


class ParameterChoice(DeferredModel):
    param: str
    title: str


class CrmSyncOptions(DeferredModel):
    users: list[Choice] = Field(description="«Ответственный»: the account's active users.")
    pipelines: list[PipelineChoice] = Field(description="Pipelines with their open statuses («Статус воронки»).")
    fields: dict[str, list[FieldChoice]] = Field(
        description="The account's fields per entity (deal, contact, company)."
    )
    parameters: list[ParameterChoice] = Field(description="The 18 parameters of seed 002 that can be mapped.")


def _require_amocrm(connector: Connector) -> None:
    if connector.vendor != Vendor.AMOCRM:
        raise InvalidRequest(f"connector {connector.id} is a {connector.vendor.value} connector, not amoCRM")


def sync_status(connector: Connector, store: CrmSyncStore | None = None) -> CrmSyncStatus:
    _require_amocrm(connector)
    store = store or CrmSyncStore()
    account = store.account(connector.id)
    states: Counter[str] = Counter({name: 0 for name in (PENDING, WAITING, SYNCED, EXPIRED, FAILED)})
    actions: Counter[str] = Counter({name: 0 for name in ("created", "updated", "matched", "guarded")})
    for item in store.inquiries(connector.id):
        states[str(item.get("state"))] += 1
        for entity in (item.get("entities") or {}).values():
            # an entity the sync created counts as created even after its later updates
            action = "created" if entity.get("created") else entity.get("action")
            if action in actions:
                actions[action] += 1
    return CrmSyncStatus(
        connector_id=connector.id,
        enabled=lead_sync_of(connector.settings).enabled,
        config_error=account.get("config_error"),
        cooling_down_until=_iso(account.get("cool_until")),
        inquiries=dict(states),
        entities=dict(actions),
        last_errors=[
            SyncError(at=_iso(entry.get("at")), error_class=str(entry.get("class")), message=str(entry.get("message")))
            for entry in account.get("last_errors") or []
        ],
    )


def inquiry_state(connector: Connector, inquiry_id: str, store: CrmSyncStore | None = None) -> InquirySyncState | None:
    _require_amocrm(connector)
    item = (store or CrmSyncStore()).get_inquiry(connector.id, inquiry_id)
    if item is None:
        return None
    return InquirySyncState(
        inquiry_id=inquiry_id,
        type=str(item["inquiry"]["type"]),
        state=str(item["state"]),
        first_seen_at=_iso(item.get("first_seen_at")),
        window_until=_iso(item.get("window_until")),
        entities={
            name: EntityState(amocrm_id=entity.get("id"), action=entity.get("action"))
            for name, entity in (item.get("entities") or {}).items()
        },
    )


def sync_options(connector: Connector) -> CrmSyncOptions:
    """Read from the account now (the client refreshes and stores tokens as the sync does)."""
    from leadhub.crm_sync.account import AmoAccount  # the amoCRM client: only this route calls the account

    _require_amocrm(connector)
    client = AmoAccount(connector.id).fresh()
    return CrmSyncOptions(
        users=[Choice(id=user.id, name=user.name) for user in client.list_users() if user.is_active],
        pipelines=[
            PipelineChoice(
                id=pipeline.id,
                name=pipeline.name,
                statuses=[
                    Choice(id=status.id, name=status.name) for status in pipeline.statuses if not status.is_closed
                ],
            )
            for pipeline in client.list_pipelines()
            if not pipeline.is_archive
        ],
        fields={
            entity.value: [
                FieldChoice(id=field.id, name=field.name, type=field.type, code=field.code)
                for field in client.list_custom_fields(entity.amo)
            ]
            for entity in Entity
        },
        parameters=[ParameterChoice(param=param.value, title=title) for param, title in PARAM_TITLES.items()],
    )
