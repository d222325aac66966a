"""One run of one connector: every enabled stream, day by day, checkpointed.

For each stream the run reads the days from the lookback before its cursor (or the initial
history) through today, in the vendor account's time zone. Each day's raw rows and conversions
replace that day's partitions whole, then the cursor moves: a run killed at any point leaves
whole days behind, and the next run resumes from the checkpoint. A lease keeps a second run of
the same connector out; a run stops early, cleanly, when the Lambda's time runs low.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from leadhub.extract.slices import day_window, days_to_read, local_today
from leadhub.extract.state import StreamSyncState
from leadhub.extract.streams import StreamReader
from leadhub.models.connector import Connector
from leadhub.models.conversion import conversion_json
from leadhub.observability import logger
from leadhub.store import errors as store_errors
from leadhub.store.connectors import ConnectorStore
from leadhub.store.partitions import CONVERSIONS, RAW, Partition, PartitionStore
from leadhub.store.sync_state import SyncStateStore
from leadhub.vendors import errors as vendor_errors


@dataclass(frozen=True)
class RunLimits:
    #: Days of history read on a connector's first run.
    initial_days: int = 30
    #: Stop starting new days when less than this is left of the Lambda's time.
    safety_ms: int = 60_000
    lease_seconds: int = 900
    #: Consecutive credential failures after which the connector is paused.
    pause_after_config_failures: int = 3


@dataclass
class StreamOutcome:
    stream: str
    status: str
    days: int = 0
    rows: int = 0
    error: dict[str, Any] | None = None


@dataclass
class RunOutcome:
    connector_id: str
    status: str
    streams: list[StreamOutcome] = field(default_factory=list)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class TimeLow(Exception):
    """The run must stop before the next day: too little of the Lambda's time is left."""


@dataclass
class ConnectorRun:
    connector: Connector
    streams: list[StreamReader]
    account_zone: ZoneInfo
    states: SyncStateStore
    partitions: PartitionStore
    connectors: ConnectorStore
    remaining_ms: Callable[[], int]
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    limits: RunLimits = field(default_factory=RunLimits)
    owner: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def connector_id(self) -> str:
        return self.connector.id

    @property
    def account(self) -> str:
        return self.connector.vendor_account_id

    def run(self) -> RunOutcome:
        try:
            self.states.acquire_lease(self.connector_id, self.owner, now=time.time(), seconds=self.limits.lease_seconds)
        except store_errors.LeaseHeld:
            logger.info("another run holds the connector", extra={"connector_id": self.connector_id})
            return RunOutcome(self.connector_id, "busy")
        try:
            return self._run_streams()
        finally:
            self.states.release_lease(self.connector_id, self.owner)

    def _run_streams(self) -> RunOutcome:
        outcome = RunOutcome(self.connector_id, "done")
        for reader in self.streams:
            result = self._run_stream(reader)
            outcome.streams.append(result)
            if result.status == "stopped":
                outcome.status = "partial"
                break
            if result.status == "failed":
                outcome.status = "failed"
                if result.error and result.error["class"] == vendor_errors.ErrorClass.CONFIG.value:
                    break  # the same credentials would fail the other streams too
        return outcome

    def _load_state(self, stream: str) -> StreamSyncState:
        stored = self.states.get(self.connector_id, stream, self.account)
        return StreamSyncState.model_validate(stored) if stored else StreamSyncState()

    def _save_state(self, stream: str, state: StreamSyncState) -> StreamSyncState:
        stored = self.states.save(self.connector_id, stream, self.account, state.stored())
        return StreamSyncState.model_validate(stored)

    def _days(self, reader: StreamReader, state: StreamSyncState) -> list[date]:
        today = local_today(self.now(), self.account_zone)
        if reader.snapshot:
            return [today]
        return list(
            days_to_read(
                today=today,
                cursor=state.cursor,
                lookback_days=reader.lookback_days,
                initial_days=self.limits.initial_days,
            )
        )

    def _run_stream(self, reader: StreamReader) -> StreamOutcome:
        state = self._load_state(reader.name)
        days = self._days(reader, state)
        # a first run reads the whole initial history: the status says so, with progress
        state.status = "backfilling" if state.cursor is None and not reader.snapshot else "running"
        state = self._save_state(reader.name, state)
        outcome = StreamOutcome(reader.name, "done")
        try:
            for done, day in enumerate(days, start=1):
                if self.remaining_ms() < self.limits.safety_ms:
                    raise TimeLow
                rows = self._read_day(reader, day)
                state.checkpoint(day, rows, done, len(days))
                state = self._save_state(reader.name, state)
                outcome.days += 1
                outcome.rows += rows
        except TimeLow:
            # an unfinished first read stays "backfilling" with its progress until a run completes it
            state.status = "backfilling" if state.status == "backfilling" else "idle"
            self._save_state(reader.name, state)
            outcome.status = "stopped"
            return outcome
        except vendor_errors.VendorError as error:
            return self._failed(reader, state, outcome, error)
        state.succeeded(_iso(self.now()))
        self._save_state(reader.name, state)
        return outcome

    def _read_day(self, reader: StreamReader, day: date) -> int:
        start, end = day_window(day, self.account_zone)
        raw = list(reader.read_day(day, start, end))
        project, connector = self.connector.project_id, self.connector_id
        self.partitions.replace(Partition(RAW, project, connector, reader.name, day), raw)
        if reader.normalise is None:
            return len(raw)
        lines = (conversion_json(conversion) for conversion in reader.normalise(raw, day))
        return self.partitions.replace_lines(Partition(CONVERSIONS, project, connector, reader.name, day), lines)

    def _failed(
        self, reader: StreamReader, state: StreamSyncState, outcome: StreamOutcome, error: vendor_errors.VendorError
    ) -> StreamOutcome:
        state.failed(error, _iso(self.now()))
        logger.warning(
            "stream failed",
            extra={"connector_id": self.connector_id, "stream": reader.name, "vendor_error": error.to_dict()},
        )
        config = error.error_class is vendor_errors.ErrorClass.CONFIG
        if config and state.failure_streak >= self.limits.pause_after_config_failures:
            reason = f"paused after {state.failure_streak} credential failures in a row: {error.explanation}"
            state.paused_reason = reason
            self._pause_connector(reason)
        self._save_state(reader.name, state)
        outcome.status = "failed"
        outcome.error = state.last_error
        return outcome

    def _pause_connector(self, reason: str) -> None:
        for _ in range(3):
            connector = self.connectors.find_connector(self.connector_id)
            try:
                self.connectors.save(connector.model_copy(update={"active": False, "paused_reason": reason}))
                return
            except store_errors.VersionConflict:
                continue
