"""Files handed to users through short-lived presigned links: XLSX exports out, uploads in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from leadhub.clock import utc_iso
from leadhub.errors import InvalidRequest
from leadhub.models.base import DeferredModel
from leadhub.settings import get_settings
from leadhub.store import errors
from leadhub.store.objects import ObjectStore

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Link(DeferredModel):
    url: str
    expires_at: str
    filename: str | None = None
    key: str | None = None
    method: str = "GET"
    content_type: str | None = None
    rows: int | None = None


def _expiry(seconds: int) -> str:
    return utc_iso(datetime.now(UTC) + timedelta(seconds=seconds))


def publish_xlsx(data: bytes, *, owner: str, name: str, rows: int, objects: ObjectStore | None = None) -> Link:
    """Store an export under `exports/<owner>/…` (a lifecycle rule expires it) and link to it.
    `name` is the file name without its time stamp and extension."""
    objects = objects or ObjectStore()
    ttl = get_settings().presigned_url_ttl_seconds
    filename = f"{name}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.xlsx"
    key = f"exports/{owner}/{uuid.uuid4().hex}/{filename}"
    objects.put(key, data, content_type=XLSX)
    url = objects.download_url(key, filename=filename, expires_in=ttl)
    return Link(url=url, expires_at=_expiry(ttl), filename=filename, rows=rows)


def upload_xlsx_link(key: str, objects: ObjectStore | None = None) -> Link:
    """A link to PUT an XLSX to `key`."""
    objects = objects or ObjectStore()
    ttl = get_settings().presigned_url_ttl_seconds
    url = objects.upload_url(key, content_type=XLSX, expires_in=ttl)
    return Link(url=url, expires_at=_expiry(ttl), key=key, method="PUT", content_type=XLSX)


def uploaded(key: str, prefix: str, objects: ObjectStore | None = None) -> bytes:
    """What was PUT to an upload link under `prefix`; a key of another owner, or one nothing was
    uploaded to, is refused naming `upload_key`."""
    if not key.startswith(prefix):
        raise InvalidRequest("upload_key does not belong to this connector", field="upload_key")
    try:
        return (objects or ObjectStore()).get(key)
    except errors.NotFound:
        raise InvalidRequest("nothing was uploaded under upload_key", field="upload_key") from None
