"""The extraction state of one connector × stream × vendor account, as stored."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import AliasChoices, Field

from leadhub.extract.slices import merge_ranges
from leadhub.models.base import DeferredModel
from leadhub.vendors.errors import VendorError

#: Where a stream stands, as the status shows it. Within a run: queued → running (or backfilling on a
#: first read) → done; `idle` once the whole run is over.
IDLE, QUEUED, RUNNING, BACKFILLING, DONE, FAILED = "idle", "queued", "running", "backfilling", "done", "failed"


class StreamSyncState(DeferredModel):
    status: str = IDLE
    #: The last day fully read and stored by the incremental policy (in the vendor account's time zone).
    cursor: date | None = None
    completed_ranges: list[tuple[date, date]] = Field(default_factory=list)
    #: Per stored day: [rows stored, the settings version its partitions were built with].
    days: dict[str, list[int]] = Field(default_factory=dict)
    last_success_at: str | None = None
    #: Every row read, re-reads included.
    rows_read: int = Field(default=0, validation_alias=AliasChoices("rows_read", "rows_loaded"))
    last_error: dict[str, Any] | None = None
    failure_streak: int = 0
    progress: dict[str, int] | None = None
    paused_reason: str | None = None
    version: int | None = None

    @property
    def rows_stored(self) -> int:
        """Distinct rows stored: each day counts once, however often it was read."""
        return sum(rows for rows, _ in self.days.values())

    def checkpoint(self, day: date, rows: int, *, settings_version: int, move_cursor: bool = True) -> None:
        if move_cursor:
            self.cursor = max(self.cursor or day, day)
        self.completed_ranges = merge_ranges(self.completed_ranges, day)
        self.days[day.isoformat()] = [rows, settings_version]
        self.rows_read += rows

    def rebuilt(self, day: date, settings_version: int) -> None:
        """The day's conversions were rebuilt from its stored raw rows with these settings."""
        rows = self.days.get(day.isoformat(), [0, 0])[0]
        self.days[day.isoformat()] = [rows, settings_version]

    def succeeded(self, at: str) -> None:
        self.status, self.last_success_at, self.last_error = DONE, at, None
        self.failure_streak, self.progress = 0, None

    def failed(self, error: VendorError, at: str) -> None:
        self.status = FAILED
        self.failure_streak += 1
        self.last_error = {
            "class": error.error_class.value,
            "message": str(error),
            "explanation": error.explanation,
            "at": at,
        }
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            self.last_error["retry_after"] = round(retry_after)

    def stored(self) -> dict[str, Any]:
        item = self.model_dump(mode="json", exclude_none=True)
        item["completed_ranges"] = [[start.isoformat(), end.isoformat()] for start, end in self.completed_ranges]
        return item
