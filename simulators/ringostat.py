"""A local Ringostat call-log API (`GET /calls/list`), written from roistat-ringostat.md Part B.

What it reproduces (section numbers are that document's):
- B1: auth by the `Auth-key` header only; the key is bound to one project. The key also sent in the
  query (`auth`, `token`) next to the header gets a 400 HTML page from the "gateway" (Kong/nginx).
- B2.1: `export_type` json|csv (csv is `;`-delimited), naive `from`/`to` (`YYYY-MM-DD HH:MM:SS`,
  `from` defaults to `to` minus 24 hours, `to` to now), `fields`, `filters` (`field=value` and
  `field~base64(a|b|c)`, case-insensitive), `merge` 0/1/2, `order` (`calldate asc|desc`).
  No paging: at most 6500 rows an answer, cut silently or refused (knob).
- B2.2/B2.3: a bare JSON array holding only the requested fields in the requested order; keys with
  no value are left out of a row; numerics are mixed ints and numeric strings exactly as the doc's
  example (`waittime`, `duration_ms`, `has_recording` are strings); the field `refferrer` is spelled
  as Ringostat spells it; `calldate` carries the account's UTC offset (the account's zone is the
  scenario's, which may differ from the zone of the project loading it); `call_card` carries
  `?project_id=<number>`, the only place the API names the project.
- B2.5: unknown or unsupported field names give `400 incorrect field: <name>` or a 200 non-JSON page
  (knob); a bad key gives 401; an empty result is `[]` or an empty body (knob).
- B3: dispositions, `call_counter`, `repeated_flag`, `proper_flag`, the directions of `call_type`
  (`in`, `out`, `callback`, `transitin`, `transitout`; outgoing calls show the client as `dst` and a
  SIP login as `caller`); D7: every call has a real
  unique `uniqueid`.

Where the document says [UNCERTAIN] or is silent, behaviour is a knob of `RingostatKnobs`: the time
zone `from`/`to` are read in, whether `to` is inclusive, cap truncation vs error, the field-error
shape, the 401 body, the revoked-key status, the empty-result body, a rate limit (none documented),
the default order and fields, and an optional endpoint listing the key's project numbers (none is
documented: the connector seed 001 says only numbers, never names, come through the API).
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import io
import math
import random
import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from itertools import accumulate
from typing import Any, Literal, NamedTuple
from zoneinfo import ZoneInfo

from simulators.base import FaultKnobs, SimRequest, SimResponse, Simulator, SlidingWindowLimit, text_response

ROW_CAP = 6500
WINDOW_FORMAT = "%Y-%m-%d %H:%M:%S"
CALLDATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"

#: The doc's "all parameters" example (B2.2), in its order.
DOCUMENTED_FIELDS = (
    "calldate", "caller", "dst", "pool_name", "disposition", "category_mark", "duration", "call_type",
    "waittime", "billsec", "connected_with", "call_counter", "proper_flag", "repeated_flag", "utm_source",
    "utm_medium", "utm_campaign", "utm_content", "utm_term", "uniqueid", "category_number", "employee_number",
    "employee_mark", "client_id", "remote_ip", "refferrer", "landing", "recording", "call_card",
    "additional_number", "has_recording", "scheme_name", "duration_ms",
)  # fmt: skip
#: Fields working clients request from the current API (B2.2) that some installs reject (D2).
NEWER_FIELDS = ("recording_wav", "department", "caller_number", "employee_fio", "missing_reason")
KNOWN_FIELDS = frozenset(DOCUMENTED_FIELDS + NEWER_FIELDS)
#: The legacy doc example's field list (B2.4), standing in for the undocumented default set.
EXAMPLE_FIELDS = ("calldate", "caller", "dst", "disposition", "billsec", "utm_source", "utm_medium", "recording")

#: Query parameters through which clients have (wrongly) sent the key next to the header (B1, D3).
KEY_QUERY_PARAMS = frozenset({"auth", "token", "auth-key", "auth_key"})

GATEWAY_400 = (
    "<html>\r\n<head><title>400 Bad Request</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n"
    "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)

STAFF = (
    (101, "Олена Коваленко", "Sales"),
    (102, "Андрій Шевченко", "Sales"),
    (103, "Ірина Бондаренко", "Support"),
)
MISSED_REASONS = {
    "NO ANSWER": "no employee answered",
    "BUSY": "all employees busy",
    "FAILED": "call failed",
}
ANSWERED = "ANSWERED"
#: Call directions (B3) in which the employee dials: the client is the callee.
OUTGOING_TYPES = frozenset({"out", "transitout"})
MOBILE_CODES = (50, 63, 67, 68, 73, 93, 97)
DIRECT_UTM = ("(direct)", "(none)", "(direct)", "(not set)", "(not set)")


class SimCall(NamedTuple):
    """One generated call; rendered to the requested fields only when asked for."""

    sequence: int
    uniqueid: str
    epoch: int
    caller: str
    dst: str
    pool: str
    static: bool
    utm: tuple[str, str, str, str, str] | None
    disposition: str
    waittime: int
    billsec: int
    call_counter: int
    repeated: bool
    staff: int | None
    #: `in`, `out`, `callback`, `transitin` or `transitout` (B3).
    call_type: str = "in"

    @property
    def answered(self) -> bool:
        return self.staff is not None

    @property
    def outgoing(self) -> bool:
        """Dialled by an employee: the client's number is `dst`, the caller a SIP login (B2.2)."""
        return self.call_type in OUTGOING_TYPES


@dataclass(frozen=True)
class CallTruth:
    """What a test may check a connector against: where a call came from and whether it was unique."""

    uniqueid: str
    pool: str
    static: bool
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    #: The caller's first call ever (`call_counter == 1`).
    unique: bool
    #: A repeat within the sale cycle (`repeated_flag == 1`).
    repeated: bool
    calldate: datetime
    #: `in`, `out`, `callback`, `transitin` or `transitout` (B3).
    call_type: str = "in"


@dataclass
class RingostatScenario:
    """A deterministic call log for one project, generated a day at a time as windows ask for it."""

    seed: int = 42
    project_id: int = 11111
    days: int = 3
    #: The scale knob: a cap test asks for more than 6500, a benchmark for tens of thousands.
    calls_per_day: int = 200
    start_date: date = date(2024, 6, 1)
    #: The zone the Ringostat account keeps: `calldate` carries its offset and naive `from`/`to` are
    #: read in it. June in Kyiv gives the doc's `+0300`. It need not be the zone of the project a
    #: connector loads these calls into.
    time_zone: str = "Europe/Kyiv"
    #: Call directions (B3) and their weights; inbound only unless a scenario asks for others.
    call_types: tuple[tuple[str, float], ...] = (("in", 1.0),)
    dynamic_pools: tuple[str, ...] = ("Site dynamic pool",)
    #: Static calltracking pools: their calls carry `pool_name` and no UTM (seed 001: static channels
    #: are keyed by the number-pool name).
    static_pools: tuple[str, ...] = ("OLX static", "Billboard Kyiv")
    static_share: float = 0.25
    utm_sources: tuple[str, ...] = ("google", "facebook", "(direct)")
    utm_campaigns: tuple[str, ...] = ("brand", "generic", "remarketing")
    #: Share of calls from a caller who has called before.
    repeat_share: float = 0.3
    sale_cycle_days: int = 30
    #: Talk time (s) that makes an answered first call in the sale cycle a target ("proper") call.
    target_billsec: int = 30
    dispositions: tuple[tuple[str, float], ...] = (
        (ANSWERED, 0.72),
        ("NO ANSWER", 0.18),
        ("BUSY", 0.06),
        ("FAILED", 0.04),
    )
    _calls: list[SimCall] = field(default_factory=list, init=False, repr=False, compare=False)
    _epochs: list[int] = field(default_factory=list, init=False, repr=False, compare=False)
    _days_done: int = field(default=0, init=False, repr=False, compare=False)
    _rng: random.Random = field(init=False, repr=False, compare=False)
    _seen: dict[str, tuple[int, int]] = field(default_factory=dict, init=False, repr=False, compare=False)
    _callers: list[str] = field(default_factory=list, init=False, repr=False, compare=False)
    _disposition_names: list[str] = field(init=False, repr=False, compare=False)
    _disposition_bounds: list[float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        total = sum(weight for _, weight in self.dispositions)
        self._disposition_names = [name for name, _ in self.dispositions]
        self._disposition_bounds = list(accumulate(weight / total for _, weight in self.dispositions))
        self._disposition_bounds[-1] = 1.0  # rounding must not leave a draw past the last bucket

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def day_start(self, day_index: int) -> datetime:
        """Local midnight of a scenario day, as an aware datetime."""
        return datetime.combine(self.start_date + timedelta(days=day_index), clock_time(), tzinfo=self.tz)

    @property
    def start(self) -> datetime:
        return self.day_start(0)

    @property
    def end(self) -> datetime:
        return self.day_start(self.days)

    def calls_between(self, start_epoch: float, end_epoch: float) -> list[SimCall]:
        """Calls with `start_epoch <= epoch < end_epoch`, in time order."""
        self._generate_until(end_epoch)
        low = bisect_left(self._epochs, start_epoch)
        high = bisect_left(self._epochs, end_epoch)
        return self._calls[low:high]

    def all_calls(self) -> list[SimCall]:
        self._generate_until(math.inf)
        return list(self._calls)

    def truth(self) -> dict[str, CallTruth]:
        """Every call of the scenario by `uniqueid`."""
        return {call.uniqueid: self._truth_of(call) for call in self.all_calls()}

    def inquiries_truth(
        self,
        *,
        project_zone: str,
        undefined_campaign: str,
        directions: Sequence[str] = ("in",),
        first_contacts_only: bool = False,
        channels: Mapping[str, tuple[str, str, str]] | None = None,
        no_value: str = "(none)",
    ) -> Counter[tuple[str, str, str, str]]:
        """What a report of this account's inquiries must show, worked out from the generated calls
        alone: (date in `project_zone`, source, traffic type, campaign) → calls. Counted: calls of the
        `directions`, first calls of their caller only when `first_contacts_only`. A static pool's calls
        take the `channels` entry for the pool (source, type, campaign) or have no marks; a dynamic
        call takes its visit's UTM, where GA's "(not set)" is no value."""
        zone, channels = ZoneInfo(project_zone), channels or {}
        expected: Counter[tuple[str, str, str, str]] = Counter()
        for call in self.all_calls():
            if call.call_type not in directions or (first_contacts_only and call.call_counter != 1):
                continue
            if call.static:
                marks = channels.get(call.pool, (no_value, no_value, undefined_campaign))
            else:
                source, medium, campaign = (
                    None if mark == "(not set)" else mark for mark in (call.utm or DIRECT_UTM)[:3]
                )
                marks = (source or no_value, medium or no_value, campaign or undefined_campaign)
            expected[(datetime.fromtimestamp(call.epoch, zone).date().isoformat(), *marks)] += 1
        return expected

    def _truth_of(self, call: SimCall) -> CallTruth:
        source, medium, campaign = call.utm[:3] if call.utm else (None, None, None)
        return CallTruth(
            uniqueid=call.uniqueid,
            pool=call.pool,
            static=call.static,
            utm_source=source,
            utm_medium=medium,
            utm_campaign=campaign,
            unique=call.call_counter == 1,
            repeated=call.repeated,
            calldate=datetime.fromtimestamp(call.epoch, self.tz),
            call_type=call.call_type,
        )

    # --- generation: days in order, because call counters run across days ---------------------------
    def _generate_until(self, end_epoch: float) -> None:
        while self._days_done < self.days and self.day_start(self._days_done).timestamp() < end_epoch:
            self._generate_day(self._days_done)
            self._days_done += 1

    def _generate_day(self, day_index: int) -> None:
        random_unit = self._rng.random
        first = int(self.day_start(day_index).timestamp())
        span = int(self.day_start(day_index + 1).timestamp()) - first  # 23 or 25 h on DST days
        for offset in sorted(int(random_unit() * span) for _ in range(self.calls_per_day)):
            call = self._make_call(first + offset)
            self._calls.append(call)
            self._epochs.append(call.epoch)

    def _make_call(self, epoch: int) -> SimCall:
        # random() and index arithmetic instead of randrange/choices: a benchmark builds 10^5+ calls
        random_unit = self._rng.random
        index = len(self._calls)
        caller = self._pick_caller()
        previous = self._seen.get(caller)
        counter = previous[0] + 1 if previous else 1
        repeated = previous is not None and epoch - previous[1] <= self.sale_cycle_days * 86400
        self._seen[caller] = (counter, epoch)
        static = bool(self.static_pools) and random_unit() < self.static_share
        pools = self.static_pools if static else self.dynamic_pools
        pool_index = int(random_unit() * len(pools))
        disposition = self._disposition_names[bisect_left(self._disposition_bounds, random_unit())]
        answered = disposition == ANSWERED
        billsec = 5 + int(random_unit() * 396) if answered else 0
        if answered and repeated:
            disposition = "REPEATED"
        elif answered and billsec >= self.target_billsec:
            disposition = "PROPER"
        return SimCall(
            sequence=index,
            uniqueid=f"{epoch}.{index}",
            epoch=epoch,
            caller=caller,
            dst=self._tracking_number(static, pool_index),
            pool=pools[pool_index],
            static=static,
            utm=None if static else self._pick_utm(),
            disposition=disposition,
            waittime=3 + int(random_unit() * 38),
            billsec=billsec,
            call_counter=counter,
            repeated=repeated,
            staff=int(random_unit() * len(STAFF)) if answered else None,
            call_type=self._pick_call_type(),
        )

    def _pick_call_type(self) -> str:
        if len(self.call_types) == 1:
            return self.call_types[0][0]  # no draw: scenarios with one direction stay as they were
        total = sum(weight for _, weight in self.call_types)
        point, reached = self._rng.random() * total, 0.0
        for name, weight in self.call_types:
            reached += weight
            if point < reached:
                return name
        return self.call_types[-1][0]

    def _pick_caller(self) -> str:
        random_unit = self._rng.random
        if self._callers and random_unit() < self.repeat_share:
            return self._callers[int(random_unit() * len(self._callers))]
        caller = f"380{MOBILE_CODES[int(random_unit() * len(MOBILE_CODES))]}{int(random_unit() * 10**7):07d}"
        if caller not in self._seen:
            self._callers.append(caller)
        return caller

    def _tracking_number(self, static: bool, pool_index: int) -> str:
        if static:
            return f"38044{2000000 + pool_index:07d}"
        # a dynamic pool shows one of its few numbers to each visitor
        return f"38044{3000000 + pool_index * 100 + int(self._rng.random() * 5):07d}"

    def _pick_utm(self) -> tuple[str, str, str, str, str]:
        random_unit = self._rng.random
        source = self.utm_sources[int(random_unit() * len(self.utm_sources))]
        if source == "(direct)":
            return DIRECT_UTM
        campaign = self.utm_campaigns[int(random_unit() * len(self.utm_campaigns))]
        return (source, "cpc", campaign, f"ad{1 + int(random_unit() * 9)}", "купити диван")


# --- rendering a call as Ringostat does (B2.2) --------------------------------------------------------
Renderer = Callable[[SimCall, "RenderContext"], Any]


@dataclass(frozen=True)
class RenderContext:
    tz: ZoneInfo
    project_id: int


def _recording_token(call: SimCall) -> str:
    return hashlib.md5(call.uniqueid.encode()).hexdigest()


def _utm(position: int) -> Renderer:
    return lambda call, _: call.utm[position] if call.utm else None


def _visit(value: Callable[[SimCall], str]) -> Renderer:
    """A visitor attribute: dynamic calltracking knows the visit, static does not."""
    return lambda call, _: None if call.static else value(call)


def _recording(extension: str) -> Renderer:
    def render(call: SimCall, _: RenderContext) -> str | None:
        if not call.answered:
            return None
        return f"https://app.ringostat.com/recordings/{call.uniqueid}.{extension}?token={_recording_token(call)}"

    return render


def _staff(position: int) -> Renderer:
    return lambda call, _: STAFF[call.staff][position] if call.staff is not None else None


RENDERERS: dict[str, Renderer] = {
    "calldate": lambda call, ctx: datetime.fromtimestamp(call.epoch, ctx.tz).strftime(CALLDATE_FORMAT),
    "caller": lambda call, _: (
        f'"manager{STAFF[call.staff or 0][0]}" <sip{STAFF[call.staff or 0][0]}>' if call.outgoing else call.caller
    ),
    "dst": lambda call, _: call.caller if call.outgoing else call.dst,
    "pool_name": lambda call, _: call.pool,
    "disposition": lambda call, _: call.disposition,
    "category_mark": lambda call, _: 0,
    "duration": lambda call, _: call.waittime + call.billsec,
    "call_type": lambda call, _: call.call_type,
    "waittime": lambda call, _: str(call.waittime),
    "billsec": lambda call, _: call.billsec,
    "connected_with": lambda call, _: f"38067{1110000 + STAFF[call.staff][0]}" if call.staff is not None else "",
    "call_counter": lambda call, _: call.call_counter,
    "proper_flag": lambda call, _: int(call.disposition == "PROPER"),
    "repeated_flag": lambda call, _: int(call.repeated),
    "utm_source": _utm(0),
    "utm_medium": _utm(1),
    "utm_campaign": _utm(2),
    "utm_content": _utm(3),
    "utm_term": _utm(4),
    "uniqueid": lambda call, _: call.uniqueid,
    "category_number": lambda call, _: -1,
    "employee_number": lambda call, _: STAFF[call.staff][0] if call.staff is not None else -1,
    "employee_mark": lambda call, _: 0,
    "client_id": _visit(lambda call: f"{1169999034 + call.sequence}.{1555555510 + call.sequence}"),
    "remote_ip": _visit(
        lambda call: f"10.{call.sequence // 65536 % 256}.{call.sequence // 256 % 256}.{call.sequence % 256}"
    ),
    "refferrer": _visit(lambda call: "https://www.google.com/" if call.utm and call.utm[1] == "cpc" else ""),
    "landing": _visit(lambda call: f"https://shop.example.ua/?utm_source={call.utm[0] if call.utm else ''}"),
    "recording": _recording("ogg"),
    "call_card": lambda call, ctx: (
        f"https://app.ringostat.com/project/callcards/card/{call.uniqueid}/?project_id={ctx.project_id}"
    ),
    # the doc's first example row lacks this key and the second has it empty: present for answered calls
    "additional_number": lambda call, _: "" if call.answered else None,
    "has_recording": lambda call, _: "1" if call.answered else "0",
    "scheme_name": lambda call, _: "Main scheme",
    "duration_ms": lambda call, _: str((call.waittime + call.billsec) * 1000),
    "recording_wav": _recording("wav"),
    "department": _staff(2),
    # only outgoing calls show a number to the client: the pool's tracking number
    "caller_number": lambda call, _: call.dst if call.outgoing else None,
    "employee_fio": _staff(1),
    "missing_reason": lambda call, _: MISSED_REASONS.get(call.disposition),
}
#: Fields documented as string-or-null (B2.2): they come as JSON null rather than being left out.
NULLABLE_FIELDS = frozenset({"employee_fio", "department"})


def render_row(call: SimCall, names: Sequence[str], context: RenderContext) -> dict[str, Any]:
    """The call with the requested fields, in the requested order, leaving out fields with no value."""
    row: dict[str, Any] = {}
    for name in names:
        value = RENDERERS[name](call, context)
        if value is not None or name in NULLABLE_FIELDS:
            row[name] = value
    return row


# --- the simulator ------------------------------------------------------------------------------------
@dataclass
class RingostatKnobs:
    """Behaviour the documents leave open. Tests may change these between requests."""

    #: Over the cap: "truncate" silently returns the first rows, "error" refuses (B2.1 [UNCERTAIN]).
    cap_mode: Literal["truncate", "error"] = "truncate"
    row_cap: int = ROW_CAP
    #: A rejected field: "400" answers `400 incorrect field: <name>`, "200-text" a 200 HTML page (B2.5).
    unknown_field_mode: Literal["400", "200-text"] = "400"
    #: Known fields this install nevertheless rejects, e.g. the newer `employee_fio` (D2).
    rejected_fields: frozenset[str] = frozenset()
    #: Body of the 401 for a bad or missing key: "json" or "text" [UNCERTAIN].
    auth_error_format: Literal["json", "text"] = "json"
    #: Keys that used to work; they get `revoked_status` (undocumented, so a knob).
    revoked_keys: frozenset[str] = frozenset()
    revoked_status: int = 403
    #: How a call list is written: "compact" as the documented examples (B2.4, `{"calldate":"…","caller":…}`),
    #: "spaced" with a space after each separator (Python's default) [UNCERTAIN].
    json_style: Literal["compact", "spaced"] = "compact"
    #: An empty result: "array" sends `[]`, "empty-body" sends nothing (B2.3).
    empty_result: Literal["array", "empty-body"] = "array"
    #: The zone naive `from`/`to` are read in: the project's, or UTC as one client assumes (B5.4).
    #: A wall-clock time that DST makes ambiguous is read as its first occurrence.
    window_tz: Literal["project", "UTC"] = "project"
    #: Whether a call at exactly `to` is included (the R client's NEWS suggests not, B2.1).
    to_inclusive: bool = False
    default_order: Literal["asc", "desc"] = "asc"
    default_fields: tuple[str, ...] = EXAMPLE_FIELDS
    #: "Now" for a missing `to`; None means the end of the scenario.
    now: datetime | None = None
    #: (count, seconds) per key, answered with 429 + Retry-After. None: no limit (none is documented).
    #: Read when the simulator is built.
    rate_limit: tuple[int, float] | None = None
    #: A path listing the key's project numbers (no names), e.g. "/projects/list". None: not served,
    #: as no such endpoint is documented. Read when the simulator is built.
    projects_endpoint: str | None = None


class BadRequest(Exception):
    """A request the simulated API refuses; carries the answer to send."""

    def __init__(self, response: SimResponse) -> None:
        super().__init__(response.body)
        self.response = response


class RingostatSimulator(Simulator):
    name = "ringostat"

    def __init__(
        self,
        scenario: RingostatScenario | None = None,
        *,
        seed: int = 42,
        auth_key: str = "ringostat-demo-auth-key",
        knobs: RingostatKnobs | None = None,
        faults: FaultKnobs | None = None,
    ) -> None:
        self.scenario = scenario or RingostatScenario(seed=seed)
        super().__init__(seed=self.scenario.seed, faults=faults)
        self.auth_key = auth_key
        self.knobs = knobs or RingostatKnobs()
        self._limit = SlidingWindowLimit(*self.knobs.rate_limit) if self.knobs.rate_limit else None
        self.route("GET", r"/calls/list", self._calls_list)
        if self.knobs.projects_endpoint:
            self.route("GET", re.escape(self.knobs.projects_endpoint.rstrip("/")), self._projects)

    def demo_credentials(self) -> str:
        return f"Auth-key {self.auth_key} (project {self.scenario.project_id})"

    def fault_response(self, kind: str, request: SimRequest) -> SimResponse:
        if kind == "malformed":
            return text_response('[{"calldate":"2024-06-01T09:13:43+0300","caller":"3804', 200, "application/json")
        return super().fault_response(kind, request)

    # --- handlers ---------------------------------------------------------------------------------
    def _calls_list(self, request: SimRequest) -> SimResponse:
        try:
            self._admit(request)
            names = self._fields(request)
            calls = self._select(request)
        except BadRequest as refused:
            return refused.response
        if len(calls) > self.knobs.row_cap and self.knobs.cap_mode == "error":
            return text_response(
                f"It is not possible to export more than {self.knobs.row_cap} calls in one request. "
                "Split the period so that each request exports fewer calls.",
                400,
            )
        context = RenderContext(self.scenario.tz, self.scenario.project_id)
        rows = [render_row(call, names, context) for call in calls[: self.knobs.row_cap]]
        self.rows_served[request.path] += len(rows)
        if request.arg("export_type", "json") == "csv":
            return self._csv(rows, names)
        if not rows and self.knobs.empty_result == "empty-body":
            return SimResponse(200, None)
        return SimResponse(200, rows, separators=(",", ":") if self.knobs.json_style == "compact" else None)

    def _projects(self, request: SimRequest) -> SimResponse:
        try:
            self._admit(request)
        except BadRequest as refused:
            return refused.response
        return SimResponse(200, [self.scenario.project_id])

    # --- auth, gateway, rate limit ------------------------------------------------------------------
    def _admit(self, request: SimRequest) -> None:
        key = request.header("Auth-key")
        if key is not None and any(name.lower() in KEY_QUERY_PARAMS for name in request.query):
            raise BadRequest(text_response(GATEWAY_400, 400, "text/html"))
        if key is not None and key in self.knobs.revoked_keys:
            raise BadRequest(text_response("Access denied", self.knobs.revoked_status))
        if key != self.auth_key:
            raise BadRequest(self._unauthorized())
        if self._limit is not None:
            wait = self._limit.hit(key)
            if wait is not None:
                retry_after = str(max(1, math.ceil(wait)))
                raise BadRequest(SimResponse(429, "Too Many Requests", {"Retry-After": retry_after}, "text/plain"))

    def _unauthorized(self) -> SimResponse:
        if self.knobs.auth_error_format == "json":
            return SimResponse(401, {"error": "Unauthorized", "message": "Invalid Auth-key"})
        return text_response("Unauthorized", 401)

    # --- parameters --------------------------------------------------------------------------------
    def _fields(self, request: SimRequest) -> list[str]:
        if request.arg("export_type", "json") not in ("json", "csv"):
            raise BadRequest(text_response("incorrect export_type", 400))
        raw = request.arg("fields")
        names = [name.strip() for name in raw.split(",") if name.strip()] if raw else list(self.knobs.default_fields)
        for name in names:
            self._check_field(name)
        return names

    def _check_field(self, name: str) -> None:
        if name in KNOWN_FIELDS and name not in self.knobs.rejected_fields:
            return
        if self.knobs.unknown_field_mode == "400":
            raise BadRequest(text_response(f"incorrect field: {name}", 400))
        page = f"<html><body><p>Error: unknown field: {name}</p></body></html>"
        raise BadRequest(text_response(page, 200, "text/html; charset=utf-8"))

    def _select(self, request: SimRequest) -> list[SimCall]:
        start, end = self._window(request)
        calls = self.scenario.calls_between(start, end + 1 if self.knobs.to_inclusive else end)
        for condition in request.query.get("filters", []):
            calls = self._filter(calls, condition)
        calls = self._merge(calls, request.arg("merge", "0") or "0")
        order = (request.arg("order") or f"calldate {self.knobs.default_order}").strip().lower().split()
        if order not in (["calldate", "asc"], ["calldate", "desc"]):
            raise BadRequest(text_response("incorrect order", 400))
        return calls[::-1] if order[1] == "desc" else calls

    def _window(self, request: SimRequest) -> tuple[int, int]:
        zone = self.scenario.tz if self.knobs.window_tz == "project" else ZoneInfo("UTC")
        to_text, from_text = request.arg("to"), request.arg("from")
        end = _parse_window(to_text, zone) if to_text else self.knobs.now or self.scenario.end
        start = _parse_window(from_text, zone) if from_text else end - timedelta(hours=24)
        return int(start.timestamp()), int(end.timestamp())

    def _filter(self, calls: list[SimCall], condition: str) -> list[SimCall]:
        name, operator, value = _split_condition(condition)
        self._check_field(name)
        if operator == "~":
            wanted = {alternative.lower() for alternative in _b64_alternatives(value)}
            matches: Callable[[str], bool] = lambda text: text.lower() in wanted  # noqa: E731
        else:
            matches = lambda text: text == value  # noqa: E731
        render = RENDERERS[name]
        context = RenderContext(self.scenario.tz, self.scenario.project_id)
        return [call for call in calls if (rendered := render(call, context)) is not None and matches(str(rendered))]

    def _merge(self, calls: list[SimCall], mode: str) -> list[SimCall]:
        """`merge=1` keeps one row per caller and local day, `merge=2` one per caller; the row kept is
        the caller's latest call, so a repeat shows as REPEATED as in the doc's example [UNCERTAIN]."""
        if mode == "0":
            return calls
        if mode not in ("1", "2"):
            raise BadRequest(text_response("incorrect merge", 400))
        tz = self.scenario.tz
        latest: dict[tuple[str, date | None], SimCall] = {}
        for call in calls:
            day = datetime.fromtimestamp(call.epoch, tz).date() if mode == "1" else None
            latest[(call.caller, day)] = call
        return sorted(latest.values(), key=lambda call: call.sequence)

    def _csv(self, rows: list[dict[str, Any]], names: Sequence[str]) -> SimResponse:
        if not rows and self.knobs.empty_result == "empty-body":
            return SimResponse(200, None, content_type="text/csv; charset=utf-8")
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(names), delimiter=";", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return SimResponse(200, buffer.getvalue(), content_type="text/csv; charset=utf-8")


def _parse_window(text: str, zone: ZoneInfo) -> datetime:
    """A naive `YYYY-MM-DD HH:MM:SS` (or a bare date, as the R client sends) read in `zone`."""
    for pattern in (WINDOW_FORMAT, "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), pattern).replace(tzinfo=zone)
        except ValueError:
            continue
    raise BadRequest(text_response(f"incorrect date: {text}", 400))


def _split_condition(condition: str) -> tuple[str, str, str]:
    """`field=value` or `field~<base64>`; base64 may end in `=`, so split at the first operator."""
    positions = [position for position in (condition.find("="), condition.find("~")) if position > 0]
    if not positions:
        raise BadRequest(text_response(f"incorrect filter: {condition}", 400))
    cut = min(positions)
    return condition[:cut], condition[cut], condition[cut + 1 :]


def _b64_alternatives(value: str) -> list[str]:
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise BadRequest(text_response(f"incorrect filter value: {value}", 400)) from None
    return decoded.split("|")


__all__ = [
    "DOCUMENTED_FIELDS",
    "KNOWN_FIELDS",
    "NEWER_FIELDS",
    "ROW_CAP",
    "CallTruth",
    "RingostatKnobs",
    "RingostatScenario",
    "RingostatSimulator",
    "SimCall",
    "render_row",
]
