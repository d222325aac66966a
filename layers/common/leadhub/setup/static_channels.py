"""The «Выгрузить» button and its way back: static channels as an XLSX in S3 behind a presigned
link, and an XLSX (uploaded through a presigned link or sent as the body) that replaces the list.
An import with any bad row changes nothing and names every bad row."""

from __future__ import annotations

import uuid
from typing import Any

from leadhub.connectors.registry import spec_for
from leadhub.errors import InvalidRequest
from leadhub.exports.links import Link, publish_xlsx, upload_xlsx_link, uploaded
from leadhub.exports.static_channels import export_static_channels, import_static_channels
from leadhub.models.base import DeferredModel
from leadhub.models.settings import StaticChannel, Vendor
from leadhub.setup.connectors import Connectors, ConnectorView
from leadhub.store.objects import ObjectStore

#: 5000 channels take well under 1 MB; anything much larger is not a channel list.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


class ImportOutcome(DeferredModel):
    connector: ConnectorView
    channels: int


class ImportRejected(InvalidRequest):
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        super().__init__(f"the file has {len(rows)} invalid row(s); nothing was changed", field="file", rows=rows)


def _channel_vendor(connector: ConnectorView) -> Vendor:
    if spec_for(connector.vendor).channel_value_label is None:
        raise InvalidRequest(f"{connector.vendor.value} connectors have no static channels", field="connector")
    return connector.vendor


class StaticChannels:
    def __init__(self, connectors: Connectors | None = None, objects: ObjectStore | None = None) -> None:
        self.connectors = connectors or Connectors()
        self.objects = objects or ObjectStore()

    def export(self, account_id: str, connector_id: str) -> Link:
        connector = self.connectors.get(account_id, connector_id)
        vendor = _channel_vendor(connector)
        channels = [StaticChannel.model_validate(c) for c in connector.settings.get("static_channels", [])]
        data = export_static_channels(vendor, channels, connector_name=connector.name)
        return publish_xlsx(
            data,
            owner=f"{account_id}/{connector_id}",
            name=f"static-channels-{vendor.value}",
            rows=len(channels),
            objects=self.objects,
        )

    def upload_link(self, account_id: str, connector_id: str) -> Link:
        _channel_vendor(self.connectors.get(account_id, connector_id))
        return upload_xlsx_link(f"uploads/{account_id}/{connector_id}/{uuid.uuid4().hex}.xlsx", self.objects)

    def import_upload(self, account_id: str, connector_id: str, key: str) -> ImportOutcome:
        self.connectors.get(account_id, connector_id)  # another account's connector: 404 before anything else
        data = uploaded(key, f"uploads/{account_id}/{connector_id}/", self.objects)
        return self.import_file(account_id, connector_id, data)

    def import_file(self, account_id: str, connector_id: str, data: bytes) -> ImportOutcome:
        connector = self.connectors.get(account_id, connector_id)
        vendor = _channel_vendor(connector)
        if len(data) > MAX_UPLOAD_BYTES:
            raise InvalidRequest(f"the file is over {MAX_UPLOAD_BYTES // 1024 // 1024} MB", field="file")
        try:
            result = import_static_channels(vendor, data)
        except ValueError as exc:
            raise InvalidRequest(str(exc), field="file") from None
        if result.errors:
            raise ImportRejected([error.model_dump() for error in result.errors])
        channels = [channel.model_dump() for channel in result.channels]
        updated = self.connectors.update_settings(account_id, connector_id, {"static_channels": channels})
        return ImportOutcome(connector=updated, channels=len(channels))
