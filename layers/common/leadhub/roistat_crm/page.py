"""The page Roistat's server calls: one URL per project, the parameters from the query (and a form or
JSON body, if any), the answer in the page's format.

Order of checks: the project must have a page (404), the project's request budget must allow it
(429), `user` and `token` must match (401) — only then is anything else read, so a caller without
the credentials learns nothing about the parameters or the data. Every refusal answers
`{"status": "error", "error": …}` and no data; the log line names the project, the action and the
status, never the token.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from leadhub.observability import logger
from leadhub.roistat_crm import shapes
from leadhub.roistat_crm.config import CrmSettings, crm_settings
from leadhub.roistat_crm.export import Exports
from leadhub.roistat_crm.management import page_secret
from leadhub.roistat_crm.protocol import PAGED, PageError, PageRequest, authentic, parse
from leadhub.roistat_crm.push import Records
from leadhub.roistat_crm.records import unix_seconds
from leadhub.store.crm import CrmStore
from leadhub.store.crm_exports import SnapshotObjects
from leadhub.store.secrets import SecretStore

#: Credentials read from Secrets Manager, per project and page version: a rotation is seen at once.
_CREDENTIALS: dict[str, tuple[str, str, str]] = {}


@dataclass
class Answer:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


class ExportPage:
    def __init__(
        self,
        store: CrmStore | None = None,
        secrets: SecretStore | None = None,
        settings: CrmSettings | None = None,
        objects: SnapshotObjects | None = None,
    ) -> None:
        self.store = store or CrmStore()
        self.secrets = secrets or SecretStore()
        self.settings = settings or crm_settings()
        self.objects = objects

    def answer(self, project_id: str, params: Mapping[str, str]) -> Answer:
        fmt = shapes.JSON
        action = params.get("action", "")[:20]
        try:
            page = self.store.page(project_id)
            if page is None:
                raise PageError(HTTPStatus.NOT_FOUND, "unknown project: it has no Roistat export page")
            fmt = page.get("format", shapes.JSON)
            self._throttle(project_id)
            login, password = self._credentials(project_id, page)
            if not authentic(params, login, password):
                raise PageError(
                    HTTPStatus.UNAUTHORIZED, "authentication failed: check user and token = md5(user . password)"
                )
            request = parse(params)
            fmt = request.format or fmt
            body = self._serve(project_id, page, request, params, fmt)
        except PageError as refusal:
            logger.info(
                "roistat page refused",
                extra={"project_id": project_id, "action": action, "status": refusal.status.value},
            )
            headers = {"Retry-After": str(refusal.retry_after)} if refusal.retry_after else {}
            values = {"status": "error", "error": refusal.message}
            return Answer(refusal.status.value, shapes.message(fmt, values), shapes.CONTENT_TYPES[fmt], headers)
        logger.info(
            "roistat page answered", extra={"project_id": project_id, "action": request.action, "bytes": len(body)}
        )
        return Answer(HTTPStatus.OK.value, body, shapes.CONTENT_TYPES[fmt])

    def _throttle(self, project_id: str) -> None:
        window = int(time.time()) // 60
        if not self.store.take_slot(project_id, window, self.settings.requests_per_minute, (window + 2) * 60):
            retry = (window + 1) * 60 - int(time.time())
            raise PageError(
                HTTPStatus.TOO_MANY_REQUESTS,
                "too many requests for this project: retry later",
                retry_after=max(1, retry),
            )

    def _credentials(self, project_id: str, page: dict[str, Any]) -> tuple[str, str]:
        version = str(page.get("rotated_at", ""))
        cached = _CREDENTIALS.get(project_id)
        if cached is None or cached[0] != version:
            secret = self.secrets.get(page_secret(project_id))
            cached = (version, str(secret["login"]), str(secret["password"]))
            _CREDENTIALS[project_id] = cached
        return cached[1], cached[2]

    def _serve(
        self, project_id: str, page: dict[str, Any], request: PageRequest, params: Mapping[str, str], fmt: str
    ) -> bytes:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        if request.action in PAGED:
            self.store.note_pull(project_id, request.action, now)
            return Exports(self.store, self.settings, self.objects).answer(project_id, request, fmt)
        if request.action == "import_scheme":
            self.store.note_pull(project_id, request.action, now)
            result = shapes.Page(fmt)
            for kind, store_kind in (("statuses", "STATUS"), ("fields", "FIELD"), ("managers", "MANAGER")):
                lines = [
                    shapes.record_line(shapes.plain_values(r), kind, fmt)
                    for r in self.store.all(store_kind, project_id)
                ]
                result.records(kind, lines)
            return result.body()
        if request.action == "lead":
            return shapes.message(fmt, {"status": "ok", "order_id": self._lead(project_id, page, params)})
        # message, task, call: Roistat's notifications about a deal; acknowledged, nothing to keep
        return shapes.message(fmt, {"status": "ok"})

    def _lead(self, project_id: str, page: dict[str, Any], params: Mapping[str, str]) -> str:
        """A deal (and its client) from a lead Roistat pushes; its id is what `orders` will show."""
        lead_id = params.get("id", "").strip()[:48]
        order_id = f"roistat-{lead_id or uuid.uuid4().hex}"
        if lead_id and self.store.get("DEAL", project_id, order_id) is not None:
            return order_id  # sent again: the deal stays as the CRM has moved it since
        try:
            created = unix_seconds(params["createdDate"]) if params.get("createdDate") else int(time.time())
        except ValueError:
            raise PageError(HTTPStatus.BAD_REQUEST, "`createdDate` must be `Y-m-d H:i:s` (UTC) or unix time") from None
        deal: dict[str, Any] = {
            "id": order_id,
            "name": (params.get("title") or params.get("text") or "Заявка Roistat")[:1000],
            "date_create": created,
            "status": page.get("lead_status") or "new",
        }
        extra = _lead_data(params.get("data", ""))
        visit = params.get("visit") or extra.get("roistat") or extra.get("roistat_visit")
        if visit:
            deal["roistat"] = visit[:1000]
        if params.get("managerId"):
            deal["manager_id"] = params["managerId"][:64]
        fields = {**extra, **({"text": params["text"][:1000]} if params.get("text") else {})}
        if fields:
            deal["fields"] = dict(list(fields.items())[:100])
        contact = {key: params[key][:1000] for key in ("name", "phone", "email") if params.get(key)}
        records = Records(self.store)
        if contact:
            client = {"id": order_id, "name": contact.get("name", ""), **contact}
            if not records.upsert("clients", project_id, [client]).refused:
                deal["client_id"] = order_id
        result = records.upsert("deals", project_id, [deal])
        if result.refused:
            problems = "; ".join(f"{p.field}: {p.problem}" for item in result.refused for p in item.problems)
            raise PageError(HTTPStatus.BAD_REQUEST, f"the lead cannot become a deal: {problems}")
        return order_id


def _lead_data(text: str) -> dict[str, str]:
    """The lead's `data` (JSON of its extra fields: the visit, the page, a form's fields) as text fields;
    anything unreadable is left out rather than losing the lead."""
    try:
        document = json.loads(text) if text else {}
    except ValueError:
        return {}
    if not isinstance(document, dict):
        return {}
    return {
        str(key)[:200]: str(value)[:1000]
        for key, value in document.items()
        if str(key) and isinstance(value, str | int | float) and not isinstance(value, bool)
    }
