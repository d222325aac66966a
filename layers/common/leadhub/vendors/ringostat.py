"""Ringostat call-log client (`GET /calls/list`), after roistat-ringostat.md Part B.

Quirks handled here, with the document's sections:
- B1, D3: the key travels in the `Auth-key` header only; with the key also in the query the gateway
  answers 400 HTML. The key identifies one project, so no project id is sent.
- B2.1, B5.2-3, D1: no paging and at most 6500 rows an answer, `order=calldate asc`. An answer that
  reaches the cap continues from the last call it holds (the next `from` is that call's own wall-clock
  time, a second earlier), so a busy day is downloaded about once, not again in halves. A window the API
  refuses for being over the cap is still halved.
- B5.4, D5: `from`/`to` are naive wall-clock times, read by the API in a zone of its own (the
  account's, [UNCERTAIN]) that need not be the project's: a Kyiv account under a Moscow project lost
  the 00:00-01:00 MSK hour of every winter day. So the naive bounds sent cover the window in any zone
  (UTC-12 to UTC+14, DST either way) and rows are kept by the instant of their `calldate` (which
  carries an offset): half-open, whatever the API does with `to`. Sending those wide bounds costs a
  day and a half of extra rows, so the client first sends bounds in the expected zone, a margin wide,
  and keeps them only when the answer proves it: a call before the window's start (or, continuing,
  the last call already read) shows nothing before it was skipped, a call at or after the window's
  end shows nothing after; unproven, it reads that side again with the wide bounds. The window
  filter compares `calldate` text with the bounds written in the row's own offset: no date parsing
  per row. A `calldate` offset the expected
  zone (`project_tz`) does not have is recorded (`zone_mismatch`) so the status can name it. Rows are
  de-duplicated by `uniqueid`; `uniqueid` and `calldate` are always requested for that reason.
- B2.5, B5.5, D2: an install that rejects a field answers `400 incorrect field: <name>` or a 200
  text/HTML page. The client then retries once with the fallback field list, logs the fields it
  dropped, and keeps the fallback list for its lifetime.
- B2.3: the answer is a bare JSON array; an empty body means no calls.
- B1 [UNCERTAIN], seed 001: no documented endpoint lists a key's projects and the API gives project
  numbers, never names. `discover_projects` reads the number from the `call_card` URL of a recent
  call (`?project_id=<n>`, B2.2), or from a configurable endpoint if one is known.
Rows are returned raw, as Ringostat sent them (numbers may be ints or numeric strings, B2.2).
"""

from __future__ import annotations

import operator
import re
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from itertools import islice
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, available_timezones

from pydantic import ConfigDict

from leadhub.jsonl import RawRows
from leadhub.models.base import DeferredModel
from leadhub.observability import logger
from leadhub.redaction import excerpt
from leadhub.vendors import errors
from leadhub.vendors.transport import Transport, VendorPolicy

if TYPE_CHECKING:
    import requests

VENDOR = "ringostat"
BASE_URL = "https://api.ringostat.net"
CALLS_PATH = "/calls/list"
ROW_CAP = 6500
WINDOW_FORMAT = "%Y-%m-%d %H:%M:%S"
CALLDATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
#: The UTC offsets of the zones farthest west and east (Baker Island, Kiritimati): naive bounds
#: shifted by them cover an instant whatever zone the API reads them in.
EARLIEST_OFFSET = timedelta(hours=-12)
LATEST_OFFSET = timedelta(hours=14)
#: Zones a Ringostat account is likely to keep, named first when a mismatch suggests one.
LIKELY_ZONES = (
    "Europe/Kyiv", "Europe/Moscow", "Europe/Minsk", "Europe/Chisinau", "Asia/Almaty", "Asia/Tashkent",
    "Europe/Warsaw", "Europe/Berlin", "Europe/London", "Asia/Tbilisi", "Asia/Yerevan", "Asia/Baku",
    "Europe/Samara", "Asia/Yekaterinburg", "Asia/Novosibirsk", "Europe/Kaliningrad", "America/New_York",
)  # fmt: skip
#: Needed by the client itself: the dedupe key and the record timestamp that bounds a window.
REQUIRED_FIELDS = ("uniqueid", "calldate")

#: The documented 33 fields (B2.2) plus the newer ones working clients ask for.
EVERY_FIELD: tuple[str, ...] = (
    "uniqueid", "calldate", "caller", "dst", "pool_name", "disposition", "category_mark", "duration",
    "call_type", "waittime", "billsec", "connected_with", "call_counter", "proper_flag", "repeated_flag",
    "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "category_number",
    "employee_number", "employee_mark", "client_id", "remote_ip", "refferrer", "landing", "recording",
    "call_card", "additional_number", "has_recording", "scheme_name", "duration_ms",
    "recording_wav", "department", "caller_number", "employee_fio", "missing_reason",
)  # fmt: skip
#: What lead analytics cannot do without; all in the oldest documented field list.
MINIMAL_FIELDS: tuple[str, ...] = (
    "uniqueid", "calldate", "caller", "dst", "pool_name", "disposition", "call_type", "duration",
    "billsec", "call_counter", "proper_flag", "repeated_flag", "utm_source", "utm_medium", "utm_campaign",
    "utm_content", "utm_term", "recording",
)  # fmt: skip
#: What the product reads of a call (attribution, KPI, the call's extras, the visitor's GA id) and
#: what a user needs to find it again (numbers, recording): 19 of the 38 fields, a page of 19 MiB
#: instead of 51 MiB on a 50 000-call day.
DEFAULT_FIELDS: tuple[str, ...] = (*MINIMAL_FIELDS, "client_id")
#: How far past each end of a window the first request reaches, in the expected zone: enough for a
#: busy day to hold a call there (the proof that the API read the bounds as meant), ~2 % of a day.
WINDOW_MARGIN = timedelta(minutes=15)
#: Continuing after a cut answer, `from` is the last call's time less this: a `from` the API treats
#: as exclusive still returns that call, the proof that nothing after it was skipped.
CONTINUE_OVERLAP = timedelta(seconds=1)

_FIELD_REJECTED = re.compile(r"(?i)\b(?:incorrect|unknown|bad|invalid|unsupported)\s+fields?\b[\s:=\"']*([\w, ]*)")
_CAP_EXCEEDED = re.compile(r"(?i)more than \d+ calls|более \d+ звонк")
_NAME_NOTE = "Ringostat's API gives project numbers only, not names: check that this is the project you mean."


class FieldRejected(errors.RequestRejected):
    """The install does not accept a requested field (B2.5)."""

    def __init__(self, message: str, *, status: int, fields: Sequence[str]) -> None:
        self.fields = tuple(fields)
        super().__init__(VENDOR, message, status=status, code="incorrect_field")


class CapExceeded(errors.RequestRejected):
    """The API refused a window holding more calls than one answer may carry (B2.1)."""


class RingostatAccount(DeferredModel):
    """A project a key opens. The API never gives its name (seed 001)."""

    model_config = ConfigDict(frozen=True)

    #: The project number (the `project_id` of Ringostat's URLs).
    id: int
    name: str | None = None
    name_available: bool = False
    note: str = _NAME_NOTE
    source: Literal["call_card", "projects_endpoint"]


def classify(response: requests.Response) -> errors.VendorError | None:
    """Ringostat's quirks on top of the HTTP-status mapping (B2.1, B2.5)."""
    if response.status_code not in (200, 400):
        return None
    # Matched on the raw head of the body (not `.text`, which decodes a whole 20 MiB page); only a
    # masked excerpt of it goes into a message.
    head = response.content[:500].decode(response.encoding or "utf-8", errors="replace")
    if response.status_code == 200 and head.lstrip()[:1] in ("", "[", "{"):
        return None  # JSON, or an attempt at it: the transport decodes it
    rejected = _FIELD_REJECTED.search(head)
    if rejected:
        names = [name for name in re.split(r"[\s,]+", rejected.group(1)) if name]
        return FieldRejected(
            f"field rejected: {excerpt(response.text, 200)}", status=response.status_code, fields=names
        )
    if response.status_code == 400 and _CAP_EXCEEDED.search(head):
        return CapExceeded(
            VENDOR, f"too many calls in one window: {excerpt(response.text, 200)}", status=400, code="row_cap"
        )
    return None


class RingostatClient:
    def __init__(
        self,
        auth_key: str,
        *,
        base_url: str = BASE_URL,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        policy: VendorPolicy | None = None,
        project_tz: str | tzinfo = "Europe/Kyiv",
        fields: Sequence[str] = DEFAULT_FIELDS,
        fallback_fields: Sequence[str] = MINIMAL_FIELDS,
        cap: int = ROW_CAP,
        projects_path: str | None = None,
        discovery_lookback: timedelta = timedelta(days=30),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`project_tz`: the zone the account is expected to keep; calls dated in another are reported
        (`zone_mismatch`), never lost.
        `projects_path`: an endpoint listing the key's project numbers, if the install has one.
        `clock`: "now" for `check` and `discover_projects`."""
        self._auth_key = auth_key
        # An empty 200 body means "no calls" (B2.3), not a malformed answer.
        self._transport = Transport(
            policy or VendorPolicy(vendor=VENDOR),
            base_url,
            credentials=[auth_key],
            classify=classify,
            session=session,
            sleep=sleep,
            empty_body=[],
        )
        self._tz = ZoneInfo(project_tz) if isinstance(project_tz, str) else project_tz
        #: Each UTC offset seen in a `calldate` that `project_tz` does not have at that instant, with
        #: the first call that carried it.
        self._foreign: dict[timedelta, datetime] = {}
        #: Hours of `calldate` text (with their offset) whose offset was checked already.
        self._hours_checked: set[str] = set()
        self._fields = _with_required(fields)
        self._fallback_fields = _with_required(fallback_fields)
        self._cap = cap
        self._projects_path = projects_path
        self._discovery_lookback = discovery_lookback
        self._clock = clock

    @property
    def fields(self) -> tuple[str, ...]:
        """The field list in use: the configured one, or the fallback once the install refused it."""
        return self._fields

    # --- calls ---------------------------------------------------------------------------------
    @property
    def zone_mismatch(self) -> ZoneMismatch | None:
        """Calls read so far whose `calldate` offset is not `project_tz`'s at that instant: the account
        keeps another zone (B2.2: `calldate` carries the account's offset). None when all agree."""
        if not self._foreign:
            return None
        return ZoneMismatch.of(str(self._tz), self._foreign)

    def iter_calls(self, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
        """Every call with `start <= calldate < end`, each once, as raw rows.

        The API reads the naive `from`/`to` in a zone of its own (the account's, B5.4 [UNCERTAIN]),
        which may not be the one configured. Bounds sent in the expected zone are trusted only as far
        as the answers prove them (`_window_pages`); otherwise the naive bounds sent cover
        `[start, end)` whatever that zone is (any UTC offset from -12 to +14 hours, DST either way).
        Rows are kept by the instant their `calldate` names: nothing of the window is lost, nothing
        outside it kept."""
        for _, kept in self._kept_pages(start, end):
            yield from kept

    def calls_between(self, start: datetime, end: datetime) -> RawRows:
        """What `iter_calls` yields, as one list holding each call's JSON as Ringostat sent it (the raw
        partition stores those bytes instead of serialising the calls again)."""
        return RawRows.joined(answer.kept(kept) for answer, kept in self._kept_pages(start, end))

    def _kept_pages(self, start: datetime, end: datetime) -> Iterator[tuple[RawRows, list[dict[str, Any]]]]:
        """The calls of `iter_calls`, an answer at a time: (the answer, the calls of it kept)."""
        _require_aware(start, end)
        start, end = _ceil_second(start.astimezone(UTC)), _ceil_second(end.astimezone(UTC))
        if start >= end:
            return
        window = _TextWindow(start, end)
        seen: set[Any] = set()
        undated = 0
        for page in self._window_pages(start, end):
            kept = self._kept_in_order(page, window, seen)
            if kept is None:
                kept, unreadable = self._kept_row_by_row(page, window, seen)
                undated += unreadable
            yield page, kept
        if undated:
            logger.warning(
                "ringostat answered calls without a readable calldate; they are left out",
                extra={"vendor": VENDOR, "rows_undated": undated},
            )

    def _kept_row_by_row(
        self, page: list[dict[str, Any]], window: _TextWindow, seen: set[Any]
    ) -> tuple[list[dict[str, Any]], int]:
        """The calls of a page inside the window and not `seen` yet (which they join), and how many had no
        readable `calldate`; each call's offset is checked once per hour of text."""
        kept: list[dict[str, Any]] = []
        undated = 0
        hours_checked = self._hours_checked
        for row in page:
            text: Any = row.get("calldate")
            inside = window.holds(text)
            if inside is None:
                undated += 1  # no instant: no day can claim it
                continue
            if text[:13] + text[19:] not in hours_checked:
                self._observe_offset(text)
            if not inside:
                continue
            key = row.get("uniqueid")
            if key is not None:
                if key in seen:
                    continue
                seen.add(key)
            kept.append(row)
        return kept, undated

    def _kept_in_order(
        self, page: list[dict[str, Any]], window: _TextWindow, seen: set[Any]
    ) -> list[dict[str, Any]] | None:
        """What `_kept_row_by_row` keeps of a page, the way of the usual page (every `calldate` in
        Ringostat's text, one offset, in time order as asked; every call with its own `uniqueid`): the
        window's calls are one run, found by bisecting the text, and the checks run in C over the page
        instead of a Python step per call (a busy day's 50 000 calls: ~38 ms of CPU instead of ~62). None when
        the page is not such a page: then it is read row by row."""
        texts: list[Any] = [row.get("calldate") for row in page]
        if not texts or set(map(type, texts)) != {str} or set(map(len, texts)) != {len(_TEXT_SAMPLE)}:
            return None
        shapes = {(text[10], text[19:]) for text in texts}
        if len(shapes) != 1:
            return None
        ((tee, offset),) = shapes
        if tee != "T" or offset[0] not in "+-" or not all(map(operator.le, texts, islice(texts, 1, None))):
            return None
        bounds = window.bounds_for(texts[0])
        if bounds is None:
            return None
        # one offset and one length: the whole text orders as its first 19 characters do
        run = page[bisect_left(texts, bounds[0] + offset) : bisect_left(texts, bounds[1] + offset)]
        keys = [row.get("uniqueid") for row in run]
        try:
            if None in keys or len(set(keys)) != len(keys):
                return None
        except TypeError:  # a key that is no id: row by row says what becomes of it
            return None
        for hour in sorted({text[:13] for text in texts}):
            if hour + offset not in self._hours_checked:
                self._observe_offset(texts[bisect_left(texts, hour)])  # the hour's first call
        kept = run if seen.isdisjoint(keys) else [row for row, key in zip(run, keys, strict=True) if key not in seen]
        seen.update(keys)
        return kept

    def _observe_offset(self, text: str) -> None:
        """Records a `calldate` offset the expected zone does not have then (called once per hour of text)."""
        key = text[:13] + text[19:]
        if len(self._hours_checked) > 100_000:
            self._hours_checked.clear()
        self._hours_checked.add(key)
        moment = _calldate(text)
        offset = moment.utcoffset() if moment is not None else None
        if moment is not None and offset is not None and offset != moment.astimezone(self._tz).utcoffset():
            self._foreign.setdefault(offset, moment)

    def _window_pages(self, start: datetime, end: datetime) -> Iterator[RawRows]:
        """The answers, in order, for the UTC window `[start, end)` (and some rows around it).

        Every call from `need` on (the window's start, then the last call read) is still to be read.
        An answer proves its `from` when it starts no later than `need` (or `from` was sent to cover
        every zone); unproven, `from` is sent again covering every zone. An answer cut at the cap
        continues from its last call; one not cut ends the window when it reaches `end` (or `to` was
        sent to cover every zone), else `to` is sent again covering every zone."""
        need = start
        sent_from = self._local_bound(start - WINDOW_MARGIN)
        sent_to = self._local_bound(end + WINDOW_MARGIN)
        wide_from = wide_to = False
        while True:
            try:
                rows = self._rows(self._range_params(sent_from, sent_to))
            except CapExceeded:
                yield from self._halved_pages(_wide_from(need), _wide_to(end))
                return
            first, last = _first_moment(rows), _first_moment(reversed(rows))
            cut = len(rows) >= self._cap
            reached_end = last is not None and last >= end
            if not (wide_from or (first is not None and first <= need)):
                # calls between `need` and the first one answered may be missing: the API read `from`
                # in another zone than expected (or the margin held no call); a sparse answer that
                # did not reach the end either has `to` widened at the same time
                sent_from, wide_from = _wide_from(need), True
                if not (cut or reached_end):
                    sent_to, wide_to = _wide_to(end), True
                continue
            yield rows
            if reached_end or (wide_to and not cut):
                return
            if last is not None:
                if cut and last <= need:
                    # a whole answer at or before what was read already: no way forward but halving
                    yield from self._halved_pages(_wide_from(need), _wide_to(end))
                    return
                need, sent_from, wide_from = max(need, last), _own_wall_clock(last) - CONTINUE_OVERLAP, False
            if not cut:
                sent_to, wide_to = _wide_to(end), True

    def _local_bound(self, moment: datetime) -> datetime:
        """An instant as wall-clock time in the expected zone, naive."""
        return moment.astimezone(self._tz).replace(tzinfo=None)

    def _range_params(self, sent_from: datetime, sent_to: datetime) -> dict[str, str]:
        return {
            "export_type": "json",
            "from": sent_from.strftime(WINDOW_FORMAT),
            "to": sent_to.strftime(WINDOW_FORMAT),
            "merge": "0",
            "order": "calldate asc",
        }

    def _halved_pages(self, sent_from: datetime, sent_to: datetime) -> Iterator[RawRows]:
        """The rows of the naive range `[sent_from, sent_to]`, halving it while an answer may be cut:
        the way through for an API that refuses a window over the cap instead of cutting it."""
        try:
            rows = self._rows(self._range_params(sent_from, sent_to))
        except CapExceeded:
            rows = None
        if rows is None or len(rows) >= self._cap:
            for half_from, half_to in _halves(sent_from, sent_to):
                yield from self._halved_pages(half_from, half_to)
            return
        yield rows

    # --- requests and the field fallback --------------------------------------------------------
    def _rows(self, params: dict[str, str]) -> RawRows:
        try:
            return self._get_rows(params, self._fields)
        except FieldRejected as rejected:
            if self._fields == self._fallback_fields:
                raise
            self._use_fallback(rejected)
            return self._get_rows(params, self._fields)

    def _use_fallback(self, rejected: FieldRejected) -> None:
        dropped = [name for name in self._fields if name not in self._fallback_fields]
        logger.warning(
            "ringostat rejected requested fields; using the fallback field list from now on",
            extra={"vendor": VENDOR, "rejected": list(rejected.fields), "dropped_fields": dropped},
        )
        self._fields = self._fallback_fields

    def _get_rows(self, params: dict[str, str], fields: Sequence[str]) -> RawRows:
        response, body = self._transport.request_json(
            "GET", CALLS_PATH, params={**params, "fields": ",".join(fields)}, headers=self._headers()
        )
        if not isinstance(body, list) or set(map(type, body)) - {dict}:
            raise self._transport.malformed(response, "expected a JSON array of call objects")
        return RawRows.parsed(body, response.content)

    def _headers(self) -> dict[str, str]:
        return {"Auth-key": self._auth_key, "Accept": "application/json"}

    def _window_params(self, start: datetime, end: datetime) -> dict[str, str]:
        """Naive bounds covering `[start, end)` in any zone the API may read them in."""
        return {
            "export_type": "json",
            "from": _naive(_floor_second(start.astimezone(UTC)) + EARLIEST_OFFSET).strftime(WINDOW_FORMAT),
            "to": _naive(_ceil_second(end.astimezone(UTC)) + LATEST_OFFSET).strftime(WINDOW_FORMAT),
        }

    # --- setup helpers -----------------------------------------------------------------------
    def check(self) -> None:
        """A one-minute, one-field read: raises InvalidCredentials (or AccessDenied) for a bad key."""
        now = _naive(self._clock())
        window = {"from": (now - timedelta(minutes=1)).strftime(WINDOW_FORMAT), "to": now.strftime(WINDOW_FORMAT)}
        params = {"export_type": "json", **window, "fields": "uniqueid"}
        self._transport.request_json("GET", CALLS_PATH, params=params, headers=self._headers())

    def discover_projects(self) -> list[RingostatAccount]:
        """The project numbers the key opens (one: the key is bound to its project); [] when the
        project had no calls in the look-back period and no projects endpoint is configured."""
        if self._projects_path:
            return self._projects_from_endpoint(self._projects_path)
        return self._projects_from_call_cards()

    def _projects_from_endpoint(self, path: str) -> list[RingostatAccount]:
        response, body = self._transport.request_json("GET", path, headers=self._headers())
        if not isinstance(body, list) or not all(_is_project_number(item) for item in body):
            raise self._transport.malformed(response, "expected a JSON array of project numbers")
        return [RingostatAccount(id=int(number), source="projects_endpoint") for number in body]

    def _projects_from_call_cards(self) -> list[RingostatAccount]:
        now = self._clock()
        params = {**self._window_params(now - self._discovery_lookback, now), "merge": "0", "order": "calldate desc"}
        rows = self._get_rows(params, ("uniqueid", "call_card"))
        numbers = dict.fromkeys(number for row in rows if (number := _project_number(row)) is not None)
        return [RingostatAccount(id=number, source="call_card") for number in numbers]


@dataclass(frozen=True)
class ZoneMismatch:
    """Calls whose vendor-local times only make sense in another zone than the configured one."""

    configured: str
    #: The offsets the calls carried, as "+02:00".
    offsets: tuple[str, ...]
    #: Zones with those offsets at those instants, likely ones first (at most five).
    candidates: tuple[str, ...]

    @classmethod
    def of(cls, configured: str, foreign: dict[timedelta, datetime]) -> ZoneMismatch:
        samples = sorted(foreign.items(), key=lambda item: item[1])
        fits = [
            name
            for name in (*LIKELY_ZONES, *sorted(available_timezones()))
            if all(moment.astimezone(ZoneInfo(name)).utcoffset() == offset for offset, moment in samples)
        ]
        return cls(
            configured=configured,
            offsets=tuple(_offset_text(offset) for offset, _ in samples),
            candidates=tuple(dict.fromkeys(fits))[:5],
        )


def _offset_text(offset: timedelta) -> str:
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(offset) // timedelta(minutes=1)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _naive(moment: datetime) -> datetime:
    """An instant as UTC wall-clock time, naive: the form the bounds are shifted and sent in."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def _with_required(fields: Sequence[str]) -> tuple[str, ...]:
    return (*REQUIRED_FIELDS, *(name for name in fields if name not in REQUIRED_FIELDS))


def _require_aware(*moments: datetime) -> None:
    if any(moment.tzinfo is None or moment.utcoffset() is None for moment in moments):
        raise ValueError("start and end must be timezone-aware datetimes")


def _floor_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _ceil_second(moment: datetime) -> datetime:
    floor = _floor_second(moment)
    return floor if floor == moment else floor + timedelta(seconds=1)


def _halves(start: datetime, end: datetime) -> tuple[tuple[datetime, datetime], tuple[datetime, datetime]]:
    """Two windows splitting `[start, end)` at a whole second (the API's resolution)."""
    if end - start <= timedelta(seconds=1):
        raise errors.MalformedResponse(
            VENDOR, f"a one-second window from {start.isoformat()} still holds the row cap; cannot split further"
        )
    middle = _floor_second(start + (end - start) / 2)
    if middle <= start:
        middle = _ceil_second(start + timedelta(microseconds=1))
    return (start, middle), (middle, end)


def _calldate(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, CALLDATE_FORMAT)
    except ValueError:
        return None


def _first_moment(rows: Iterable[dict[str, Any]]) -> datetime | None:
    """The instant of the first row (in the order given) whose `calldate` can be read."""
    for row in rows:
        moment = _calldate(row.get("calldate"))
        if moment is not None:
            return moment
    return None


def _own_wall_clock(moment: datetime) -> datetime:
    """A call's time as the API wrote it, naive: its wall-clock time in its own offset."""
    return moment.replace(tzinfo=None)


def _wide_from(moment: datetime) -> datetime:
    """A naive `from` at or before `moment` in any zone the API may read it in."""
    return _naive(_floor_second(moment) + EARLIEST_OFFSET)


def _wide_to(moment: datetime) -> datetime:
    """A naive `to` at or after `moment` in any zone the API may read it in."""
    return _naive(_ceil_second(moment) + LATEST_OFFSET)


class _TextWindow:
    """`[start, end)` (whole seconds) tested on `calldate` text as Ringostat writes it, `…T10:00:00+0200`:
    the bounds are written once per offset in the same form and compared as text, which orders as time
    within one offset. Other spellings are parsed."""

    __slots__ = ("_bounds", "end", "start")

    def __init__(self, start: datetime, end: datetime) -> None:
        self.start, self.end = start, end
        self._bounds: dict[str, tuple[str, str]] = {}

    def holds(self, text: Any) -> bool | None:
        """Whether the call's time is in the window; None when it is not a time."""
        if text.__class__ is str and len(text) == 24 and text[10] == "T" and text[19] in "+-":
            bounds = self.bounds_for(text)
            if bounds is not None:
                return bounds[0] <= text[:19] < bounds[1]
        moment = _calldate(text)
        return None if moment is None else self.start <= moment < self.end

    def bounds_for(self, text: str) -> tuple[str, str] | None:
        """The window's bounds as text in the offset of `text` (Ringostat's form); None when it is no time."""
        bounds = self._bounds.get(text[19:])
        return bounds if bounds is not None else self._remember(text)

    def _remember(self, text: str) -> tuple[str, str] | None:
        moment = _calldate(text)
        if moment is None:
            return None
        zone = moment.tzinfo
        bounds = self._bounds[text[19:]] = (
            self.start.astimezone(zone).strftime(_TEXT_FORMAT),
            self.end.astimezone(zone).strftime(_TEXT_FORMAT),
        )
        return bounds


_TEXT_FORMAT = "%Y-%m-%dT%H:%M:%S"
#: `calldate` as Ringostat writes it (B2.2).
_TEXT_SAMPLE = "2024-06-02T09:30:47+0300"


def _project_number(row: dict[str, Any]) -> int | None:
    card = row.get("call_card")
    if not isinstance(card, str):
        return None
    values = parse_qs(urlsplit(card).query).get("project_id", [])
    return int(values[0]) if values and values[0].isdigit() else None


def _is_project_number(item: object) -> bool:
    return (isinstance(item, int) and not isinstance(item, bool)) or (isinstance(item, str) and item.isdigit())
