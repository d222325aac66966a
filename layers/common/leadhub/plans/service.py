"""What the API does with plan imports: check the rows, refuse or store them, start the sender,
and show where an import got to.

Nothing is sent for an import with any invalid row unless the user asks to send the valid rows
(`send_valid_only`); then the invalid ones are listed in the result as never sent. The same rows
submitted again (a JSON body or the same file) find the first import instead of a second one: the
import is keyed by the SHA-256 of the rows it sends.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from leadhub.clock import utc_iso, utc_now
from leadhub.errors import InvalidRequest
from leadhub.exports.links import Link, publish_xlsx, upload_xlsx_link, uploaded
from leadhub.exports.xlsx import SpreadsheetError
from leadhub.models.base import DeferredModel
from leadhub.models.settings import Vendor
from leadhub.plans import sheets
from leadhub.plans.model import ChunkState, ImportState, PlanImport
from leadhub.plans.validate import Checked, Violation, check_items
from leadhub.settings import get_settings
from leadhub.store import errors
from leadhub.store.connectors import ConnectorStore
from leadhub.store.objects import ObjectStore
from leadhub.store.plan_imports import PlanImportStore

#: 10 000 rows of the template take about 400 KB; anything much larger is not a plan sheet.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
#: Rows of one import: 1 000 chunks, about 3½ minutes of Calltouch's 5 requests a second.
MAX_ITEMS = 100_000


class Progress(DeferredModel):
    chunks: int = Field(description="Chunks of ≤ 100 rows the sent rows make.")
    chunks_sent: int = Field(description="Chunks `plans-import/add` accepted (confirmed or still being checked).")
    chunks_confirmed: int = Field(description="Chunks whose import log answered `success`.")
    chunks_failed: int = Field(description="Chunks refused by Calltouch, answered `error`, or out of retries.")
    items: int = Field(description="Rows submitted.")
    items_skipped: int = Field(description="Invalid rows left out (`send_valid_only`): never sent.")
    items_confirmed: int = Field(description="Rows in confirmed chunks.")
    items_failed: int = Field(description="Rows in failed chunks.")


class ChunkView(DeferredModel):
    number: int = Field(description="1-based, in the order of the rows.")
    state: ChunkState
    rows: int
    import_log_id: int | None = Field(description="Calltouch's import log id, once `plans-import/add` accepted it.")
    error: str | None = None
    violations: list[dict[str, Any]] = Field(
        default_factory=list, description="Calltouch's own violations, `fieldPath` naming the submitted rows."
    )


class PlanImportView(DeferredModel):
    id: str
    connector_id: str
    state: ImportState = Field(
        description="queued → sending → polling → done; waiting: Calltouch's daily API points are spent and "
        "the import resumes at `resume_at`; failed: stopped for good, `last_error` says why."
    )
    source: str = Field(description="`items` (a JSON body) or `xlsx` (an uploaded file).")
    progress: Progress
    chunks: list[ChunkView]
    duplicate: bool = Field(
        default=False, description="True: the same rows were submitted before, and this is that import."
    )
    resume_at: str | None = Field(default=None, description="When an import waiting for API points resumes.")
    last_error: str | None = None
    result: Link | None = Field(default=None, description="At the end: the rows with a status each, as an XLSX.")
    created_at: str
    updated_at: str


class PlanImportRejected(InvalidRequest):
    """Rows break seed 004's rules: nothing was sent; `violations` names each one."""

    def __init__(self, violations: list[Violation]) -> None:
        rows = len({v.item for v in violations if v.item is not None})
        super().__init__(
            f"{rows or 'the'} row(s) break Calltouch's rules; nothing was sent. Fix them, or send again with "
            '"send_valid_only": true to import only the valid rows',
            field="items",
            violations=[v.model_dump(exclude_none=True) for v in violations],
        )


class PlanImports:
    def __init__(
        self,
        connectors: ConnectorStore | None = None,
        store: PlanImportStore | None = None,
        objects: ObjectStore | None = None,
    ) -> None:
        self.connectors = connectors or ConnectorStore()
        self.objects = objects or ObjectStore()
        self.store = store or PlanImportStore(objects=self.objects)

    def check_connector(self, account_id: str, connector_id: str) -> None:
        """NotFound for another account's connector; 422 for another vendor's."""
        connector = self.connectors.get_connector(account_id, connector_id)
        if connector.vendor is not Vendor.CALLTOUCH:
            raise InvalidRequest(
                f"plan imports go to Calltouch: this is a {connector.vendor.value} connector", field="connector_id"
            )

    # --- input ---------------------------------------------------------------------------------
    def submit_items(
        self, account_id: str, connector_id: str, items: list[Any], *, send_valid_only: bool
    ) -> PlanImportView:
        self.check_connector(account_id, connector_id)
        return self._submit(
            account_id,
            connector_id,
            source="items",
            items=items,
            sheet_rows=None,
            checked=check_items(items),
            send_valid_only=send_valid_only,
        )

    def template_link(self, account_id: str, connector_id: str) -> Link:
        """The empty template (exports.links: under `exports/`, expiring like every export)."""
        self.check_connector(account_id, connector_id)
        owner = f"{account_id}/{connector_id}"
        return publish_xlsx(
            sheets.template(), owner=owner, name="calltouch-plan-template", rows=0, objects=self.objects
        )

    def upload_link(self, account_id: str, connector_id: str) -> Link:
        self.check_connector(account_id, connector_id)
        return upload_xlsx_link(f"uploads/{account_id}/{connector_id}/plans/{uuid.uuid4().hex}.xlsx", self.objects)

    def submit_upload(self, account_id: str, connector_id: str, key: str, *, send_valid_only: bool) -> PlanImportView:
        self.check_connector(account_id, connector_id)
        data = uploaded(key, f"uploads/{account_id}/{connector_id}/plans/", self.objects)
        if len(data) > MAX_UPLOAD_BYTES:
            raise InvalidRequest(f"the file is over {MAX_UPLOAD_BYTES // 1024 // 1024} MB", field="upload_key")
        try:
            sheet = sheets.read_items(data)
        except SpreadsheetError as problem:
            raise InvalidRequest(str(problem), field="upload_key") from None
        checked = check_items(sheet.items)
        checked.violations = sheet.locate(checked.violations)
        return self._submit(
            account_id,
            connector_id,
            source="xlsx",
            items=sheet.items,
            sheet_rows=sheet.rows,
            checked=checked,
            send_valid_only=send_valid_only,
        )

    def _submit(
        self,
        account_id: str,
        connector_id: str,
        *,
        source: str,
        items: list[Any],
        sheet_rows: list[int] | None,
        checked: Checked,
        send_valid_only: bool,
    ) -> PlanImportView:
        if len(items) > MAX_ITEMS:
            raise InvalidRequest(f"one import takes at most {MAX_ITEMS} rows: split the plan", field="items")
        if checked.violations and not (send_valid_only and checked.valid):
            raise PlanImportRejected(checked.violations)
        send = sorted(checked.valid)
        wire = [checked.valid[index] for index in send]
        content_hash = hashlib.sha256(
            json.dumps(wire, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()
        import_id = self.store.claim_hash(connector_id, content_hash, f"pi-{uuid.uuid4().hex[:16]}")
        try:
            return self._view(PlanImport.model_validate(self.store.get(import_id)), duplicate=True)
        except errors.NotFound:
            pass  # ours, or one whose creation died after claiming the rows: (re)create it under that id
        # the sending job and its Calltouch client: the API's other routes never load them
        from leadhub.plans.job import chunked, start

        now = utc_now()
        record = PlanImport(
            id=import_id,
            account_id=account_id,
            connector_id=connector_id,
            source=source,
            content_hash=content_hash,
            total_items=len(items),
            skipped_items=len(items) - len(send),
            chunks=chunked(len(send)),
            created_at=now,
            updated_at=now,
        )
        rows = {
            "items": items,
            "rows": sheet_rows,
            "send": send,
            "wire": wire,
            "violations": [v.model_dump() for v in checked.violations],
        }
        stored = PlanImport.model_validate(self.store.create(record.model_dump(mode="json", exclude_none=True), rows))
        start(import_id)
        return self._view(stored)

    # --- output --------------------------------------------------------------------------------
    def get(self, account_id: str, import_id: str) -> PlanImportView:
        record = PlanImport.model_validate(self.store.get(import_id))
        if record.account_id != account_id:
            raise errors.NotFound(f"plan import {import_id}")
        return self._view(record)

    def _view(self, record: PlanImport, *, duplicate: bool = False) -> PlanImportView:
        def rows_in(*states: ChunkState) -> int:
            return sum(chunk.count for chunk in record.chunks_in(*states))

        progress = Progress(
            chunks=len(record.chunks),
            chunks_sent=len(record.chunks_in(ChunkState.SENT, ChunkState.CONFIRMED))
            + len([c for c in record.chunks_in(ChunkState.FAILED) if c.import_log_id is not None]),
            chunks_confirmed=len(record.chunks_in(ChunkState.CONFIRMED)),
            chunks_failed=len(record.chunks_in(ChunkState.FAILED)),
            items=record.total_items,
            items_skipped=record.skipped_items,
            items_confirmed=rows_in(ChunkState.CONFIRMED),
            items_failed=rows_in(ChunkState.FAILED),
        )
        return PlanImportView(
            id=record.id,
            connector_id=record.connector_id,
            state=record.state,
            source=record.source,
            progress=progress,
            chunks=[
                ChunkView(
                    number=chunk.number + 1,
                    state=chunk.state,
                    rows=chunk.count,
                    import_log_id=chunk.import_log_id,
                    error=chunk.error,
                    violations=chunk.violations,
                )
                for chunk in record.chunks
            ],
            duplicate=duplicate,
            resume_at=_iso(record.resume_at) if record.state is ImportState.WAITING else None,
            last_error=record.last_error,
            result=self._result_link(record),
            created_at=record.created_at,
            updated_at=record.updated_at,
        )

    def _result_link(self, record: PlanImport) -> Link | None:
        if record.result_key is None:
            return None
        ttl = get_settings().presigned_url_ttl_seconds
        url = self.objects.download_url(record.result_key, filename=record.result_filename, expires_in=ttl)
        return Link(url=url, expires_at=_iso_in(ttl), filename=record.result_filename, rows=record.total_items)


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return utc_iso(datetime.fromtimestamp(epoch, UTC))


def _iso_in(seconds: int) -> str:
    return _iso(time.time() + seconds) or ""
