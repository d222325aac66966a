"""The extraction state of one connector × stream × vendor account, as stored."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from leadhub.extract.slices import merge_ranges
from leadhub.vendors.errors import VendorError


class StreamSyncState(BaseModel):
    status: str = "idle"
    #: The last day fully read and stored (in the vendor account's time zone).
    cursor: date | None = None
    completed_ranges: list[tuple[date, date]] = Field(default_factory=list)
    last_success_at: str | None = None
    rows_loaded: int = 0
    last_error: dict[str, Any] | None = None
    failure_streak: int = 0
    progress: dict[str, int] | None = None
    paused_reason: str | None = None
    version: int | None = None

    def checkpoint(self, day: date, rows: int, done: int, total: int) -> None:
        self.cursor = max(self.cursor or day, day)
        self.completed_ranges = merge_ranges(self.completed_ranges, day)
        self.rows_loaded += rows
        self.progress = {"done": done, "total": total}

    def succeeded(self, at: str) -> None:
        self.status, self.last_success_at, self.last_error = "idle", at, None
        self.failure_streak, self.progress = 0, None

    def failed(self, error: VendorError, at: str) -> None:
        self.status = "failed"
        self.failure_streak += 1
        self.last_error = {
            "class": error.error_class.value,
            "message": str(error),
            "explanation": error.explanation,
            "at": at,
        }

    def stored(self) -> dict[str, Any]:
        item = self.model_dump(mode="json", exclude_none=True)
        item["completed_ranges"] = [[start.isoformat(), end.isoformat()] for start, end in self.completed_ranges]
        return item
