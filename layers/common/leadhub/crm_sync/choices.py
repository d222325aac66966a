"""A lead-sync setting names what the amoCRM account has: checked when it is saved, so a wrong id is a
422 naming the setting, not a sync that fails for every inquiry later.

Only what the change touched is checked, so saving an unrelated setting never calls amoCRM; the source
connectors are the project's own, checked without a call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from leadhub.errors import InvalidRequest
from leadhub.models.connector import Connector
from leadhub.models.lead_sync import Entity, LeadSync, lead_sync_of
from leadhub.models.settings import Vendor
from leadhub.store.connectors import ConnectorStore

if TYPE_CHECKING:
    from leadhub.vendors.amocrm import AmoPipeline


def check_choices(connector: Connector, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    """Raise InvalidRequest (field `lead_sync.…`) when the new lead-sync settings name what is not there."""
    before, after = lead_sync_of(dict(old)), lead_sync_of(dict(new))
    _check_sources(connector, before, after)
    user_changed = after.responsible_user_id != before.responsible_user_id
    pipeline_changed = (after.pipeline_id, after.status_id) != (before.pipeline_id, before.status_id)
    new_fields = _existing_ids(after) - _existing_ids(before)
    if not (user_changed or pipeline_changed or new_fields):
        return
    from leadhub.crm_sync.account import AmoAccount  # the amoCRM client: only a changed choice calls it

    client = AmoAccount(connector.id).fresh()
    if user_changed and after.responsible_user_id is not None:
        users = {user.id for user in client.list_users() if user.is_active}
        if after.responsible_user_id not in users:
            raise InvalidRequest(
                f"no active user {after.responsible_user_id} in this amoCRM account: pick one of "
                f"GET /connectors/{connector.id}/crm-sync/options",
                field="lead_sync.responsible_user_id",
            )
    if pipeline_changed and (after.pipeline_id is not None or after.status_id is not None):
        _check_pipeline(connector.id, after, client.list_pipelines())
    for entity, param, field_id in sorted(new_fields):
        if field_id not in {field.id for field in client.list_custom_fields(Entity(entity).amo)}:
            raise InvalidRequest(
                f"no {Entity(entity).amo} field {field_id} in this amoCRM account: pick one of "
                f"GET /connectors/{connector.id}/crm-sync/options, or set the mode to `new`",
                field=f"lead_sync.fields.{entity}.{param}.field_id",
            )


def _existing_ids(sync: LeadSync) -> set[tuple[str, str, int]]:
    return {
        (entity.value, param.value, target.field_id)
        for entity, targets in sync.fields.items()
        for param, target in targets.items()
        if target.mode == "existing" and target.field_id is not None
    }


def _check_pipeline(connector_id: str, sync: LeadSync, pipelines: list[AmoPipeline]) -> None:
    options = f"pick one of GET /connectors/{connector_id}/crm-sync/options"
    open_pipelines = {pipeline.id: pipeline for pipeline in pipelines if not pipeline.is_archive}
    if sync.pipeline_id is not None and sync.pipeline_id not in open_pipelines:
        raise InvalidRequest(
            f"no open pipeline {sync.pipeline_id} in this amoCRM account: {options}", field="lead_sync.pipeline_id"
        )
    if sync.status_id is None:
        return
    # without a pipeline, new deals go to the account's main one
    chosen = [open_pipelines[sync.pipeline_id]] if sync.pipeline_id is not None else list(open_pipelines.values())
    if sync.pipeline_id is None:
        chosen = [pipeline for pipeline in chosen if pipeline.is_main] or chosen
    statuses = {status.id for pipeline in chosen for status in pipeline.statuses if not status.is_closed}
    if sync.status_id not in statuses:
        where = f"pipeline {sync.pipeline_id}" if sync.pipeline_id is not None else "the main pipeline"
        raise InvalidRequest(
            f"no open status {sync.status_id} in {where} of this amoCRM account: {options}",
            field="lead_sync.status_id",
        )


def _check_sources(connector: Connector, before: LeadSync, after: LeadSync) -> None:
    added = [source for source in after.source_connector_ids if source not in before.source_connector_ids]
    if not added:
        return
    project = {
        found.id
        for found in ConnectorStore().list_connectors(connector.account_id, connector.project_id)
        if found.vendor is not Vendor.AMOCRM
    }
    for position, source in enumerate(after.source_connector_ids):
        if source in added and source not in project:
            raise InvalidRequest(
                f"connector {source} is not a connector of this project that extracts inquiries",
                field=f"lead_sync.source_connector_ids[{position}]",
            )
