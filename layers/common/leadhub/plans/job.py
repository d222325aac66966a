"""Sending a plan import: the chunks to `plans-import/add`, then each import log polled until
Calltouch says `success` or `error`, then the result file — as a job that holds the import's lease,
works within its invocation's time and continues itself (the same model as `leadhub.jobs`).

- Pace: every request takes a slot of the shared per-IP limiter (leadhub.egress) first.
- Retries: the transport retries a per-second 429 at once; a chunk that fails transiently (5xx,
  timeout, a dropped connection) is sent again up to `MAX_CHUNK_ATTEMPTS` times — a plan row is a
  value for a period and slice, so sending it twice sets the same plan. Refusals are not retried:
  Calltouch's violations are moved back onto the submitted rows.
- The daily API points (seed 004): when Calltouch says they are spent, the import stops, says so and
  when it resumes; the plan-import function's schedule picks it up after `resume_at`.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from leadhub.clock import utc_now
from leadhub.egress import calltouch_slots
from leadhub.jobs.dispatch import PLAN_IMPORT_TARGET, can_dispatch, dispatch
from leadhub.observability import logger
from leadhub.plans import sheets
from leadhub.plans.model import Chunk, ChunkState, ImportState, PlanImport
from leadhub.redaction import redact
from leadhub.settings import get_settings
from leadhub.store import errors as store_errors
from leadhub.store.objects import ObjectStore
from leadhub.store.plan_imports import PlanImportStore
from leadhub.store.secrets import SecretStore
from leadhub.vendors import errors as vendor_errors
from leadhub.vendors.calltouch import (
    MAX_PLAN_ITEMS,
    STATUS_ERROR,
    CalltouchClient,
    PlanValidationError,
    PointsExhausted,
)

SAFETY_MS = 30_000
LEASE_SECONDS = 900
MAX_CHUNK_ATTEMPTS = 3
#: Status polls: the first a second after the chunk was accepted, then doubling up to the cap.
FIRST_POLL_SECONDS = 1.0
MAX_POLL_SECONDS = 60.0
#: Polls of one import log before Leadhub gives up on it (≈ 3 hours at the cap).
MAX_POLLS = 200
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_ITEM_PATH = re.compile(r"^items\[(\d+)\]")

STATUS_IMPORTED = "импортирована"
STATUS_REJECTED = "отклонена Calltouch"
STATUS_CHUNK_REJECTED = "не импортирована: пакет отклонён"
STATUS_IMPORT_ERROR = "ошибка импорта Calltouch"
STATUS_INVALID = "не отправлена: ошибка в строке"
STATUS_NOT_SENT = "не отправлена"

ClientFactory = Callable[[PlanImport], CalltouchClient]


def default_client(record: PlanImport) -> CalltouchClient:
    secret = SecretStore().get(record.connector_id)
    return CalltouchClient(
        str(secret["access_token"]),
        str(secret["site_id"]),
        base_url=get_settings().calltouch_base_url,
        limiter=calltouch_slots(),
    )


def chunked(rows: int, size: int = MAX_PLAN_ITEMS) -> list[Chunk]:
    return [
        Chunk(number=number, first=start, count=min(size, rows - start))
        for number, start in enumerate(range(0, rows, size))
    ]


def submitted(chunk: Chunk, rows: dict[str, Any]) -> list[int]:
    """The indexes (in the submitted `items`) of the rows a chunk carries, in order."""
    send: list[int] = rows["send"]
    return send[chunk.first : chunk.first + chunk.count]


def payload(import_id: str) -> dict[str, Any]:
    return {"plan_import": {"id": import_id}}


def start(import_id: str) -> str:
    """Start (or continue) the import elsewhere; answers how it was started."""
    return dispatch(payload(import_id), PLAN_IMPORT_TARGET) if can_dispatch(PLAN_IMPORT_TARGET) else "queued"


class _Stop(Exception):
    """The sender stops this invocation; the record says why."""


@dataclass
class Sender:
    record: PlanImport
    rows: dict[str, Any]
    client: CalltouchClient
    store: PlanImportStore
    remaining_ms: Callable[[], int]
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    objects: ObjectStore = field(default_factory=ObjectStore)

    def run(self) -> PlanImport:
        self.record.state, self.record.resume_at = ImportState.SENDING, None
        self.record.invocations += 1
        self._save()
        try:
            while not self.record.finished:
                if self.remaining_ms() < SAFETY_MS:
                    return self.record  # the caller continues it in a new invocation
                self._step()
        except _Stop:
            pass
        return self.record

    def _step(self) -> None:
        pending = self.record.chunks_in(ChunkState.PENDING)
        if pending:
            self._send(pending[0])
            return
        sent = self.record.chunks_in(ChunkState.SENT)
        if not sent:
            self._finish()
            return
        if self.record.state is not ImportState.POLLING:
            self.record.state = ImportState.POLLING
            self._save()
        chunk = min(sent, key=lambda c: c.next_poll_at or 0.0)
        wait = (chunk.next_poll_at or 0.0) - self.clock()
        if wait > 0:
            self.sleep(min(wait, max(0.0, (self.remaining_ms() - SAFETY_MS) / 1000)))
            return
        self._poll(chunk)

    # --- sending ---------------------------------------------------------------------------------
    def _send(self, chunk: Chunk) -> None:
        wire = self.rows["wire"][chunk.first : chunk.first + chunk.count]
        try:
            chunk.import_log_id = self.client.add_plan_chunk(wire)
        except PlanValidationError as refused:
            chunk.state, chunk.error = ChunkState.FAILED, refused.message
            chunk.violations = [
                _moved(v, submitted(chunk, self.rows), self.rows.get("rows")) for v in refused.violations
            ]
        except PointsExhausted as spent:
            self._wait_for_points(spent)
        except vendor_errors.ConfigError as refused:
            self._fail(refused)
        except (vendor_errors.TransientError, vendor_errors.MalformedResponse) as failure:
            chunk.attempts += 1
            chunk.error = failure.message
            if chunk.attempts >= MAX_CHUNK_ATTEMPTS:
                chunk.state = ChunkState.FAILED
            else:
                self.sleep(min(MAX_POLL_SECONDS, 2.0**chunk.attempts))
        except vendor_errors.VendorError as refused:
            # refused as a whole (seed 004 error 2, say): that chunk fails, the others still go
            chunk.state, chunk.error = ChunkState.FAILED, refused.message
        else:
            chunk.state, chunk.error = ChunkState.SENT, None
            chunk.next_poll_at = self.clock() + FIRST_POLL_SECONDS
        self._save()

    # --- polling ---------------------------------------------------------------------------------
    def _poll(self, chunk: Chunk) -> None:
        assert chunk.import_log_id is not None
        try:
            status = self.client.import_status(chunk.import_log_id)
        except PointsExhausted as spent:
            self._wait_for_points(spent)
        except vendor_errors.ConfigError as refused:
            self._fail(refused)
        except vendor_errors.VendorError as failure:
            self._poll_later(chunk, failure.message)
        else:
            if status.succeeded:
                chunk.state, chunk.error = ChunkState.CONFIRMED, None
            elif status.status == STATUS_ERROR:
                chunk.state, chunk.error = ChunkState.FAILED, "Calltouch: ошибка импорта данных (status: error)"
                chunk.failed_rows = _failed_rows(status.items)
            else:
                self._poll_later(chunk, None)
        self._save()

    def _poll_later(self, chunk: Chunk, error: str | None) -> None:
        chunk.polls += 1
        chunk.error = error
        if chunk.polls >= MAX_POLLS:
            chunk.state = ChunkState.FAILED
            chunk.error = error or "Calltouch did not finish the import in time"
            return
        chunk.next_poll_at = self.clock() + min(MAX_POLL_SECONDS, FIRST_POLL_SECONDS * 2.0**chunk.polls)

    # --- stopping --------------------------------------------------------------------------------
    def _wait_for_points(self, spent: PointsExhausted) -> None:
        self.record.state = ImportState.WAITING
        self.record.resume_at = self.clock() + (spent.retry_after or 3600.0)
        self.record.last_error = spent.explanation
        self._save()
        logger.info("plan import waits for API points", extra={"plan_import": self.record.id})
        raise _Stop

    def _fail(self, refused: vendor_errors.VendorError) -> None:
        self.record.state, self.record.last_error = ImportState.FAILED, f"{refused.message}. {refused.explanation}"
        self._write_result()
        self._save()
        raise _Stop

    def _finish(self) -> None:
        self.record.state, self.record.last_error = ImportState.DONE, None
        self._write_result()
        self._save()

    def _save(self) -> None:
        self.record.updated_at = utc_now()
        stored = self.store.save(self.record.model_dump(mode="json", exclude_none=True), finished=self.record.finished)
        # only the version changed: no need to read the whole record back between two requests
        self.record.version = stored["version"]

    # --- the result file -------------------------------------------------------------------------
    def _write_result(self) -> None:
        data = sheets.result(result_rows(self.record, self.rows))
        filename = f"plan-import-{self.record.id}.xlsx"
        key = f"exports/{self.record.account_id}/{self.record.connector_id}/plan-imports/{self.record.id}/{filename}"
        self.objects.put(key, data, content_type=XLSX)
        self.record.result_key, self.record.result_filename = key, filename


def _failed_rows(echoed: list[Any]) -> list[int] | None:
    """The chunk's rows whose own echoed `status` is `error`; None when Calltouch sent no per-row status
    (seed 004 is silent on it), and then every row of the chunk counts as failed."""
    if not echoed or not all(isinstance(row, dict) and "status" in row for row in echoed):
        return None
    return [offset for offset, row in enumerate(echoed) if row["status"] == STATUS_ERROR]


def _moved(violation: dict[str, Any], indexes: list[int], sheet_rows: list[int] | None) -> dict[str, Any]:
    """A chunk-local `items[i]` path as the submitted row's `items[N]`, with its sheet row for a file."""
    path = str(violation.get("fieldPath", ""))
    found = _ITEM_PATH.match(path)
    if found is None or int(found.group(1)) >= len(indexes):
        return violation
    index = indexes[int(found.group(1))]
    moved = {**violation, "fieldPath": f"items[{index}]{path[found.end() :]}"}
    if sheet_rows is not None:
        moved["row"] = sheet_rows[index]
    return moved


def result_rows(record: PlanImport, rows: dict[str, Any]) -> list[sheets.ResultRow]:
    """Every submitted row, in order, with what became of it."""
    checks: dict[int, list[str]] = {}
    for violation in rows.get("violations", []):
        if violation.get("item") is not None:
            checks.setdefault(int(violation["item"]), []).append(f"{violation['field']}: {violation['message']}")
    placed = {index: (chunk, offset) for chunk in record.chunks for offset, index in enumerate(submitted(chunk, rows))}
    vendor: dict[int, list[str]] = {}
    for chunk in record.chunks:
        for violation in chunk.violations:
            found = _ITEM_PATH.match(str(violation.get("fieldPath", "")))
            if found:
                vendor.setdefault(int(found.group(1)), []).append(f"{violation['fieldPath']}: {violation['message']}")
    answer = []
    sheet_rows: list[int] | None = rows.get("rows")
    for index, item in enumerate(rows["items"]):
        carrier, offset = placed.get(index, (None, 0))
        status, errors = _row_status(index, carrier, offset, checks, vendor)
        answer.append(
            sheets.ResultRow(
                item=item,
                status=status,
                chunk=carrier.number if carrier else None,
                import_log_id=carrier.import_log_id if carrier else None,
                errors=errors,
                sheet_row=sheet_rows[index] if sheet_rows else None,
            )
        )
    return answer


def _row_status(
    index: int, chunk: Chunk | None, offset: int, checks: dict[int, list[str]], vendor: dict[int, list[str]]
) -> tuple[str, list[str]]:
    if chunk is None:
        return (STATUS_INVALID, checks.get(index, [])) if index in checks else (STATUS_NOT_SENT, [])
    if chunk.state is ChunkState.CONFIRMED:
        return STATUS_IMPORTED, []
    if index in vendor:
        return STATUS_REJECTED, vendor[index]
    if chunk.state is ChunkState.FAILED and chunk.import_log_id is None:
        return (STATUS_CHUNK_REJECTED if chunk.violations else STATUS_NOT_SENT), [chunk.error or ""]
    if chunk.state is ChunkState.FAILED:
        if chunk.failed_rows is not None and offset not in chunk.failed_rows:
            return STATUS_IMPORTED, []
        return STATUS_IMPORT_ERROR, [chunk.error or ""]
    return STATUS_NOT_SENT, []


# --- one invocation --------------------------------------------------------------------------------
def run_plan_import(
    import_id: str,
    *,
    remaining_ms: Callable[[], int],
    store: PlanImportStore | None = None,
    client_factory: ClientFactory = default_client,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> PlanImport:
    """Work the import until it ends, waits for API points, or the invocation's time runs low —
    then continue it in a new invocation. A second invocation of the same import finds the lease
    taken and leaves it to the first."""
    store = store or PlanImportStore()
    owner = f"{import_id}/{uuid.uuid4().hex[:8]}"
    try:
        store.acquire_lease(import_id, owner, now=clock(), seconds=LEASE_SECONDS)
    except store_errors.LeaseHeld:
        logger.info("another sender holds the plan import", extra={"plan_import": import_id})
        return PlanImport.model_validate(store.get(import_id))
    continue_it = False
    try:
        record = PlanImport.model_validate(store.get(import_id))
        if record.finished or (record.state is ImportState.WAITING and (record.resume_at or 0) > clock()):
            return record
        try:
            sender = Sender(
                record, store.rows(record.model_dump()), client_factory(record), store, remaining_ms, clock, sleep
            )
            record = sender.run()
        except Exception as crash:
            logger.exception("plan import crashed", extra={"plan_import": import_id})
            record = PlanImport.model_validate(store.get(import_id))
            record.state, record.last_error = ImportState.FAILED, redact(f"{type(crash).__name__}: {crash}")
            record.updated_at = utc_now()
            return PlanImport.model_validate(
                store.save(record.model_dump(mode="json", exclude_none=True), finished=True)
            )
        continue_it = record.state in (ImportState.SENDING, ImportState.POLLING)
        return record
    finally:
        store.release_lease(import_id, owner)
        if continue_it:
            start(import_id)


def resume_waiting(*, remaining_ms: Callable[[], int], store: PlanImportStore | None = None) -> list[str]:
    """The schedule's tick: start every import that has not finished and is not waiting for later
    (points spent until `resume_at`, or a sender that died mid-way and left it unfinished)."""
    store = store or PlanImportStore()
    started = []
    now = time.time()
    for import_id in store.waiting():
        record = PlanImport.model_validate(store.get(import_id))
        if record.finished or (record.state is ImportState.WAITING and (record.resume_at or 0) > now):
            continue
        if remaining_ms() < SAFETY_MS:
            break
        start(import_id)
        started.append(import_id)
    return started
