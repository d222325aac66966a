"""A plan import as stored and shown: its chunks of ≤ 100 rows and where each one got to."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field

from leadhub.models.base import DeferredModel


class ImportState(StrEnum):
    #: Stored, waiting for the sender.
    QUEUED = "queued"
    SENDING = "sending"
    #: Every chunk is sent; Calltouch's status of each is being polled.
    POLLING = "polling"
    #: Calltouch's daily API points are spent: it resumes at `resume_at`.
    WAITING = "waiting"
    DONE = "done"
    #: Stopped for good (the key was refused): `last_error` says why.
    FAILED = "failed"


FINISHED = frozenset({ImportState.DONE, ImportState.FAILED})


class ChunkState(StrEnum):
    PENDING = "pending"
    #: Accepted by `plans-import/add`; its import log is being polled.
    SENT = "sent"
    #: Its import log answered `success`.
    CONFIRMED = "confirmed"
    #: Refused by `plans-import/add`, or its import log answered `error`, or retries ran out.
    FAILED = "failed"


class Chunk(DeferredModel):
    number: int
    #: The rows it carries: `count` of the rows to send from `first` on (the import's rows file keeps
    #: which submitted row each one is, so the record stays small however many rows there are).
    first: int
    count: int
    state: ChunkState = ChunkState.PENDING
    attempts: int = 0
    import_log_id: int | None = None
    polls: int = 0
    next_poll_at: float | None = None
    error: str | None = None
    #: An import log that answered `error`: the offsets (in the chunk) of the rows Calltouch marked
    #: `error` when it marked each row; None: every row of the chunk failed.
    failed_rows: list[int] | None = None
    #: Calltouch's own violations, `fieldPath` moved to the submitted rows' indexes.
    violations: list[dict[str, Any]] = Field(default_factory=list)


class PlanImport(DeferredModel):
    id: str
    account_id: str
    connector_id: str
    #: "items" (a JSON body) or "xlsx" (an uploaded file)
    source: str
    content_hash: str
    state: ImportState = ImportState.QUEUED
    total_items: int
    #: Rows refused by the checks before sending (only with `send_valid_only`): never sent.
    skipped_items: int = 0
    chunks: list[Chunk] = Field(default_factory=list)
    resume_at: float | None = None
    last_error: str | None = None
    invocations: int = 0
    result_key: str | None = None
    result_filename: str | None = None
    created_at: str
    updated_at: str
    version: int | None = None

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    def chunks_in(self, *states: ChunkState) -> list[Chunk]:
        return [chunk for chunk in self.chunks if chunk.state in states]
