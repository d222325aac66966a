"""One run of one connector: its streams, day by day, checkpointed.

Which days a run reads is its policy: the incremental policy reads from the lookback before each
stream's cursor (or the connector's history) through today and moves the cursor; the range policy
reads a fixed range and never moves it. Either way each day's raw rows and conversions replace
that day's partitions whole, and the day records the settings version it was built with: a run
killed at any point leaves whole days behind, and the next one resumes from the checkpoint. The
connector's lease keeps every other writer of its partitions out; a run stops early, cleanly, when
its time runs low or a newer settings version supersedes it.
"""

from __future__ import annotations

import gc
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from leadhub.clock import utc_iso
from leadhub.crm_sync import feed as crm_feed
from leadhub.extract import state as states
from leadhub.extract.slices import day_window, days_to_read, local_today
from leadhub.extract.state import StreamSyncState
from leadhub.extract.streams import StreamReader
from leadhub.models.connector import Connector
from leadhub.models.conversion import stored_rows
from leadhub.models.job import JobControl, StopReason
from leadhub.observability import logger
from leadhub.store import errors as store_errors
from leadhub.store.connectors import ConnectorStore
from leadhub.store.daily import DailySummaries
from leadhub.store.jobs import JobStore
from leadhub.store.partitions import CONVERSIONS, RAW, Partition, PartitionStore
from leadhub.store.sync_state import SyncStateStore
from leadhub.vendors import errors as vendor_errors

#: Days of history a connector loads unless its settings say otherwise (`history_days`).
DEFAULT_HISTORY_DAYS = 30


@dataclass(frozen=True)
class RunLimits:
    #: Days of history read on a stream's first run; None: the connector's `history_days` setting.
    initial_days: int | None = None
    #: Stop starting new days when less than this is left of the Lambda's time.
    safety_ms: int = 60_000
    lease_seconds: int = 900
    #: Consecutive credential failures after which the connector is paused.
    pause_after_config_failures: int = 3


class Policy(Protocol):
    @property
    def moves_cursor(self) -> bool:
        """Whether the days read move the stream's cursor."""

    def days(self, reader: StreamReader, state: StreamSyncState, today: date) -> list[date]: ...


@dataclass(frozen=True)
class Incremental:
    """Cursor + lookback: what the schedule runs."""

    history_days: int
    moves_cursor: bool = True

    def days(self, reader: StreamReader, state: StreamSyncState, today: date) -> list[date]:
        if reader.snapshot:
            return [today]
        # days a range read loaded count as read: the schedule carries on after them, not from scratch
        loaded = state.completed_ranges[-1][1] if state.completed_ranges else None
        cursor = max(filter(None, (state.cursor, loaded)), default=None)
        return list(
            days_to_read(today=today, cursor=cursor, lookback_days=reader.lookback_days, initial_days=self.history_days)
        )


@dataclass(frozen=True)
class FixedRange:
    """A fixed range of days (a stream switched on, the history start moved earlier); the cursor stays."""

    start: date
    end: date
    #: Per stream, the last day a previous invocation finished: a continuation resumes after it.
    resume_after: dict[str, date] = field(default_factory=dict)
    moves_cursor: bool = False

    def days(self, reader: StreamReader, state: StreamSyncState, today: date) -> list[date]:
        if reader.snapshot:
            return []
        first = max(self.start, self.resume_after.get(reader.name, self.start - timedelta(days=1)) + timedelta(days=1))
        last = min(self.end, today)
        return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


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
    stopped_by: str | None = None

    @property
    def retry_after(self) -> float | None:
        """When every stream that failed failed on the vendor's passing trouble (down, its limit used
        up): the seconds before trying again is worth it (0: whenever). None: nothing a retry mends."""
        errors = [stream.error or {} for stream in self.streams if stream.status == "failed"]
        if not errors or any(found.get("class") != vendor_errors.ErrorClass.TRANSIENT.value for found in errors):
            return None
        return float(max(found.get("retry_after", 0) for found in errors))


class _Stop(Exception):
    def __init__(self, reason: StopReason) -> None:
        self.reason = reason


@dataclass
class _TimeOnly:
    """The control of a run outside a job: it stops when the Lambda's time runs low, records nothing."""

    remaining_ms: Callable[[], int]
    safety_ms: int

    def stop_reason(self) -> StopReason | None:
        return StopReason.TIME if self.remaining_ms() < self.safety_ms else None

    def unit_done(self, checkpoint: dict[str, Any], done: int, planned: int) -> None:
        return None


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
    policy: Policy | None = None
    #: A job's control (supersession, progress); None: stop on time only.
    control: JobControl | None = None
    #: False when the caller (a job) already holds the connector's lease.
    take_lease: bool = True
    leases: JobStore = field(default_factory=JobStore)
    _stopped_by: str | None = field(default=None, init=False)

    @property
    def connector_id(self) -> str:
        return self.connector.id

    @property
    def account(self) -> str:
        return self.connector.vendor_account_id

    def _control(self) -> JobControl:
        return self.control or _TimeOnly(self.remaining_ms, self.limits.safety_ms)

    def _policy(self) -> Policy:
        if self.policy is not None:
            return self.policy
        history = self.limits.initial_days or int(self.connector.settings.get("history_days") or DEFAULT_HISTORY_DAYS)
        return Incremental(history)

    def run(self) -> RunOutcome:
        if not self.take_lease:
            return self._run_streams()
        try:
            self.leases.acquire_lease(self.connector_id, self.owner, now=time.time(), seconds=self.limits.lease_seconds)
        except store_errors.LeaseHeld:
            logger.info("another writer holds the connector", extra={"connector_id": self.connector_id})
            return RunOutcome(self.connector_id, "busy")
        try:
            return self._run_streams()
        finally:
            self.leases.release_lease(self.connector_id, self.owner)

    def _run_streams(self) -> RunOutcome:
        policy = self._policy()
        today = local_today(self.now(), self.account_zone)
        plans = []
        for reader in self.streams:
            state = self._load_state(reader.name)
            days = policy.days(reader, state, today)
            if days:
                state.status = states.QUEUED
                plans.append((reader, self._save_state(reader.name, state), days))
        planned = sum(len(days) for _, _, days in plans)
        outcome = RunOutcome(self.connector_id, "done")
        done = 0
        for reader, state, days in plans:
            result = self._run_stream(reader, state, days, policy, (done, planned))
            done += result.days
            outcome.streams.append(result)
            if result.status == "stopped":
                outcome.status = "partial"
                outcome.stopped_by = self._stopped_by
                return outcome
            if result.status == "failed":
                outcome.status = "failed"
                if _stops_every_stream(result.error):
                    break  # the same credentials would fail the other streams too
        for reader, _, _ in plans:
            self._settle(reader.name)
        return outcome

    def _settle(self, stream: str) -> None:
        """The run is over: a stream it finished is idle until the next one."""
        state = self._load_state(stream)
        if state.status in (states.DONE, states.QUEUED):
            state.status = states.IDLE
            self._save_state(stream, state)

    def _load_state(self, stream: str) -> StreamSyncState:
        stored = self.states.get(self.connector_id, stream, self.account)
        return StreamSyncState.model_validate(stored) if stored else StreamSyncState()

    def _save_state(self, stream: str, state: StreamSyncState) -> StreamSyncState:
        stored = self.states.save(self.connector_id, stream, self.account, state.stored())
        return StreamSyncState.model_validate(stored)

    def _run_stream(
        self, reader: StreamReader, state: StreamSyncState, days: list[date], policy: Policy, before: tuple[int, int]
    ) -> StreamOutcome:
        """`before`: units the run did before this stream, and units it plans in all."""
        done, planned = before
        # a first read of the history (or a range read) says so, with progress
        first_read = (state.cursor is None or not policy.moves_cursor) and not reader.snapshot
        state.status = states.BACKFILLING if first_read else states.RUNNING
        state = self._save_state(reader.name, state)
        outcome = StreamOutcome(reader.name, "done")
        control = self._control()
        version = self.connector.settings_version
        try:
            for position, day in enumerate(days, start=1):
                reason = control.stop_reason()
                if reason is not None:
                    raise _Stop(reason)
                rows = self._read_day(reader, day)
                state.checkpoint(day, rows, settings_version=version, move_cursor=policy.moves_cursor)
                state.progress = {"done": position, "total": len(days)}
                state = self._save_state(reader.name, state)
                outcome.days += 1
                outcome.rows += rows
                control.unit_done({reader.name: day.isoformat()}, done + outcome.days, planned)
        except _Stop as stop:
            # an unfinished read stays queued (or backfilling) with its progress until a run completes it
            state.status = states.BACKFILLING if state.status == states.BACKFILLING else states.QUEUED
            self._save_state(reader.name, state)
            self._stopped_by = stop.reason.value
            outcome.status = "stopped"
            return outcome
        except vendor_errors.VendorError as error:
            return self._failed(reader, state, outcome, error)
        state.succeeded(utc_iso(self.now()))
        self._save_state(reader.name, state)
        return outcome

    def _read_day(self, reader: StreamReader, day: date) -> int:
        with _no_cycle_collection():
            return self._read_and_store_day(reader, day)

    def _read_and_store_day(self, reader: StreamReader, day: date) -> int:
        start, end = day_window(day, self.account_zone)
        rows = reader.read_day(day, start, end)
        raw = rows if isinstance(rows, list) else list(rows)  # a list may hold the vendor's bytes (RawRows)
        project, connector = self.connector.project_id, self.connector_id
        self.partitions.replace(Partition(RAW, project, connector, reader.name, day), raw)
        if reader.normalise is not None:
            conversions = stored_rows(reader.normalise(raw, day))
            target = Partition(CONVERSIONS, project, connector, reader.name, day)
            self.partitions.replace(target, conversions)
            DailySummaries(self.partitions.objects).record(target, conversions)  # what reports read
            crm_feed.day_stored(self.connector, reader.name, day, raw, partitions=self.partitions)
        return len(raw)

    def _failed(
        self, reader: StreamReader, state: StreamSyncState, outcome: StreamOutcome, error: vendor_errors.VendorError
    ) -> StreamOutcome:
        state.failed(error, utc_iso(self.now()))
        logger.warning(
            "stream failed",
            extra={"connector_id": self.connector_id, "stream": reader.name, "vendor_error": error.to_dict()},
        )
        if isinstance(error, vendor_errors.FeatureDisabled):
            # the stream's own configuration, not the key's: the other streams load, nothing pauses
            state.failure_streak = 0
            state.last_error = {**(state.last_error or {}), "scope": "stream"}
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


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """A day's read allocates hundreds of thousands of acyclic dicts (rows, conversions) that live until
    it ends: the cycle collector would walk them again and again (an eighth of the day's CPU) to free
    nothing. It runs once the day is stored, as it would have."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _stops_every_stream(error: dict[str, Any] | None) -> bool:
    """A config error of the credentials fails every stream; a stream's own (a feature off) fails only it."""
    if not error:
        return False
    return error["class"] == vendor_errors.ErrorClass.CONFIG.value and error.get("scope") != "stream"
