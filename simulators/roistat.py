"""Roistat API simulator, written from roistat-ringostat.md Part A and the doc-shaped fixtures in
fixtures/roistat/ (it shares nothing with the Leadhub client).

Base path `/api/v1`. Endpoints: `GET /user/projects`; `POST|GET /project/calltracking/call/list`;
`POST|GET /project/integration/order/list`; `POST|GET /project/integration/status/list`;
`POST|GET /project/calltracking/script/list`; `POST /project/clients`;
`GET /project/proxy-leads?period=YYYY-MM-DD-YYYY-MM-DD`; `GET /project/proxy-leads/{id}`.

Vendor behaviour reproduced:
- Auth (A1): key in the `Api-key` header or the `key` query parameter, project in the `project` query
  parameter. Wrong or revoked key → `authentication_failed`; a project the key cannot see →
  `access_denied`.
- Envelope (A2): `{"status":"error","error":code,"description":text}` with HTTP 200, unless the
  request carries `Use-Http-Code: 1`; then the status pairs of A2 (`HTTP_STATUS`). Injected faults
  are dressed the same way: "429" is a `request_limit_error` body, "500" an `internal_error` body.
- Rate limits (A3), server side, per project: 10/s and 5000/h for everything, order/list 20/min
  without `extend`, 1/5/10 per minute with `extend` by `limit` (>1000 / >100 / ≤100).
- List grammar (A4): flat triples and nested `and`/`or` trees with `=,>,<,>=,<=`; a one-condition
  `and` is the documented `internal_error` bug; unknown body keys are ignored; `limit` is clamped
  silently; `total` counts the whole filtered set; `sort`; `extend` gives a nested object or null.
- Dates (A5): filter values in ISO-8601 with any offset (`+0000`, `+0300`, `+03:00`, `Z`), naive ones
  read as UTC; record timestamps in UTC `+0000`; proxy-lead and client dates naive UTC.
- Statuses (A6.4, seed 003 "Not registered"): one status has no type, the «Не учитывается» bucket.
- Clients (A6.6) answer `option_not_enabled` when «Управление клиентами» is off.

Data: `RoistatScenario` is seeded and generated lazily per project and day (`scale` multiplies the daily
counts for benchmarks); `truth()` says what each call really is (static channel, marker, campaign, tags)
for reports to be checked against, `lead_truth()` the same of each proxy lead; over HTTP both answer
`GET /__sim__/roistat/truth?project=…&from=…&to=…` (read-only, for the local stack's tests).

[UNCERTAIN] points are knobs (`RoistatKnobs`, `RoistatScenario`): the `tags` shape, whether the
not-counted status has `type: null` or no `type`, the proxy-lead `period` time zone, the envelope key
of a single proxy lead, HTTP codes for `insufficient_funds` / `project_frozen` / `authorization_failed`,
and whether the rate-limit answer carries Retry-After (none documented). A `/list` method called with
GET reads `limit`/`offset` and JSON-encoded `filters`/`sort`/`extend` from the query string: the doc
allows GET but does not say how arguments travel. A filter on an unknown field answers
`request_data_validation_error` (the probe's "Metric … is invalid" shape).
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from simulators.base import FaultKnobs, SimRequest, SimResponse, Simulator, SlidingWindowLimit, json_response

BASE_PATH = "/api/v1"
DEFAULT_API_KEY = "sim-roistat-key-0123456789abcdef"

#: Error code → HTTP status with `Use-Http-Code: 1` (A2). The last three are not documented.
HTTP_STATUS: dict[str, int] = {
    "authentication_failed": 401,
    "access_denied": 403,
    "option_not_available": 403,
    "option_not_paid": 402,
    "option_not_enabled": 402,
    "resource_not_found": 404,
    "incorrect_request": 400,
    "integration_error": 400,
    "request_data_validation_error": 400,
    "request_limit_error": 429,
    "internal_error": 500,
    "unknown_error": 500,
    "insufficient_funds": 402,  # [UNCERTAIN]
    "project_frozen": 403,  # [UNCERTAIN]
    "authorization_failed": 424,  # [UNCERTAIN] the CRM behind Roistat is unreachable
}

#: Status type → the group code order/list filters on (`["status","=","1"]` = paid), A4.
STATUS_GROUP_CODES = {"progress": "0", "paid": "1", "canceled": "2"}

NAIVE_TIME = "%Y-%m-%d %H:%M:%S"
PERIOD_PATTERN = re.compile(r"^(\d{4}-\d{2}-\d{2})-(\d{4}-\d{2}-\d{2})$")
COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
}
CALL_STATUSES = (("ANSWER", 0.7), ("NOANSWER", 0.15), ("BUSY", 0.1), ("CANCEL", 0.05))

# Id bases; every id also encodes its day, so a row is found without scanning (see `_DaySlots`).
PROJECT_ID_BASE = 10001
PROJECT_ID_SPAN = 100_000_000
CALL_ID_BASE = 100_000
ORDER_ID_BASE = 500_000
VISIT_ID_BASE = 2_000_000
LEAD_ID_BASE = 10_000


class RoistatApiError(Exception):
    """A refusal, answered in Roistat's error envelope."""

    def __init__(
        self,
        code: str,
        description: str,
        *,
        details: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.details = details
        self.retry_after = retry_after


# --- scenario --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaticChannel:
    """A static calltracking script: its calls carry `static_source.system_name == value`."""

    value: str
    display_name: str
    phone: str
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None


@dataclass(frozen=True)
class DynamicSource:
    """A traffic source of dynamic calltracking; markers are `<marker>_<campaign>` at level 2."""

    marker: str
    display_name: str
    utm_source: str | None
    utm_medium: str | None
    campaigns: tuple[str, ...] = ()


@dataclass(frozen=True)
class OrderStatus:
    id: str
    name: str
    type: str | None  # None: «Не учитывается», a status mapped to no group


DEFAULT_STATIC_CHANNELS = (
    StaticChannel("avito", "Авито", "74951110001", "avito", "classified", "avito_listing"),
    StaticChannel("2gis", "2ГИС", "74951110002", "2gis", "catalog"),
    StaticChannel("оффлайн", "Оффлайн реклама", "74951110003"),
)
DYNAMIC_SOURCES = (
    DynamicSource("direct1", "Яндекс.Директ", "yandex", "cpc", ("brand", "generic", "rsya_retarget")),
    DynamicSource("google", "Google Ads", "google", "cpc", ("search_msk", "pmax")),
    DynamicSource("vk", "VK Реклама", "vk", "cpc", ("lookalike",)),
    DynamicSource("seo", "Поисковые системы", None, None),
    DynamicSource("direct", "Прямые визиты", None, None),
)
DYNAMIC_PHONES = ("74952220001", "74952220002", "74952220003", "74952220004")
DEFAULT_STATUSES = (
    OrderStatus("1", "Новая заявка", "progress"),
    OrderStatus("2", "В работе", "progress"),
    OrderStatus("3", "Оплачено", "paid"),
    OrderStatus("4", "Отказ", "canceled"),
    OrderStatus("5", "Спам / дубль", None),
)
STATUS_WEIGHTS = (3, 3, 3, 2, 1)
MANAGERS = ("Анна Смирнова", "Игорь Петров", "Ольга Ким")
#: Roistat's label for no campaign (seed 000).
UNDEFINED = "Неизвестная кампания (Undefined)"
NONE = "(none)"
LEAD_TITLES = ("Заявка с формы «Перезвоните мне»", "Онлайн-чат", "Лид-ловец", "Квиз")


@dataclass(frozen=True)
class RoistatScenario:
    """What the simulated account holds. Counts per day are multiplied by `scale`."""

    seed: int = 42
    projects: int = 2
    start: date = date(2024, 3, 1)
    days: int = 14
    timezone: str = "Europe/Moscow"
    calls_per_day: int = 40
    orders_per_day: int = 12
    proxy_leads_per_day: int = 8
    clients: int = 60
    scale: float = 1.0
    #: Share of calls that came through a static (offline, classified) number.
    static_share: float = 0.25
    #: Share of dynamic calls Roistat could not match to a visit (`visit: null`).
    unattributed_share: float = 0.1
    #: Share of calls from a small pool of returning callers.
    repeat_caller_share: float = 0.3
    #: Share of answered calls that created a CRM deal (`order_id`).
    call_order_share: float = 0.3
    tags: tuple[str, ...] = ("целевой", "квал", "повторный")
    tagged_share: float = 0.35
    #: [UNCERTAIN] A6.1: "strings" (array, [] when none), "null_if_empty", or "objects" ([{"name":…}]).
    tags_shape: str = "strings"
    #: [UNCERTAIN] A6.4: the not-counted status as `"type": null` ("null") or without `type` ("absent").
    not_counted_status_shape: str = "null"
    #: Share of genuine proxy leads (forms, chats) from the returning callers' numbers.
    repeat_lead_share: float = 0.3
    #: Share of genuine proxy leads with an e-mail but no phone (from a small pool: repeats by e-mail).
    email_only_lead_share: float = 0.15
    #: Share of genuine proxy leads that create a CRM deal (after the lead).
    lead_order_share: float = 0.4
    #: Seed 000: Roistat creates a proxy lead "artificially" for every CRM deal without an inquiry (the
    #: deals made in the CRM, and those made from static calls), a few minutes after the deal.
    artificial_leads: bool = True
    #: [UNCERTAIN] deal `creation_date` with the offset ("utc", `…+0000`) or without it ("naive", read as UTC).
    order_date_shape: str = "utc"
    static_channels: tuple[StaticChannel, ...] = DEFAULT_STATIC_CHANNELS
    statuses: tuple[OrderStatus, ...] = DEFAULT_STATUSES

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def project_ids(self) -> list[int]:
        return [PROJECT_ID_BASE + index for index in range(self.projects)]

    def per_day(self, count: int) -> int:
        return max(0, round(count * self.scale))


@dataclass(frozen=True)
class CallTruth:
    """What a generated call really is, for reports to be checked against."""

    call_id: str
    project_id: int
    date: datetime
    kind: str  # "static" | "dynamic" | "unattributed" (dynamic, no visit: «Неизвестная кампания»)
    channel: str | None  # static channel value, or the level-1 marker of the visit source
    marker: str | None  # the full marker (`system_name`)
    campaign: str | None  # utm_campaign
    tags: tuple[str, ...]
    caller: str


@dataclass(frozen=True)
class LeadTruth:
    """Where a generated proxy lead really comes from: its visit's source (utm_source, else the
    level-1 marker) and campaign; both None for a lead without a visit."""

    lead_id: str
    source: str | None
    campaign: str | None
    created: datetime | None = None
    #: Made by Roistat for a deal without an inquiry (seed 000), not by a visitor.
    artificial: bool = False


@dataclass(frozen=True)
class _Visit:
    id: str
    source: DynamicSource
    campaign: str | None
    date: datetime

    @property
    def marker(self) -> str:
        return f"{self.source.marker}_{self.campaign}" if self.campaign else self.source.marker


@dataclass(slots=True)
class _Row:
    data: dict[str, Any]
    #: Parsed record timestamps, so filters and sort never re-parse strings.
    when: dict[str, datetime]
    visit: _Visit | None = None
    #: For calls, what `truth` reports: the static channel and the tags before shaping.
    channel: StaticChannel | None = None
    tags: tuple[str, ...] = ()
    #: For deals: the status and the static marker a deal from a static call keeps.
    status: OrderStatus | None = None
    marker: str | None = None
    #: For proxy leads: made by Roistat for a deal without an inquiry (seed 000).
    artificial: bool = False


@dataclass
class _Day:
    calls: list[_Row]
    orders: list[_Row]
    leads: list[_Row]
    orders_by_id: dict[str, _Row]


@dataclass(frozen=True)
class _DaySlots:
    """How many ids a day reserves per kind; an id is `base + day * slots + index`."""

    calls: int
    orders: int
    leads: int

    @property
    def order_slots(self) -> int:
        return self.calls + self.orders + self.leads

    @property
    def lead_slots(self) -> int:
        """Genuine leads, then one artificial lead per deal at most."""
        return self.leads + self.order_slots

    @property
    def visit_slots(self) -> int:
        return self.calls + self.orders + self.leads


def _utc_text(moment: datetime) -> str:
    # By hand: strftime is the largest cost when a benchmark asks for hundreds of thousands of rows.
    d = moment.astimezone(UTC)
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:{d.second:02d}+0000"


def _naive_utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(NAIVE_TIME)


def _aware(text: str | None) -> datetime | None:
    """An ISO instant that says its offset (a naive one would be ambiguous); None for no text."""
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return moment


def _between(rng: random.Random, low: int, high: int) -> int:
    """low <= n < high; cheaper than randrange, which matters at benchmark scale."""
    return low + int(rng.random() * (high - low))


def _rng(*parts: object) -> random.Random:
    # A str seed is hashed with SHA-512 by `random`, so it is stable across processes.
    return random.Random("/".join(str(part) for part in parts))


class RoistatData:
    """The scenario's rows, generated lazily per project and day and cached."""

    def __init__(self, scenario: RoistatScenario) -> None:
        self.scenario = scenario
        self.zone = scenario.zone
        self.slots = _DaySlots(
            calls=scenario.per_day(scenario.calls_per_day),
            orders=scenario.per_day(scenario.orders_per_day),
            leads=scenario.per_day(scenario.proxy_leads_per_day),
        )
        # Shared by every static call row: rows are never mutated once built.
        self._static_sources = {channel: self._static_source_object(channel) for channel in scenario.static_channels}
        self._days: dict[tuple[int, int], _Day] = {}
        self._clients: dict[int, list[_Row]] = {}
        self._lock = threading.Lock()

    # --- public accessors ---------------------------------------------------------------------
    def day(self, project_id: int, index: int) -> _Day:
        key = (project_id, index)
        with self._lock:
            cached = self._days.get(key)
        if cached is None:
            cached = self._build_day(project_id, index)
            with self._lock:
                cached = self._days.setdefault(key, cached)
        return cached

    def day_range(self, start: datetime | None, end: datetime | None) -> range:
        """Indexes of the days that may hold records in [start, end], with a day of slack either side."""
        first = 0 if start is None else max(0, (start.astimezone(self.zone).date() - self.scenario.start).days - 1)
        last = self.scenario.days - 1
        if end is not None:
            last = min(last, (end.astimezone(self.zone).date() - self.scenario.start).days + 1)
        return range(first, last + 1)

    def day_start(self, index: int) -> datetime:
        local = self.scenario.start + timedelta(days=index)
        return datetime(local.year, local.month, local.day, tzinfo=self.zone)

    def truth(self, project_id: int, start: datetime | None = None, end: datetime | None = None) -> list[CallTruth]:
        """Every generated call of the project with date in [start, end), by date."""
        return [
            self._truth(project_id, row)
            for index in self.day_range(start, end)
            for row in self.day(project_id, index).calls
            if (start is None or row.when["date"] >= start) and (end is None or row.when["date"] < end)
        ]

    @staticmethod
    def _truth(project_id: int, row: _Row) -> CallTruth:
        channel, visit = row.channel, row.visit
        if channel is not None:
            kind, level_1, marker, campaign = "static", channel.value, channel.value, channel.utm_campaign
        elif visit is not None:
            kind, level_1, marker, campaign = "dynamic", visit.source.marker, visit.marker, visit.campaign
        else:
            kind, level_1, marker, campaign = "unattributed", None, None, None
        return CallTruth(
            call_id=row.data["id"],
            project_id=project_id,
            date=row.when["date"],
            kind=kind,
            channel=level_1,
            marker=marker,
            campaign=campaign,
            tags=row.tags,
            caller=row.data["caller"],
        )

    def clients(self, project_id: int) -> list[_Row]:
        with self._lock:
            cached = self._clients.get(project_id)
        if cached is None:
            cached = self._build_clients(project_id)
            with self._lock:
                cached = self._clients.setdefault(project_id, cached)
        return cached

    def order(self, project_id: int, order_id: str) -> _Row | None:
        day = self._day_of(order_id, ORDER_ID_BASE, self.slots.order_slots, project_id)
        return None if day is None else self.day(project_id, day).orders_by_id.get(order_id)

    def lead(self, project_id: int, lead_id: str) -> _Row | None:
        day = self._day_of(lead_id, LEAD_ID_BASE, self.slots.lead_slots, project_id)
        if day is None:
            return None
        return next((row for row in self.day(project_id, day).leads if row.data["id"] == lead_id), None)

    def render_visit(self, visit: _Visit) -> dict[str, Any]:
        """A visit as `extend:["visit"]` attaches it (shape of site/visit/list rows, A6.1)."""
        number = int(visit.id)
        source = self._source_object(visit.source, visit.campaign)
        return {
            "id": visit.id,
            "first_id": visit.id if number % 3 else str(number - 1),
            "date": _utc_text(visit.date),
            "referrer": source["referrer"],
            "host": "shop.example.ru",
            "landing_page": f"https://shop.example.ru/landing/{number % 7}",
            "agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
            "ip": f"95.{number % 251}.{number // 251 % 251}.{number % 97}",
            "google_client_id": f"{number}.1700000000",
            "metrika_client_id": f"17000000{number:012d}",
            "source": source,
            "geo": {"country": "Россия", "region": "Москва", "city": "Москва", "country_iso": "RU"},
            "device": {"os": "Windows 10 x64", "agent": "Chrome", "is_mobile": number % 2},
        }

    # --- generation ---------------------------------------------------------------------------
    def _project_offset(self, project_id: int) -> int:
        return (project_id - PROJECT_ID_BASE) * PROJECT_ID_SPAN

    def _day_of(self, row_id: str, base: int, slots: int, project_id: int) -> int | None:
        if not row_id.isdigit() or slots == 0:
            return None
        index = (int(row_id) - base - self._project_offset(project_id)) // slots
        return index if 0 <= index < self.scenario.days else None

    def _moments(self, rng: random.Random, index: int, count: int) -> list[datetime]:
        start = self.day_start(index).timestamp()
        length = self.day_start(index + 1).timestamp() - start  # 23 or 25 hours on a DST change
        return sorted(datetime.fromtimestamp(start + int(rng.random() * length), UTC) for _ in range(count))

    def _visit_id(self, project_id: int, index: int, slot: int) -> str:
        return str(VISIT_ID_BASE + self._project_offset(project_id) + index * self.slots.visit_slots + slot)

    def _random_visit(self, rng: random.Random, visit_id: str, before: datetime) -> _Visit:
        source = rng.choice(DYNAMIC_SOURCES)
        campaign = rng.choice(source.campaigns) if source.campaigns else None
        return _Visit(visit_id, source, campaign, before - timedelta(minutes=_between(rng, 1, 600)))

    def _build_day(self, project_id: int, index: int) -> _Day:
        seed = self.scenario.seed
        calls, call_orders = self._build_calls(_rng(seed, project_id, index, "calls"), project_id, index)
        orders = call_orders + self._build_orders(_rng(seed, project_id, index, "orders"), project_id, index)
        leads, lead_orders = self._build_leads(_rng(seed, project_id, index, "leads"), project_id, index)
        leads += self._artificial_leads(_rng(seed, project_id, index, "artificial"), project_id, index, orders)
        orders += lead_orders
        orders_by_id = {row.data["id"]: row for row in orders}
        return _Day(calls, orders, leads, orders_by_id)

    def _build_calls(self, rng: random.Random, project_id: int, index: int) -> tuple[list[_Row], list[_Row]]:
        rows: list[_Row] = []
        orders: list[_Row] = []
        id_base = CALL_ID_BASE + self._project_offset(project_id) + index * self.slots.calls
        for slot, moment in enumerate(self._moments(rng, index, self.slots.calls)):
            row = self._call(rng, project_id, str(id_base + slot), moment, self._visit_id(project_id, index, slot))
            if row.data["status"] == "ANSWER" and rng.random() < self.scenario.call_order_share:
                order = self._order_from_call(rng, project_id, index, slot, row)
                row.data["order_id"] = order.data["id"]
                orders.append(order)
            rows.append(row)
        return rows, orders

    def _call(self, rng: random.Random, project_id: int, call_id: str, moment: datetime, visit_id: str) -> _Row:
        scenario = self.scenario
        status = self._call_status(rng.random())
        waiting, talk = self._durations(rng, status)
        caller = self._caller(rng, project_id, call_id)
        tags = self._tags(rng)
        channel: StaticChannel | None = None
        visit: _Visit | None = None
        if scenario.static_channels and rng.random() < scenario.static_share:
            channel = rng.choice(scenario.static_channels)
            callee, script_name = channel.phone, f"Статический: {channel.display_name}"
        else:
            callee, script_name = rng.choice(DYNAMIC_PHONES), "Динамический: shop.example.ru"
            if rng.random() >= scenario.unattributed_share:
                visit = self._random_visit(rng, visit_id, moment)
        data = {
            "id": call_id,
            "callee": callee,
            "caller": caller,
            "duration": waiting + talk,
            "waiting_time": waiting,
            "answer_duration": talk,
            "status": status,
            "date": _utc_text(moment),
            "link": f"https://cloud.roistat.com/api/v1/project/calltracking/call/{call_id}/file" if talk else None,
            "visit_id": visit.id if visit else None,
            "order_id": None,
            "static_source": self._static_sources[channel] if channel else None,
            "visit": None,
            "order": None,
            "comment": None,
            "script_name": script_name,
            "tags": self._shape_tags(tags),
        }
        return _Row(data, {"date": moment}, visit, channel, tags)

    @staticmethod
    def _call_status(roll: float) -> str:
        for status, share in CALL_STATUSES:
            if roll < share:
                return status
            roll -= share
        return CALL_STATUSES[-1][0]

    @staticmethod
    def _durations(rng: random.Random, status: str) -> tuple[int, int]:
        if status == "ANSWER":
            return _between(rng, 3, 40), _between(rng, 15, 600)
        if status == "NOANSWER":
            return _between(rng, 10, 60), 0
        return _between(rng, 0, 20), 0

    def _caller(self, rng: random.Random, project_id: int, call_id: str) -> str:
        if rng.random() < self.scenario.repeat_caller_share:
            return f"7916{project_id % 1000:03d}{_between(rng, 0, 20):04d}"
        # 7919 is prime to 10**9, so distinct calls get distinct one-off numbers.
        return f"79{int(call_id) * 7919 % 10**9:09d}"

    def _tags(self, rng: random.Random) -> tuple[str, ...]:
        if not self.scenario.tags or rng.random() >= self.scenario.tagged_share:
            return ()
        count = rng.randint(1, min(2, len(self.scenario.tags)))
        return tuple(sorted(rng.sample(self.scenario.tags, count)))

    def _shape_tags(self, tags: tuple[str, ...]) -> Any:
        shape = self.scenario.tags_shape
        if shape == "objects":
            return [{"name": tag} for tag in tags]
        if shape == "null_if_empty" and not tags:
            return None
        return list(tags)

    @staticmethod
    def _static_source_object(channel: StaticChannel) -> dict[str, Any]:
        return {
            "system_name": channel.value,
            "display_name": channel.display_name,
            "icon_url": None,
            "utm_source": channel.utm_source,
            "utm_medium": channel.utm_medium,
            "utm_campaign": channel.utm_campaign,
            "utm_term": None,
            "utm_content": None,
            "openstat": None,
            "referrer": None,
            "system_name_by_level": [channel.value],
            "display_name_by_level": [channel.display_name],
        }

    def _source_object(self, source: DynamicSource, campaign: str | None) -> dict[str, Any]:
        levels = [source.marker] + ([f"{source.marker}_{campaign}"] if campaign else [])
        names = [source.display_name] + ([campaign] if campaign else [])
        return {
            "referrer": "https://yandex.ru/" if source.utm_source == "yandex" else "",
            "system_name": levels[-1],
            "display_name": names[-1],
            "icon_url": None,
            "utm_source": source.utm_source,
            "utm_medium": source.utm_medium,
            "utm_campaign": campaign,
            "utm_term": None,
            "utm_content": None,
            "openstat": None,
            "system_name_by_level": levels,
            "display_name_by_level": names,
        }

    def _order_from_call(self, rng: random.Random, project_id: int, index: int, slot: int, call: _Row) -> _Row:
        created = call.when["date"] + timedelta(minutes=_between(rng, 1, 30))
        marker = call.channel.value if call.channel else None
        return self._order(
            rng, project_id, index, slot, created=created, source_type="calltracking", visit=call.visit, marker=marker
        )

    def _build_orders(self, rng: random.Random, project_id: int, index: int) -> list[_Row]:
        rows = []
        for number, moment in enumerate(self._moments(rng, index, self.slots.orders)):
            slot = self.slots.calls + number
            # Visit linkage is sparse on real projects (Part D.5): some deals have no visit.
            visit = self._random_visit(rng, self._visit_id(project_id, index, slot), moment)
            linked = visit if rng.random() < 0.8 else None
            rows.append(self._order(rng, project_id, index, slot, created=moment, source_type="standard", visit=linked))
        return rows

    def _order(
        self,
        rng: random.Random,
        project_id: int,
        index: int,
        slot: int,
        *,
        created: datetime,
        source_type: str,
        visit: _Visit | None,
        marker: str | None = None,
    ) -> _Row:
        order_id = str(ORDER_ID_BASE + self._project_offset(project_id) + index * self.slots.order_slots + slot)
        statuses = self.scenario.statuses
        weights = STATUS_WEIGHTS if len(statuses) == len(STATUS_WEIGHTS) else None
        status = rng.choices(statuses, weights)[0]
        updated = created + timedelta(hours=_between(rng, 0, 240))
        revenue = _between(rng, 10, 500) * 100
        cost = revenue * _between(rng, 20, 70) // 100
        visit_id = visit.id if visit else None
        # a deal from a static call has no visit: Roistat keeps the channel's marker in `roistat`
        roistat = visit_id or marker
        data = {
            "id": order_id,
            "url": f"https://crm.example.ru/deals/{order_id}",
            "source_type": source_type,
            "creation_date": _naive_utc_text(created)
            if self.scenario.order_date_shape == "naive"
            else _utc_text(created),
            "update_date": _utc_text(updated),
            "revenue": revenue,
            "profit": revenue - cost,
            "cost": cost,
            "client_id": str(_between(rng, 1, max(2, self.scenario.clients + 1))),
            "visit_id": visit_id,
            "roistat": roistat,
            "custom_fields": {"roistat": roistat or "", "Менеджер": rng.choice(MANAGERS)},
            "status": self.status_object(status),
            "is_multichannel": 0,
            "products": [],
            "page": None,
            "visit": None,
        }
        return _Row(data, {"creation_date": created, "update_date": updated}, visit, status=status, marker=marker)

    def status_object(self, status: OrderStatus) -> dict[str, Any]:
        shown: dict[str, Any] = {"id": status.id, "type": status.type, "name": status.name}
        if status.type is None and self.scenario.not_counted_status_shape == "absent":
            del shown["type"]
        return shown

    def _build_leads(self, rng: random.Random, project_id: int, index: int) -> tuple[list[_Row], list[_Row]]:
        """Genuine proxy leads (forms, chats), each from a visit of its own; some create a CRM deal after
        themselves, the rest never reach the CRM (`order_id` null, A6.5)."""
        rows, orders = [], []
        scenario = self.scenario
        id_base = LEAD_ID_BASE + self._project_offset(project_id) + index * self.slots.lead_slots
        for number, moment in enumerate(self._moments(rng, index, self.slots.leads)):
            slot = self.slots.calls + self.slots.orders + number
            visit = self._random_visit(rng, self._visit_id(project_id, index, slot), moment)
            lead_id = str(id_base + number)
            roll = rng.random()
            if roll < scenario.email_only_lead_share:
                phone, email = None, f"client{_between(rng, 0, 15)}@example.ru"
            elif roll < scenario.email_only_lead_share + scenario.repeat_lead_share:
                phone, email = f"7916{project_id % 1000:03d}{_between(rng, 0, 20):04d}", None
            else:
                phone, email = f"79{int(lead_id) * 7919 % 10**9:09d}", f"lead{lead_id}@example.ru"
            order = None
            if rng.random() < scenario.lead_order_share:
                created = moment + timedelta(minutes=_between(rng, 1, 30))
                order = self._order(
                    rng, project_id, index, slot, created=created, source_type="proxy_lead", visit=visit
                )
                orders.append(order)
            data = {
                "id": lead_id,
                "title": rng.choice(LEAD_TITLES),
                "text": "Прошу перезвонить" if number % 2 else "",
                "name": f"Клиент {number}",
                "phone": phone,
                "email": email,
                "roistat": visit.id,
                "creation_date": _naive_utc_text(moment),
                "order_id": order.data["id"] if order else None,
                "order_fields": {"message": "Прошу перезвонить"} if number % 3 == 0 else {},
            }
            rows.append(_Row(data, {"creation_date": moment}, visit))
        return rows, orders

    def _artificial_leads(self, rng: random.Random, project_id: int, index: int, orders: list[_Row]) -> list[_Row]:
        """Seed 000: a proxy lead Roistat makes for each CRM deal without an inquiry (made in the CRM, or
        from a static call, which reaches the CRM without a form), a few minutes after the deal."""
        if not self.scenario.artificial_leads:
            return []
        rows = []
        id_base = LEAD_ID_BASE + self._project_offset(project_id) + index * self.slots.lead_slots + self.slots.leads
        for number, order in enumerate(orders):
            if order.data["source_type"] == "calltracking" and order.marker is None:
                continue  # a dynamic call's deal: the call is its inquiry, Roistat links them
            moment = order.when["creation_date"] + timedelta(minutes=_between(rng, 1, 10))
            data = {
                "id": str(id_base + number),
                "title": "Сделка из CRM",
                "text": "",
                "name": f"Клиент сделки {order.data['id']}",
                "phone": f"7916{project_id % 1000:03d}{_between(rng, 0, 20):04d}",
                "email": None,
                "roistat": order.data["roistat"],
                "creation_date": _naive_utc_text(moment),
                "order_id": order.data["id"],
                "order_fields": {},
            }
            rows.append(_Row(data, {"creation_date": moment}, order.visit, artificial=True))
        return rows

    def visits(self, project_id: int, days: range) -> list[_Row]:
        """The visits behind the days' calls, deals and proxy leads, as `site/visit/list` rows (A6.7)."""
        seen: dict[str, _Row] = {}
        for index in days:
            day = self.day(project_id, index)
            for row in (*day.calls, *day.orders, *day.leads):
                visit = row.visit
                if visit is not None and visit.id not in seen:
                    seen[visit.id] = _Row(self.render_visit(visit), {"date": visit.date})
        return list(seen.values())

    def measures(
        self,
        project_id: int,
        *,
        zone: str,
        channels: Mapping[str, tuple[str, str, str]] = {},
        kpi_mode: str = "all",
        tags: Collection[str] = (),
        include_not_counted: bool = True,
        undefined: str = UNDEFINED,
        streams: Collection[str] = ("calls", "orders", "proxyleads"),
    ) -> dict[tuple[str, str, str, str], Measures]:
        """What a report of the project must say, per (project-local date, source, traffic type,
        campaign): inquiries (calls and genuine proxy leads the KPI mode keeps, each once), deals, revenue
        (paid deals) and forecast revenue (deals in progress and paid). Worked out from what was
        generated, not from what the API shows: `channels` maps a static marker to the (source, traffic
        type, campaign) a user configured for it; `streams` names the streams the user loads."""
        local = ZoneInfo(zone)
        calls = [row for index in range(self.scenario.days) for row in self.day(project_id, index).calls]
        leads = [row for index in range(self.scenario.days) for row in self.day(project_id, index).leads]
        orders = [row for index in range(self.scenario.days) for row in self.day(project_id, index).orders]
        first: dict[str, tuple[datetime, str]] = {}
        contacts = [(row, row.when["date"], row.data["caller"], None) for row in calls] + [
            (row, row.when["creation_date"], row.data["phone"], row.data["email"])
            for row in leads
            if not row.artificial
        ]
        for row, moment, phone, email in contacts:
            person = _person(phone, email)
            if person is not None:
                first[person] = min(first.get(person, (moment, row.data["id"])), (moment, row.data["id"]))
        result: dict[tuple[str, str, str, str], Measures] = {}

        def add(moment: datetime, marks: tuple[str, str, str]) -> Measures:
            key = (moment.astimezone(local).date().isoformat(), *marks)
            return result.setdefault(key, Measures())

        for row, moment, phone, email in contacts:
            person = _person(phone, email)
            unique = person is None or first[person] == (moment, row.data["id"])
            is_call = "caller" in row.data
            if kpi_mode == "unique" and not unique:
                continue
            if kpi_mode == "tagged" and not (is_call and set(row.tags) & set(tags)):
                continue
            if ("calls" if is_call else "proxyleads") not in streams:
                continue
            if is_call and row.channel is not None:
                marks = _static_marks(
                    row.channel.value, row.channel.utm_source, row.channel.utm_medium, channels, undefined
                )
            else:
                marks = _visit_marks(row.visit, undefined)
            add(moment, marks).inquiries += 1
        for row in orders if "orders" in streams else []:
            status = row.status
            assert status is not None
            group = status.type or "not_counted"
            if group == "not_counted" and not include_not_counted:
                continue
            if row.marker is not None:
                marks = _static_marks(row.marker, None, None, channels, undefined)
            else:
                marks = _visit_marks(row.visit, undefined)
            measures = add(row.when["creation_date"], marks)
            measures.deals += 1
            amount = float(row.data["revenue"])
            measures.revenue += amount if group == "paid" else 0.0
            measures.forecast_revenue += amount if group in ("progress", "paid") else 0.0
        return result

    def clients_truth(self, project_id: int) -> list[dict[str, Any]]:
        """The project's client report (A6.6), every client with every field it has."""
        return [dict(row.data) for row in self.clients(project_id)]

    def lead_truth(
        self, project_id: int, start: datetime | None = None, end: datetime | None = None
    ) -> list[LeadTruth]:
        """Every generated proxy lead of the project created in [start, end), with the visit it came from."""
        return [
            LeadTruth(
                lead_id=row.data["id"],
                source=(row.visit.source.utm_source or row.visit.source.marker) if row.visit else None,
                campaign=row.visit.campaign if row.visit else None,
                created=row.when["creation_date"],
                artificial=row.artificial,
            )
            for index in self.day_range(start, end)
            for row in self.day(project_id, index).leads
            if (start is None or row.when["creation_date"] >= start)
            and (end is None or row.when["creation_date"] < end)
        ]

    def _build_clients(self, project_id: int) -> list[_Row]:
        rng = _rng(self.scenario.seed, project_id, "clients")
        rows = []
        for number in range(1, self.scenario.clients + 1):
            first_visit = self.day_start(rng.randrange(max(1, self.scenario.days))) + timedelta(hours=rng.randrange(24))
            source = rng.choice(DYNAMIC_SOURCES)
            orders = rng.randrange(0, 4)
            data = {
                "id": number,
                "first_visit_date": _naive_utc_text(first_visit),
                "external_id": str(1000 + number),
                "name": f"Клиент {number}",
                "phone": f"7916{project_id % 1000:03d}{number:04d}",
                "email": f"client{number}@example.ru",
                "first_order_date": _naive_utc_text(first_visit + timedelta(days=1)) if orders else None,
                "last_order_date": _naive_utc_text(first_visit + timedelta(days=orders)) if orders else None,
                "order_count": orders,
                "revenue": orders * 5000,
                "profit": orders * 2000,
                "birth_date": None,
                "company": "",
                "comment": None,
                "client_url": f"https://crm.example.ru/contacts/{1000 + number}",
                "first_visit_marker": source.display_name,
                "first_visit_marker_alias": source.marker,
                "first_visit_marker_icon": "https://cloud.roistat.com/img/arrow-right.png",
                "first_visit_marker_alias_level_1": source.marker,
            }
            rows.append(_Row(data, {"first_visit_date": first_visit}))
        return rows

    def scripts(self) -> list[dict[str, Any]]:
        """Calltracking scripts: one dynamic, one static per static channel (A6.2)."""
        scripts = [self._script(1, "Динамический: shop.example.ru", "dynamic", None)]
        for number, channel in enumerate(self.scenario.static_channels, start=2):
            scripts.append(self._script(number, f"Статический: {channel.display_name}", "static", channel.value))
        return scripts

    @staticmethod
    def _script(script_id: int, name: str, kind: str, static_source: str | None) -> dict[str, Any]:
        return {
            "id": script_id,
            "name": name,
            "creation_date": "2023-01-10T08:00:00+0000",
            "is_enabled": 1,
            "call_count": 0,
            "accuracy": 100 if kind == "static" else 90,
            "options": {
                "calltracking_type": kind,
                "static_source": static_source,
                "css_selector": [".phone"],
                "phone_format": "8 (XXX) XXX-XX-XX",
                "redirect": {"type": "phone", "value": "74950000000"},
                "segments": None,
                "target_call_time": 0,
            },
            "integration": {"is_lead_auto_create": "1", "crm": {"enabled": 1, "custom_fields": []}},
            "needed_phone_count": 1,
        }


@dataclass
class Measures:
    inquiries: int = 0
    deals: int = 0
    revenue: float = 0.0
    forecast_revenue: float = 0.0


def _person(phone: str | None, email: str | None) -> str | None:
    digits = "".join(char for char in phone or "" if char.isdigit())
    if digits:
        return digits
    return f"email:{email.strip().lower()}" if email else None


def _static_marks(
    marker: str,
    utm_source: str | None,
    utm_medium: str | None,
    channels: Mapping[str, tuple[str, str, str]],
    undefined: str,
) -> tuple[str, str, str]:
    if marker in channels:
        return channels[marker]
    return (utm_source or marker, utm_medium or NONE, undefined)


def _visit_marks(visit: _Visit | None, undefined: str) -> tuple[str, str, str]:
    if visit is None:
        return (NONE, NONE, undefined)
    source = visit.source
    return (source.utm_source or source.marker, source.utm_medium or NONE, visit.campaign or undefined)


# --- list grammar (A4) ------------------------------------------------------------------------------

Getter = Callable[[_Row], Any]
Predicate = Callable[[_Row], bool]


def parse_roistat_datetime(value: Any) -> datetime:
    """A filter date: ISO-8601 with any offset; a naive value is read as UTC (A5)."""
    if not isinstance(value, str):
        raise RoistatApiError("request_data_validation_error", f"Date value {value!r} is invalid")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise RoistatApiError("request_data_validation_error", f"Date value {value!r} is invalid") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _number_or_text(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


@dataclass(frozen=True)
class _Resource:
    """What a list method can filter and sort on, and where its date lives."""

    fields: Mapping[str, Getter]
    date_fields: frozenset[str]
    bucket_field: str | None

    def getter(self, name: Any) -> Getter:
        getter = self.fields.get(name) if isinstance(name, str) else None
        if getter is None:
            raise RoistatApiError("request_data_validation_error", f"Field '{name}' is invalid")
        return getter


def _plain(name: str) -> Getter:
    return lambda row: row.data.get(name)


def _when(name: str) -> Getter:
    return lambda row: row.when.get(name)


def _status_group(row: _Row) -> str | None:
    status_type = row.data["status"].get("type")
    return STATUS_GROUP_CODES.get(status_type) if isinstance(status_type, str) else None


def _resource(plain: Collection[str], dates: Collection[str], bucket: str | None, **extra: Getter) -> _Resource:
    fields: dict[str, Getter] = {name: _plain(name) for name in plain}
    fields.update({name: _when(name) for name in dates})
    fields.update(extra)
    return _Resource(fields, frozenset(dates), bucket)


CALLS = _resource(
    ("id", "caller", "callee", "status", "visit_id", "order_id", "duration", "answer_duration"), ("date",), "date"
)
ORDERS = _resource(
    ("id", "client_id", "visit_id", "revenue", "source_type"),
    ("creation_date", "update_date"),
    "creation_date",
    status=_status_group,
)
VISITS = _resource(("id", "host", "landing_page"), ("date",), "date")
CLIENTS = _resource(("id", "phone", "email", "external_id", "name", "order_count"), ("first_visit_date",), None)


class _FilterCompiler:
    def __init__(self, resource: _Resource, *, single_and_bug: bool) -> None:
        self.resource = resource
        self.single_and_bug = single_and_bug

    def compile(self, node: Any) -> Predicate:
        if node is None or node in ([], {}):
            return lambda row: True
        if isinstance(node, dict):
            return self._tree(node)
        if isinstance(node, list):
            parts = [self._item(item) for item in node]
            return lambda row: all(part(row) for part in parts)
        raise RoistatApiError("request_data_validation_error", "Filters must be an array or an object")

    def _tree(self, node: dict[str, Any]) -> Predicate:
        if len(node) != 1 or next(iter(node)) not in ("and", "or") or not isinstance(next(iter(node.values())), list):
            raise RoistatApiError("request_data_validation_error", 'Filter group must be {"and"|"or": [...]}')
        joiner, items = next(iter(node.items()))
        if joiner == "and" and len(items) == 1 and self.single_and_bug:
            # The documented server bug (A4): a one-condition "and" crashes the list methods.
            raise RoistatApiError("internal_error", "Internal server error")
        parts = [self._item(item) for item in items]
        if joiner == "and":
            return lambda row: all(part(row) for part in parts)
        return lambda row: any(part(row) for part in parts)

    def _item(self, item: Any) -> Predicate:
        if isinstance(item, dict):
            return self._tree(item)
        if not (isinstance(item, list) and len(item) == 3):
            raise RoistatApiError("request_data_validation_error", f"Filter {item!r} is not [field, operator, value]")
        name, operator, value = item
        getter = self.resource.getter(name)
        compare = COMPARISONS.get(operator) if isinstance(operator, str) else None
        if compare is None:
            raise RoistatApiError("request_data_validation_error", f"Operator {operator!r} is invalid")
        wanted = parse_roistat_datetime(value) if name in self.resource.date_fields else _number_or_text(value)

        def matches(row: _Row) -> bool:
            actual = getter(row)
            if actual is None:
                return False
            if name not in self.resource.date_fields:
                actual = _number_or_text(actual)
                if type(actual) is not type(wanted):
                    return compare(str(actual), str(wanted)) if operator == "=" else False
            return compare(actual, wanted)

        return matches


def _bounds(node: Any, resource: _Resource) -> tuple[datetime | None, datetime | None]:
    """The date window a filter pins on the bucket field, so only those days are generated."""
    conditions: list[Any] = []
    if isinstance(node, list):
        conditions = node
    elif isinstance(node, dict) and isinstance(node.get("and"), list) and len(node) == 1:
        conditions = node["and"]
    low: datetime | None = None
    high: datetime | None = None
    for condition in conditions:
        if not (isinstance(condition, list) and len(condition) == 3 and condition[0] == resource.bucket_field):
            continue
        moment = parse_roistat_datetime(condition[2])
        if condition[1] in (">", ">=", "="):
            low = moment if low is None else max(low, moment)
        if condition[1] in ("<", "<=", "="):
            high = moment if high is None else min(high, moment)
    return low, high


def _sort_key(resource: _Resource, sort: Any) -> tuple[Getter, bool] | None:
    if sort in (None, []):
        return None
    if not (isinstance(sort, list) and 1 <= len(sort) <= 2):
        raise RoistatApiError("request_data_validation_error", "Sort must be [field] or [field, direction]")
    direction = sort[1] if len(sort) == 2 else "asc"
    if direction not in ("asc", "desc"):
        raise RoistatApiError("request_data_validation_error", f"Sort direction {direction!r} is invalid")
    return resource.getter(sort[0]), direction == "desc"


def _int_argument(body: Mapping[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise RoistatApiError("request_data_validation_error", f"Argument {name} must be a non-negative integer")


# --- the simulator ----------------------------------------------------------------------------------


@dataclass
class RoistatKnobs:
    """Vendor behaviour that can change at run time (set attributes on `sim.knobs`)."""

    #: Largest page served; a bigger `limit` is cut silently (A4). Also the page size when none is sent.
    max_limit: int = 1000
    #: A one-condition `and` answers `internal_error` (the live-verified bug, A4).
    single_condition_and_bug: bool = True
    #: Every page after the first starts this many rows early, as when records shift between two
    #: requests (probe-paging "К4", Part D.4): pages overlap and repeat rows.
    page_shift: int = 0
    #: Project-wide limits (A3); None switches one off.
    project_per_second: int | None = 10
    project_per_hour: int | None = 5000
    #: order/list limits (A3): without extend, and with extend by requested limit.
    orders_per_minute: int | None = 20
    orders_extend_per_minute_over_1000: int | None = 1
    orders_extend_per_minute_over_100: int | None = 5
    orders_extend_per_minute: int | None = 10
    #: Send Retry-After with a rate-limit refusal. Not documented, so off.
    limit_retry_after: bool = False
    #: project → options switched off: "clients" («Управление клиентами»), "calltracking".
    disabled_options: dict[int, set[str]] = field(default_factory=dict)
    #: project → an account-state error every project call answers: "insufficient_funds", "project_frozen".
    blocked_projects: dict[int, str] = field(default_factory=dict)
    #: Projects whose CRM Roistat cannot reach: order and status lists answer `authorization_failed`.
    crm_unreachable: set[int] = field(default_factory=set)
    #: [UNCERTAIN] A2: envelope key of proxy-lead answers ("ProxyLeads" or "ProxyLead").
    proxy_leads_list_key: str = "ProxyLeads"
    proxy_lead_key: str = "ProxyLead"
    #: [UNCERTAIN] A6.5: the time zone of the proxy-leads `period` days, "project" or "utc".
    proxy_period_timezone: str = "project"
    #: The call list answers every call, whatever date filter it was sent (a vendor answering more than
    #: asked, or a filter it ignores: Part D.3).
    calls_ignore_date_filter: bool = False


class RoistatSimulator(Simulator):
    name = "roistat"

    def __init__(
        self,
        scenario: RoistatScenario | None = None,
        *,
        seed: int | None = None,
        knobs: RoistatKnobs | None = None,
        api_keys: Mapping[str, Collection[int]] | None = None,
        faults: FaultKnobs | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.scenario = scenario or RoistatScenario()
        if seed is not None:
            self.scenario = dataclasses.replace(self.scenario, seed=seed)
        super().__init__(seed=self.scenario.seed, faults=faults)
        self.knobs = knobs or RoistatKnobs()
        self.data = RoistatData(self.scenario)
        self.api_keys: dict[str, set[int]] = {
            key: set(projects) for key, projects in (api_keys or {DEFAULT_API_KEY: self.scenario.project_ids()}).items()
        }
        self.revoked_keys: set[str] = set()
        self._clock = clock
        self._windows: dict[tuple[int, float], SlidingWindowLimit] = {}
        #: (limit scope, count, period) → when each request it admitted arrived: how the vendor sees a client.
        self.admitted: dict[tuple[str, int, float], list[float]] = {}
        self._results: OrderedDict[str, list[_Row]] = OrderedDict()
        self._register_routes()

    # --- test and benchmark helpers -----------------------------------------------------------
    @property
    def api_url(self) -> str:
        return f"{self.base_url}{BASE_PATH}"

    def demo_credentials(self) -> str:
        projects = ", ".join(str(project) for project in sorted(self.api_keys.get(DEFAULT_API_KEY, ())))
        return f"Api-key {DEFAULT_API_KEY} (projects {projects})" if projects else "see RoistatSimulator(api_keys=…)"

    def revoke_key(self, key: str) -> None:
        """A key that worked starts answering `authentication_failed` (the user regenerated it)."""
        self.revoked_keys.add(key)

    def truth(self, project_id: int, start: datetime | None = None, end: datetime | None = None) -> list[CallTruth]:
        return self.data.truth(project_id, start, end)

    def _control(self, request: SimRequest) -> SimResponse:
        if request.path == "/__sim__/roistat/truth" and request.method == "GET":
            return self._truth_answer(request)
        return super()._control(request)

    def _truth_answer(self, request: SimRequest) -> SimResponse:
        """`GET /__sim__/roistat/truth?project=…&from=…&to=…` (ISO instants with an offset; both optional):
        what every generated call and proxy lead of the project in [from, to) really is, for tests that
        reach the simulator only over HTTP (the local stack's). Read-only."""
        try:
            project = int(request.arg("project") or "")
            start, end = (_aware(request.arg(name)) for name in ("from", "to"))
        except ValueError as error:
            return json_response({"error": f"project=<id>&from=<ISO instant>&to=<ISO instant>: {error}"}, 400)
        if project not in self.scenario.project_ids():
            return json_response({"error": f"no project {project}"}, 404)
        calls = [
            {**dataclasses.asdict(call), "date": call.date.isoformat()} for call in self.truth(project, start, end)
        ]
        leads = [
            {**dataclasses.asdict(lead), "created": lead.created.isoformat() if lead.created else None}
            for lead in self.data.lead_truth(project, start, end)
        ]
        return json_response({"calls": calls, "proxy_leads": leads})

    # --- routing ------------------------------------------------------------------------------
    def _register_routes(self) -> None:
        both = ("GET", "POST")
        self._add(both, "/user/projects", self._projects, project_scoped=False)
        self._add(both, "/project/calltracking/call/list", self._calls)
        self._add(both, "/project/calltracking/script/list", self._scripts)
        self._add(both, "/project/integration/order/list", self._orders)
        self._add(both, "/project/integration/status/list", self._statuses)
        self._add(("POST",), "/project/clients", self._clients)
        self._add(both, "/project/site/visit/list", self._visits)
        self._add(("GET",), "/project/proxy-leads", self._proxy_leads)
        self._add(("GET",), "/project/proxy-leads/(?P<lead_id>[^/]+)", self._proxy_lead)

    def _add(
        self,
        methods: tuple[str, ...],
        path: str,
        handler: Callable[..., dict[str, Any]],
        *,
        project_scoped: bool = True,
    ) -> None:
        def serve(request: SimRequest, **groups: str) -> SimResponse:
            try:
                key = self._authenticate(request)
                project = self._authorize(request, key) if project_scoped else None
                body = handler(request, project, key=key, **groups)
            except RoistatApiError as error:
                return self._error(request, error)
            return json_response({**body, "status": "success"})

        for method in methods:
            self.route(method, re.escape(BASE_PATH) + path, serve)

    def not_found(self, request: SimRequest, status: int = 404) -> SimResponse:
        return self._error(request, RoistatApiError("resource_not_found", f"Method {request.path} not found"))

    def fault_response(self, kind: str, request: SimRequest) -> SimResponse:
        """Roistat reports overload and crashes in its envelope, HTTP 200 unless Use-Http-Code."""
        if kind in ("429", "429-no-retry-after"):
            response = self._error(request, RoistatApiError("request_limit_error", "Request limit exceeded"))
            if kind == "429" and self.faults.retry_after is not None:
                response.headers["Retry-After"] = str(int(self.faults.retry_after))
            return response
        if kind == "500":
            return self._error(request, RoistatApiError("internal_error", "Internal server error"))
        if kind == "503":
            return self._error(request, RoistatApiError("unknown_error", "Unknown error"))
        return super().fault_response(kind, request)

    def _error(self, request: SimRequest, error: RoistatApiError) -> SimResponse:
        body: dict[str, Any] = {"status": "error", "error": error.code, "description": error.description}
        if error.details:
            body["details"] = error.details
        status = HTTP_STATUS.get(error.code, 400) if request.header("Use-Http-Code") == "1" else 200
        response = json_response(body, status=status)
        if error.retry_after is not None and self.knobs.limit_retry_after:
            response.headers["Retry-After"] = str(math.ceil(error.retry_after))
        return response

    # --- auth and limits ----------------------------------------------------------------------
    def _authenticate(self, request: SimRequest) -> str:
        key = request.header("Api-key") or request.arg("key")
        if not key or key not in self.api_keys or key in self.revoked_keys:
            raise RoistatApiError("authentication_failed", "Authentication failed: invalid API key")
        return key

    def _authorize(self, request: SimRequest, key: str) -> int:
        raw = request.arg("project")
        if not raw:
            raise RoistatApiError("incorrect_request", "Required argument project is missing")
        project = int(raw) if raw.isdigit() else -1
        if project not in self.api_keys[key]:
            raise RoistatApiError("access_denied", f"Access to project {raw} denied")
        blocked = self.knobs.blocked_projects.get(project)
        if blocked:
            raise RoistatApiError(blocked, f"Project {project}: {blocked.replace('_', ' ')}")
        self._hit(f"project:{project}", self.knobs.project_per_second, 1.0)
        self._hit(f"project:{project}", self.knobs.project_per_hour, 3600.0)
        return project

    def _hit(self, scope: str, count: int | None, period: float) -> None:
        if count is None:
            return
        with self._lock:
            window = self._windows.get((count, period))
            if window is None:
                window = self._windows[(count, period)] = SlidingWindowLimit(count, period, self._clock)
        wait = window.hit(scope)
        kind = scope.split(":", 1)[0]
        if wait is not None:
            self.refused[kind] += 1
            raise RoistatApiError("request_limit_error", "Request limit exceeded", retry_after=wait)
        with self._lock:
            self.admitted.setdefault((kind, count, period), []).append(self._clock())

    def _option(self, project: int, option: str) -> None:
        if option in self.knobs.disabled_options.get(project, set()):
            raise RoistatApiError(
                "option_not_enabled", f"Option {option} is not enabled for the project", details={"option": option}
            )

    def _crm(self, project: int) -> None:
        if project in self.knobs.crm_unreachable:
            raise RoistatApiError("authorization_failed", "Could not connect to the CRM integrated with the project")

    # --- list machinery -----------------------------------------------------------------------
    @staticmethod
    def _list_body(request: SimRequest) -> dict[str, Any]:
        """The JSON body, or for a GET without one the query string (limit, offset, JSON filters/sort/extend)."""
        if request.body:
            try:
                body = request.json()
            except (ValueError, UnicodeDecodeError):
                raise RoistatApiError("incorrect_request", "Request body is not valid JSON") from None
            if not isinstance(body, dict):
                raise RoistatApiError("incorrect_request", "Request body must be a JSON object")
            return body
        if request.method != "GET":
            return {}
        body = {}
        for name in ("limit", "offset", "filters", "sort", "extend"):
            value = request.arg(name)
            if value is None:
                continue
            try:
                body[name] = value if name in ("limit", "offset") else json.loads(value)
            except ValueError:
                raise RoistatApiError("incorrect_request", f"Argument {name} is not valid JSON") from None
        return body

    def _select(
        self, project: int, kind: str, resource: _Resource, body: Mapping[str, Any], rows: Callable[[range], list[_Row]]
    ) -> list[_Row]:
        """The filtered, sorted set for a list request; cached so paging does not redo the work."""
        filters, sort = body.get("filters"), body.get("sort")
        predicate = _FilterCompiler(resource, single_and_bug=self.knobs.single_condition_and_bug).compile(filters)
        order = _sort_key(resource, sort)
        cache_key = json.dumps([project, kind, filters, sort], default=str)
        with self._lock:
            cached = self._results.get(cache_key)
            if cached is not None:
                self._results.move_to_end(cache_key)
                return cached
        days = self.data.day_range(*_bounds(filters, resource)) if resource.bucket_field else range(0)
        selected = [row for row in rows(days) if predicate(row)]
        if order is not None:
            getter, descending = order
            selected.sort(key=lambda row: (getter(row) is None, getter(row)), reverse=descending)
        with self._lock:
            self._results[cache_key] = selected
            while len(self._results) > 16:
                self._results.popitem(last=False)
        return selected

    def _page(self, body: Mapping[str, Any], selected: list[_Row]) -> list[_Row]:
        requested = _int_argument(body, "limit")
        limit = min(self.knobs.max_limit, self.knobs.max_limit if requested is None else requested)
        offset = _int_argument(body, "offset") or 0
        if offset:
            offset = max(0, offset - self.knobs.page_shift)
        return selected[offset : offset + limit]

    @staticmethod
    def _extend(body: Mapping[str, Any]) -> set[str]:
        extend = body.get("extend")
        return {item for item in extend if isinstance(item, str)} if isinstance(extend, list) else set()

    # --- handlers -----------------------------------------------------------------------------
    def _projects(self, request: SimRequest, project: None, *, key: str) -> dict[str, Any]:
        visible = sorted(self.api_keys[key])
        return {
            "projects": [
                {
                    "id": project_id,
                    "name": f"Проект {project_id - PROJECT_ID_BASE + 1}",
                    "profit": None if index else "0",
                    "creation_date": "2023-01-10 08:00:00",
                    "currency": "RUB",
                    "is_owner": 1 if index == 0 else 0,
                }
                for index, project_id in enumerate(visible)
                if project_id in self.scenario.project_ids()
            ]
        }

    def _calls(self, request: SimRequest, project: int, *, key: str) -> dict[str, Any]:
        self._option(project, "calltracking")
        body = self._list_body(request)
        if self.knobs.calls_ignore_date_filter:
            body = {**body, "filters": None}
        selected = self._select(
            project, "calls", CALLS, body, lambda days: [r for i in days for r in self.data.day(project, i).calls]
        )
        extend = self._extend(body)
        return {
            "data": [self._call_out(project, row, extend) for row in self._page(body, selected)],
            "total": len(selected),
        }

    def _call_out(self, project: int, row: _Row, extend: set[str]) -> dict[str, Any]:
        shown = dict(row.data)
        if "visit" in extend and row.visit is not None:
            shown["visit"] = self.data.render_visit(row.visit)
        order_id = row.data["order_id"]
        if "order" in extend and order_id is not None:
            order = self.data.order(project, order_id)
            shown["order"] = self._nested_order(order) if order else None
        return shown

    @staticmethod
    def _nested_order(order: _Row) -> dict[str, Any]:
        """An order as a call's `extend:["order"]` shows it: ids as numbers, like the doc example."""
        data = order.data
        return {
            "id": data["id"],
            "url": data["url"],
            "source_type": data["source_type"],
            "creation_date": data["creation_date"],
            "update_date": data["update_date"],
            "revenue": data["revenue"],
            "cost": data["cost"],
            "client_id": int(data["client_id"]),
            "visit_id": int(data["visit_id"]) if data["visit_id"] else None,
            "page": data["page"],
            "status": data["status"],
            "custom_fields": data["custom_fields"],
        }

    def _orders(self, request: SimRequest, project: int, *, key: str) -> dict[str, Any]:
        self._crm(project)
        body = self._list_body(request)
        extend = self._extend(body)
        self._order_limits(project, body, "visit" in extend)
        selected = self._select(
            project, "orders", ORDERS, body, lambda days: [r for i in days for r in self.data.day(project, i).orders]
        )
        page = []
        for row in self._page(body, selected):
            shown = dict(row.data)
            if "visit" in extend and row.visit is not None:
                shown["visit"] = self.data.render_visit(row.visit)
            page.append(shown)
        return {"data": page, "total": len(selected)}

    def _visits(self, request: SimRequest, project: int, *, key: str) -> dict[str, Any]:
        body = self._list_body(request)
        selected = self._select(project, "visits", VISITS, body, lambda days: self.data.visits(project, days))
        return {"data": [dict(row.data) for row in self._page(body, selected)], "total": len(selected)}

    def _order_limits(self, project: int, body: Mapping[str, Any], extended: bool) -> None:
        knobs = self.knobs
        if not extended:
            self._hit(f"orders:{project}", knobs.orders_per_minute, 60.0)
            return
        requested = _int_argument(body, "limit")
        limit = knobs.max_limit if requested is None else requested
        if limit > 1000:
            self._hit(f"orders-extend-1000:{project}", knobs.orders_extend_per_minute_over_1000, 60.0)
        elif limit > 100:
            self._hit(f"orders-extend-100:{project}", knobs.orders_extend_per_minute_over_100, 60.0)
        else:
            self._hit(f"orders-extend:{project}", knobs.orders_extend_per_minute, 60.0)

    def _statuses(self, request: SimRequest, project: int, *, key: str) -> dict[str, Any]:
        self._crm(project)
        self._list_body(request)
        statuses = [self.data.status_object(status) for status in self.scenario.statuses]
        return {"data": statuses, "total": len(statuses)}

    def _scripts(self, request: SimRequest, project: int, *, key: str) -> dict[str, Any]:
        self._option(project, "calltracking")
        body = self._list_body(request)
        scripts = self.data.scripts()
        offset = _int_argument(body, "offset") or 0
        limit = min(self.knobs.max_limit, _int_argument(body, "limit") or self.knobs.max_limit)
        return {"data": scripts[offset : offset + limit], "total": len(scripts)}

    def _clients(self, request: SimRequest, project: int, *, key: str) -> dict[str, Any]:
        self._option(project, "clients")
        body = self._list_body(request)
        selected = self._select(project, "clients", CLIENTS, body, lambda days: self.data.clients(project))
        return {"clients": [dict(row.data) for row in self._page(body, selected)], "total": len(selected)}

    def _proxy_leads(self, request: SimRequest, project: int, *, key: str) -> dict[str, Any]:
        start, end = self._period(request.arg("period"))
        leads = [
            dict(row.data)
            for index in self.data.day_range(start, end)
            for row in self.data.day(project, index).leads
            if start <= row.when["creation_date"] < end
        ]
        return {self.knobs.proxy_leads_list_key: leads}

    def _period(self, period: str | None) -> tuple[datetime, datetime]:
        """`YYYY-MM-DD-YYYY-MM-DD`, both days included, as an instant window [start, end)."""
        invalid = RoistatApiError("incorrect_request", "Argument period is not a valid date interval")
        match = PERIOD_PATTERN.match(period or "")
        if match is None:
            raise invalid
        try:
            first, last = (date.fromisoformat(part) for part in match.groups())
        except ValueError:
            raise invalid from None
        if last < first:
            raise invalid
        zone = self.scenario.zone if self.knobs.proxy_period_timezone == "project" else UTC
        start = datetime(first.year, first.month, first.day, tzinfo=zone)
        end = datetime(last.year, last.month, last.day, tzinfo=zone) + timedelta(days=1)
        return start, end

    def _proxy_lead(self, request: SimRequest, project: int, *, key: str, lead_id: str) -> dict[str, Any]:
        row = self.data.lead(project, lead_id)
        if row is None:
            raise RoistatApiError("resource_not_found", f"Proxy lead {lead_id} not found")
        lead = dict(row.data)
        return {self.knobs.proxy_lead_key: lead if self.knobs.proxy_lead_key == "ProxyLead" else [lead]}
