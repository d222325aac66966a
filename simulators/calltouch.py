"""Calltouch simulator: the plan-metrics import and the calls diary, written from the vendor docs.

Sources: seed 004 (calltouch.ru/support/api-metod-importa-planovykh-metrik, quoted verbatim where the
messages below come from) and calltouch-amocrm.md Part A (A1 auth, A2 limits, A3 plans, A4 calls diary,
A7 errors, A8 checklist). Where they disagree, seed 004 wins.

What it reproduces:
- Two auth styles (A1): `Access-Token` + `SiteId` headers on `report-service/...`; the `clientApiId`
  query parameter on `calls-service/RestAPI/{siteId}/...`. Unknown token → 401 with the seed's body
  `{"message": "Access token не найден"}`; a token without rights to the site → 403 (A8).
- `POST /report-service/RestAPI/api/plans-import/add` (seed 004): `dd-mm-yyyy` dates, 1..100 items,
  one of source/medium/campaign/content/keyword required, metric type and name from the seed's lists
  (free names for «Пользовательские» and «Цели», which must not clash with Calltouch metric names).
  Errors use the seed's three shapes, messages verbatim: `apiError` (errorCode 1, unreadable JSON),
  `validationError` with `violations[{fieldPath, message}]` (all rows checked, real row indexes in
  `fieldPath` where the seed prints the placeholder `items[n]`), and `{"data": {"message": ...}}` for
  a missing required field (the first one, named bare as in the seed: `"dateTo"`). Success:
  `{"meta": [], "data": {"importLogId": N}}`.
- `POST /report-service/RestAPI/api/plans-import/{id}/status` (seed 004 says POST; the brief said
  GET, so `status_methods` is a knob): the sent items echoed with `status` = `in progress...` (sic,
  with the dots), then `success` or `error`, advancing one step per poll.
- `GET /calls-service/RestAPI/{siteId}/calls-diary/calls` (A4): without `page`/`limit` a bare array
  for one day only; with them the envelope `{page, pageTotal, pageSize, recordsTotal, records}`,
  `limit` ≤ 1000, ranges ≤ 90 days, dates `dd/mm/yyyy`. Rows are generated lazily per day and index
  from the seed, so any page of any range costs only its own rows (`calls_per_day` is the scale knob),
  and carry A8's nasty values: "Anonymous" callers, unpadded hours, null ids, booleans as strings.
- `GET /calls-service/RestAPI/requests` (A5): requests (form leads) with `siteId` in the query, dates
  `mm/dd/yyyy` (US order), a bare array, `date` in Unix ms, tags as `RequestTags` (capital R) when
  `withRequestTags=true`; some requests have no `session` (made over the API).
- Calls come to dynamic numbers (with a visit and its UTM) or to static tracking numbers (no visit, the
  source / medium the project gives the number); A8's nasty values include a missing `timestamp` (only
  the local `date` text) and Calltouch's own `source` / `medium` missing where the UTM marks carry them.
- Truth: `inquiries_truth` counts the generated calls and requests by day and marks from the facts they
  were rendered from (never from the rows), also served as `GET /__sim__/calltouch/truth`.
- A name given both as «Пользовательские» and as «Цели» in one request is seed 004's error 6 («не
  уникально») on each of those rows.
- 5 requests a second per client IP; the excess fails at once (seed 004). Every request's arrival is
  counted per source IP (`rates()`, `GET /__sim__/rates`: the peak within any sliding second), so
  tests can assert what several senders did together. Per-project daily API-points
  budget with a cost per endpoint, charged only for successful requests (seed 004, A2).

Knobs ([GAP]/[UNCERTAIN] in the docs, all in `CalltouchKnobs`, defaults in brackets): the status and
body of the rate-limit answer [429, with Retry-After] and of an exhausted points budget [429,
Retry-After = seconds to the project's midnight]; the daily budget [50 000] and costs [add 10, status
1, calls 1]; the HTTP status of plan-import errors [400] (the seed shows bodies only); the 403 body; the
message for > 100 items and for a wrongly typed value (Symfony's Russian texts, which the seed's
messages match); the metric-name lists (the seed's «Площадки» list may be cut after "CPC"); the
import state machine (in-progress polls, error rate, scripted outcomes, per-row statuses); the calls
diary's page cap, over-cap behaviour, range cap, total key (`recordsTotal` vs `recordsCount`) and
nasty-value rate; the project's UTC offset [+3]. Whether one token serves both auth styles is
[UNCERTAIN] (A1): pass `legacy_tokens` to make the `clientApiId` tokens differ.

The client IP is read from `X-Forwarded-For` (first hop), else every caller counts as one IP: the
base `SimRequest` does not carry the peer address.
"""

from __future__ import annotations

import json
import math
import random
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from simulators.base import FaultKnobs, SimRequest, SimResponse, Simulator, SlidingWindowLimit, json_response

DEMO_TOKEN = "ct-demo-access-token"
DEMO_SITE_ID = "52011"

PLANS_PREFIX = "/report-service/RestAPI/api/plans-import"
CALLS_DIARY_PATH = r"/calls-service/RestAPI/(?P<site_id>[^/]+)/calls-diary/calls"
REQUESTS_PATH = "/calls-service/RestAPI/requests"

STATUS_SUCCESS = "success"
STATUS_IN_PROGRESS = "in progress..."
STATUS_ERROR = "error"

# Seed 004, verbatim.
MSG_TOKEN_NOT_FOUND = "Access token не найден"
MSG_JSON_SYNTAX = "Синтаксическая ошибка JSON в запросе или запрос пустой"
MSG_SLICE_REQUIRED = "Должно быть заполнено одно или несколько из полей: source, medium, campaign, content, keyword"
MSG_BLANK = "Значение не должно быть пустым."
MSG_NOT_ALLOWED = "Значение не совпадает с одним из допустимых."
MSG_TOO_FEW_ITEMS = "Эта коллекция должна содержать 1 элемент или больше."
MSG_BAD_DATE = "Значение не является правильной датой."
MSG_DATE_ORDER = "Значение dateFrom должно быть меньше или равно dateTo"
MSG_MISSING_FIELD = 'В запросе не указано обязательное поле "{field}"'
MSG_CUSTOM_NOT_UNIQUE = "Название пользовательского столбца не уникально, импорт невозможен."

SLICE_FIELDS = ("source", "medium", "campaign", "content", "keyword")
ITEM_REQUIRED = ("dateFrom", "dateTo", "metric")
METRIC_REQUIRED = ("type", "name", "value")

#: Seed 004's lists; None marks the types whose names are the project's own columns and goals.
METRIC_NAMES: dict[str, frozenset[str] | None] = {
    "Лиды": frozenset(
        {
            "Все лиды",
            "Уникальные лиды",
            "Неудачные лиды",
            "Целевые лиды",
            "Уникально-целевые лиды",
            "Все звонки",
            "Уникальные звонки",
            "Повторные звонки",
            "Целевые звонки",
            "Уникально-целевые звонки",
            "Неудачные звонки",
            "Спам-звонки",
            "Все обратные звонки",
            "Уникальные обратные звонки",
            "Целевые обратные звонки",
            "Уникально-целевые обратные звонки",
            "Неудачные обратные звонки",
            "Спам-обратные звонки",
            "Все заявки",
            "Уникальные заявки",
            "Повторные заявки",
            "Неудачные заявки",
            "Целевые заявки",
            "Уникально-целевые заявки",
        }
    ),
    "Поведение": frozenset({"Сессии", "Отказы"}),
    "Сделки и ROI": frozenset({"Всего сделок", "Средний чек", "Выручка"}),
    "Электронная торговля": frozenset(
        {
            "Просмотры товаров",
            "Добавлен в корзину",
            "Выручка по добавленным в корзину",
            "Маржа по добавленным в корзину",
            "Удалён из корзины",
            "Выручка по удалённым из корзины",
            "Маржа по удалённым из корзины",
            "Товаров в корзине",
            "Выручка по корзине",
            "Маржа по корзине",
            "Заказ оформлен",
            "Количество заказанных товаров",
            "Выручка по заказам",
            "Маржа по заказам",
            "Оплата",
            "Количество оплаченных товаров",
            "Выручка по оплатам",
            "Маржа по оплатам",
        }
    ),
    "Площадки": frozenset({"Бюджет", "Показы", "Клики", "CPC"}),
    "Пользовательские": None,
    "Цели": None,
}


@dataclass
class CalltouchKnobs:
    """Every behaviour the docs leave open ([GAP]/[UNCERTAIN]); defaults are the likeliest reading."""

    # --- rate limit (seed 004: 5 a second per IP, the rest fail; status and body [GAP]) ----------
    requests_per_second: int | None = 5
    rate_limit_status: int = 429
    rate_limit_body: Any = field(default_factory=lambda: {"message": "Превышен лимит запросов к API"})
    rate_limit_retry_after: bool = True
    # --- API points (seed 004/A2: daily, per project, charged on success; the rest [GAP]) -------
    daily_points: int | None = 50_000
    points_cost: dict[str, int] = field(
        default_factory=lambda: {"plans_add": 10, "plans_status": 1, "calls_diary": 1, "requests": 1}
    )
    points_exhausted_status: int = 429
    points_exhausted_body: Any = field(default_factory=lambda: {"message": "Суточный лимит баллов API исчерпан"})
    #: Send Retry-After = seconds to the project's next midnight, when the budget refills.
    points_retry_after: bool = True
    #: The project's time zone, for the points day and the calls' local `date` strings [GAP].
    utc_offset_hours: int = 3
    # --- auth -----------------------------------------------------------------------------------
    forbidden_status: int = 403
    forbidden_body: Any = field(default_factory=lambda: {"message": "Нет доступа к личному кабинету"})
    # --- plans import ---------------------------------------------------------------------------
    #: HTTP status of the three plan-import error bodies (the seed shows only the bodies).
    plans_error_status: int = 400
    max_items: int = 100
    #: Symfony's Russian Count message; "элементов" is the right plural for 100.
    too_many_items_message: str = "Эта коллекция должна содержать {limit} элементов или меньше."
    #: Symfony's Russian Type message, for a value of the wrong JSON type.
    wrong_type_message: str = "Тип значения должен быть {type}."
    metric_names: dict[str, frozenset[str] | None] = field(default_factory=lambda: dict(METRIC_NAMES))
    #: Custom column / goal names the project holds twice (→ the seed's "не уникально" violation).
    non_unique_custom_names: frozenset[str] = frozenset()
    status_methods: tuple[str, ...] = ("POST",)
    #: Polls answered "in progress..." before an import shows its final status.
    import_progress_polls: int = 1
    import_error_rate: float = 0.0
    #: Final statuses ("success"/"error") for the next imports, in order; overrides the rate.
    import_outcomes: list[str] = field(default_factory=list)
    #: Also put a `status` on every echoed row (one reading of seed 004's status description).
    per_item_status: bool = False
    import_not_found_status: int = 404
    # --- calls diary (A4) -----------------------------------------------------------------------
    #: Scale: average calls a day per site (each day varies ±50%, deterministically).
    calls_per_day: int = 40
    max_page_size: int = 1000
    #: "reject" (400) or "clamp" a `limit` above `max_page_size`.
    page_size_over_max: str = "reject"
    max_range_days: int = 90
    total_key: str = "recordsTotal"
    #: "9:05:07" instead of "09:05:07" in `date` (A4 [UNCERTAIN]).
    unpadded_hours: bool = True
    #: Share of rows with an "Anonymous" caller, a string boolean or a null id (A8 point 7).
    nasty_rate: float = 0.05
    calls_error_status: int = 400
    #: Share of calls to a static tracking number (billboards, classifieds): no visit, no UTM.
    static_share: float = 0.15
    # --- requests journal (A5) ------------------------------------------------------------------
    #: Scale: average requests (form leads) a day per site (each day varies ±50%, deterministically).
    requests_per_day: int = 15
    #: No cap is documented for requests [GAP]: the diary's.
    requests_max_range_days: int = 90


@dataclass
class PlanImport:
    site_id: str
    items: list[Any]
    final_status: str
    failed_rows: frozenset[int]
    polls: int = 0


class _RequestUnreadable(Exception):
    """The body cannot be mapped onto the request model (seed 004 error 2)."""


class _MissingField(Exception):
    """A required field is absent (seed 004 error 5)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class CalltouchSimulator(Simulator):
    name = "calltouch"

    def __init__(
        self,
        *,
        seed: int = 42,
        faults: FaultKnobs | None = None,
        knobs: CalltouchKnobs | None = None,
        tokens: Mapping[str, Iterable[str]] | None = None,
        legacy_tokens: Mapping[str, Iterable[str]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(seed=seed, faults=faults)
        self.knobs = knobs or CalltouchKnobs()
        self.tokens = _site_sets(tokens if tokens is not None else {DEMO_TOKEN: [DEMO_SITE_ID]})
        self.legacy_tokens = _site_sets(legacy_tokens) if legacy_tokens is not None else self.tokens
        self._clock = clock
        self._ip_limit = (
            SlidingWindowLimit(self.knobs.requests_per_second, 1.0) if self.knobs.requests_per_second else None
        )
        self._state_lock = threading.Lock()
        self._points_spent: Counter[tuple[str, int]] = Counter()
        self._imports: dict[int, PlanImport] = {}
        self._next_import_id = random.Random(seed).randint(1000, 9000)
        self._outcomes: deque[str] = deque(self.knobs.import_outcomes)
        self.rate_limited = 0
        #: Arrival times (monotonic) of every API request, per source IP: what tests read the rate from.
        self._arrivals: dict[str, list[float]] = {}
        self.route("POST", f"{PLANS_PREFIX}/add", self._plans_add)
        for method in self.knobs.status_methods:
            self.route(method, rf"{PLANS_PREFIX}/(?P<import_id>[^/]+)/status", self._plans_status)
        self.route("GET", CALLS_DIARY_PATH, self._calls_diary)
        self.route("GET", REQUESTS_PATH, self._requests)

    def script_outcomes(self, *outcomes: str) -> None:
        """Final statuses ("success"/"error") of the next imports, in order (as `import_outcomes`)."""
        with self._state_lock:
            self._outcomes.extend(outcomes)

    def demo_credentials(self) -> str:
        return f"Access-Token / clientApiId {DEMO_TOKEN}, SiteId {DEMO_SITE_ID}"

    # --- the gate every vendor call passes: rate limit, auth, points ---------------------------
    def _plans_add(self, request: SimRequest) -> SimResponse:
        site_id = self._header_site(request)
        return self._gated(
            request,
            "plans_add",
            site_id,
            token=request.header("Access-Token"),
            tokens=self.tokens,
            serve=lambda: self._serve_plans_add(request, site_id),
        )

    def _plans_status(self, request: SimRequest, import_id: str) -> SimResponse:
        site_id = self._header_site(request)
        return self._gated(
            request,
            "plans_status",
            site_id,
            token=request.header("Access-Token"),
            tokens=self.tokens,
            serve=lambda: self._serve_plans_status(site_id, import_id),
        )

    def _calls_diary(self, request: SimRequest, site_id: str) -> SimResponse:
        return self._gated(
            request,
            "calls_diary",
            site_id,
            token=request.arg("clientApiId"),
            tokens=self.legacy_tokens,
            serve=lambda: self._serve_calls_diary(request, site_id),
        )

    @staticmethod
    def _header_site(request: SimRequest) -> str:
        return (request.header("SiteId") or "").strip()

    def _gated(
        self,
        request: SimRequest,
        endpoint: str,
        site_id: str,
        *,
        token: str | None,
        tokens: Mapping[str, frozenset[str]],
        serve: Callable[[], SimResponse],
    ) -> SimResponse:
        self._count_arrival(request)
        refusal = (
            self._rate_limit(request) or self._auth(token, site_id, tokens) or self._points_check(site_id, endpoint)
        )
        if refusal is not None:
            return refusal
        response = serve()
        if response.status < 300:
            self._charge(site_id, endpoint)
        return response

    @staticmethod
    def _source_ip(request: SimRequest) -> str:
        return (request.header("X-Forwarded-For") or "local").split(",")[0].strip()

    def _count_arrival(self, request: SimRequest) -> None:
        with self._state_lock:
            self._arrivals.setdefault(self._source_ip(request), []).append(time.monotonic())

    def rates(self, window: float = 1.0) -> dict[str, Any]:
        """Per source IP: requests, and the most that arrived within any `window` seconds (sliding);
        and how many the per-second limit refused. Also `GET /__sim__/rates`."""
        with self._state_lock:
            arrivals = {ip: sorted(times) for ip, times in self._arrivals.items()}
            refused = self.rate_limited
        per_ip = {}
        for ip, times in arrivals.items():
            peak, first = 0, 0
            for last, moment in enumerate(times):
                while times[first] <= moment - window:
                    first += 1
                peak = max(peak, last - first + 1)
            per_ip[ip] = {"requests": len(times), "peak_per_window": peak}
        return {"window_seconds": window, "ips": per_ip, "rate_limited": refused}

    def _control(self, request: SimRequest) -> SimResponse:
        if request.path == "/__sim__/calltouch/truth" and request.method == "GET":
            return self._truth_answer(request)
        action = request.path.removeprefix("/__sim__/")
        if action == "rates":
            return json_response(self.rates())
        if action == "reset" and request.method == "POST":
            with self._state_lock:
                self._arrivals.clear()
                self.rate_limited = 0
        return super()._control(request)

    def _rate_limit(self, request: SimRequest) -> SimResponse | None:
        if self._ip_limit is None:
            return None
        client_ip = self._source_ip(request)
        wait = self._ip_limit.hit(client_ip)
        if wait is None:
            return None
        with self._state_lock:
            self.rate_limited += 1
        headers = {"Retry-After": str(max(1, math.ceil(wait)))} if self.knobs.rate_limit_retry_after else {}
        return json_response(self.knobs.rate_limit_body, self.knobs.rate_limit_status, **headers)

    def _auth(self, token: str | None, site_id: str, tokens: Mapping[str, frozenset[str]]) -> SimResponse | None:
        sites = tokens.get(token or "")
        if sites is None:
            return json_response({"message": MSG_TOKEN_NOT_FOUND}, status=401)
        if site_id not in sites:
            return json_response(self.knobs.forbidden_body, status=self.knobs.forbidden_status)
        return None

    # --- API points ------------------------------------------------------------------------------
    def _local_day(self) -> int:
        return int((self._clock() + self.knobs.utc_offset_hours * 3600) // 86400)

    def points_left(self, site_id: str) -> int | None:
        """Today's remaining budget of a site (None: no budget is enforced)."""
        if self.knobs.daily_points is None:
            return None
        with self._state_lock:
            return self.knobs.daily_points - self._points_spent[(site_id, self._local_day())]

    def _points_check(self, site_id: str, endpoint: str) -> SimResponse | None:
        left = self.points_left(site_id)
        if left is None or left >= self.knobs.points_cost.get(endpoint, 0):
            return None
        headers = {}
        if self.knobs.points_retry_after:
            local_now = self._clock() + self.knobs.utc_offset_hours * 3600
            headers["Retry-After"] = str(max(1, math.ceil(86400 - local_now % 86400)))
        return json_response(self.knobs.points_exhausted_body, self.knobs.points_exhausted_status, **headers)

    def _charge(self, site_id: str, endpoint: str) -> None:
        with self._state_lock:
            self._points_spent[(site_id, self._local_day())] += self.knobs.points_cost.get(endpoint, 0)

    # --- faults dressed as Calltouch's own 429 ----------------------------------------------------
    def fault_response(self, kind: str, request: SimRequest) -> SimResponse:
        response = super().fault_response(kind, request)
        if kind in ("429", "429-no-retry-after"):
            response.status = self.knobs.rate_limit_status
            response.body = self.knobs.rate_limit_body
        return response

    # --- plans import ------------------------------------------------------------------------------
    def _plans_error(self, data: dict[str, Any]) -> SimResponse:
        return json_response({"meta": [], "data": data}, status=self.knobs.plans_error_status)

    def _serve_plans_add(self, request: SimRequest, site_id: str) -> SimResponse:
        try:
            items = _plan_items(request.body)
        except _RequestUnreadable:
            return self._plans_error(_api_error(1, MSG_JSON_SYNTAX))
        except _MissingField as missing:
            return self._plans_error({"message": MSG_MISSING_FIELD.format(field=missing.name)})
        violations = self._violations(items)
        if violations:
            return self._plans_error(_validation_error(violations))
        import_id = self._store_import(site_id, items)
        return json_response({"meta": [], "data": {"importLogId": import_id}})

    def _violations(self, items: list[dict[str, Any]]) -> list[dict[str, str]]:
        found = []
        if not items:
            found.append(_violation("items", MSG_TOO_FEW_ITEMS))
        if len(items) > self.knobs.max_items:
            found.append(_violation("items", self.knobs.too_many_items_message.format(limit=self.knobs.max_items)))
        ambiguous = _names_of_both_free_types(items, self.knobs.metric_names)
        for index, item in enumerate(items):
            found.extend(self._item_violations(f"items[{index}]", item))
            metric_type, name = item["metric"]["type"], item["metric"]["name"]
            if isinstance(name, str) and isinstance(metric_type, str) and metric_type in ambiguous.get(name, ()):
                found.append(_violation(f"items[{index}].metric.name", MSG_CUSTOM_NOT_UNIQUE))
        return found

    def _item_violations(self, path: str, item: dict[str, Any]) -> list[dict[str, str]]:
        found = []
        if not any(isinstance(item.get(name), str) and item[name].strip() for name in SLICE_FIELDS):
            found.append(_violation(f"{path}.source", MSG_SLICE_REQUIRED))
        date_from, date_to = _plan_date(item["dateFrom"]), _plan_date(item["dateTo"])
        if date_from is None:
            found.append(_violation(f"{path}.dateFrom", MSG_BAD_DATE))
        if date_to is None:
            found.append(_violation(f"{path}.dateTo", MSG_BAD_DATE))
        if date_from is not None and date_to is not None and date_from > date_to:
            found.append(_violation(f"{path}.dateFrom", MSG_DATE_ORDER))
        found.extend(self._metric_violations(f"{path}.metric", item["metric"]))
        return found

    def _metric_violations(self, path: str, metric: dict[str, Any]) -> list[dict[str, str]]:
        found = []
        metric_type, name, value = metric["type"], metric["name"], metric["value"]
        type_problem = self._string_problem(metric_type)
        if type_problem is None and metric_type not in self.knobs.metric_names:
            type_problem = MSG_NOT_ALLOWED
        if type_problem is not None:
            found.append(_violation(f"{path}.type", type_problem))
        name_problem = self._string_problem(name)
        if name_problem is None and type_problem is None:
            name_problem = self._name_problem(metric_type, name)
        if name_problem is not None:
            found.append(_violation(f"{path}.name", name_problem))
        if not isinstance(value, int) or isinstance(value, bool):
            found.append(_violation(f"{path}.value", self.knobs.wrong_type_message.format(type="integer")))
        return found

    def _string_problem(self, value: Any) -> str | None:
        if not isinstance(value, str):
            return self.knobs.wrong_type_message.format(type="string")
        return MSG_BLANK if not value.strip() else None

    def _name_problem(self, metric_type: str, name: str) -> str | None:
        allowed = self.knobs.metric_names[metric_type]
        if allowed is not None:
            return None if name in allowed else MSG_NOT_ALLOWED
        # Seed 004: custom columns and goals must not share a name with a Calltouch metric.
        calltouch_names = set().union(*(names for names in self.knobs.metric_names.values() if names))
        if name in calltouch_names or name in self.knobs.non_unique_custom_names:
            return MSG_CUSTOM_NOT_UNIQUE
        return None

    def _store_import(self, site_id: str, items: list[dict[str, Any]]) -> int:
        with self._state_lock:
            import_id = self._next_import_id
            self._next_import_id += 1
            rng = random.Random(f"{self.seed}:import:{import_id}")
            if self._outcomes:
                final = self._outcomes.popleft()
            else:
                final = STATUS_ERROR if rng.random() < self.knobs.import_error_rate else STATUS_SUCCESS
            failed: frozenset[int] = frozenset()
            if final == STATUS_ERROR:
                failed = frozenset(rng.sample(range(len(items)), k=rng.randint(1, len(items))))
            self._imports[import_id] = PlanImport(site_id, items, final, failed)
        return import_id

    def _serve_plans_status(self, site_id: str, import_id: str) -> SimResponse:
        with self._state_lock:
            found = self._imports.get(int(import_id)) if import_id.isdigit() else None
            if found is None or found.site_id != site_id:
                return json_response(
                    {"meta": [], "data": {"message": f"Лог импорта {import_id} не найден"}},
                    status=self.knobs.import_not_found_status,
                )
            found.polls += 1
            status = STATUS_IN_PROGRESS if found.polls <= self.knobs.import_progress_polls else found.final_status
        return json_response({"meta": [], "data": {"status": status, "items": self._echoed_items(found, status)}})

    def _echoed_items(self, found: PlanImport, status: str) -> list[Any]:
        if not self.knobs.per_item_status:
            return found.items

        def row_status(index: int) -> str:
            if status != STATUS_ERROR:
                return status
            return STATUS_ERROR if index in found.failed_rows else STATUS_SUCCESS

        return [{**item, "status": row_status(index)} for index, item in enumerate(found.items)]

    # --- calls diary -----------------------------------------------------------------------------
    def _calls_error(self, message: str) -> SimResponse:
        return json_response({"message": message}, status=self.knobs.calls_error_status)

    def _serve_calls_diary(self, request: SimRequest, site_id: str) -> SimResponse:
        date_from, date_to = _diary_date(request.arg("dateFrom")), _diary_date(request.arg("dateTo"))
        if date_from is None or date_to is None:
            return self._calls_error("Параметры dateFrom и dateTo обязательны, формат dd/mm/yyyy")
        if date_from > date_to:
            return self._calls_error("dateFrom не может быть позже dateTo")
        if (date_to - date_from).days + 1 > self.knobs.max_range_days:
            return self._calls_error(f"Максимальный период выгрузки — {self.knobs.max_range_days} дней")
        paged = request.arg("page") is not None or request.arg("limit") is not None
        if not paged:
            if date_from != date_to:
                return self._calls_error("Без параметров page и limit выгрузка возможна только за один день")
            return json_response(self._calls_slice(site_id, [date_from], 0, None, _flags(request)))
        return self._calls_page(request, site_id, date_from, date_to)

    def _calls_page(self, request: SimRequest, site_id: str, date_from: date, date_to: date) -> SimResponse:
        page, limit = _positive_int(request.arg("page", "1")), _positive_int(request.arg("limit", "1000"))
        if page is None or limit is None:
            return self._calls_error("Параметры page и limit должны быть положительными целыми числами")
        if limit > self.knobs.max_page_size:
            if self.knobs.page_size_over_max == "reject":
                return self._calls_error(f"Параметр limit не может быть больше {self.knobs.max_page_size}")
            limit = self.knobs.max_page_size
        days = [date_from + timedelta(days=offset) for offset in range((date_to - date_from).days + 1)]
        total = sum(self._day_count(site_id, day) for day in days)
        records = self._calls_slice(site_id, days, (page - 1) * limit, limit, _flags(request))
        envelope = {"page": page, "pageTotal": math.ceil(total / limit), "pageSize": limit}
        return json_response({**envelope, self.knobs.total_key: total, "records": records})

    def _day_count(self, site_id: str, day: date, journal: str = "calls") -> int:
        """How many calls (or requests) a site has on a day of its own calendar."""
        scale = self.knobs.calls_per_day if journal == "calls" else self.knobs.requests_per_day
        suffix = "count" if journal == "calls" else f"{journal}-count"
        return random.Random(f"{self.seed}:{site_id}:{day.isoformat()}:{suffix}").randint(scale // 2, scale * 3 // 2)

    def _calls_slice(
        self, site_id: str, days: list[date], skip: int, limit: int | None, flags: set[str]
    ) -> list[dict[str, Any]]:
        """Rows skip..skip+limit of the days in order, generating only those rows."""
        rows: list[dict[str, Any]] = []
        for day in days:
            count = self._day_count(site_id, day)
            if skip >= count:
                skip -= count
                continue
            for index in range(skip, count):
                if limit is not None and len(rows) >= limit:
                    return rows
                rows.append(self._render_call(site_id, self.call_facts(site_id, day, index, count), flags))
            skip = 0
        return rows

    def _moment(self, rng: random.Random, day: date, index: int, count: int) -> datetime:
        """The local (project) time of a day's `index`-th row of `count`, spread over the day in order."""
        return datetime(day.year, day.month, day.day) + timedelta(seconds=int((index + rng.random()) * 86400 / count))

    def call_facts(self, site_id: str, day: date, index: int, count: int) -> SimCall:
        rng = random.Random(f"{self.seed}:{site_id}:{day.isoformat()}:{index}")
        return _CallFactory(rng, self.knobs).facts(day, index, self._moment(rng, day, index, count))

    def _render_call(self, site_id: str, call: SimCall, flags: set[str]) -> dict[str, Any]:
        rng = random.Random(f"{self.seed}:{site_id}:{call.call_id}:render")
        return _CallFactory(rng, self.knobs).render(call, site_id, flags)

    # --- requests (form leads, A5) -----------------------------------------------------------------
    def _requests(self, request: SimRequest) -> SimResponse:
        site_id = (request.arg("siteId") or "").strip()
        return self._gated(
            request,
            "requests",
            site_id,
            token=request.arg("clientApiId"),
            tokens=self.legacy_tokens,
            serve=lambda: self._serve_requests(request, site_id),
        )

    def _serve_requests(self, request: SimRequest, site_id: str) -> SimResponse:
        date_from, date_to = _requests_date(request.arg("dateFrom")), _requests_date(request.arg("dateTo"))
        if date_from is None or date_to is None:
            return self._calls_error("Параметры dateFrom и dateTo обязательны, формат mm/dd/yyyy")
        if date_from > date_to:
            return self._calls_error("dateFrom не может быть позже dateTo")
        if (date_to - date_from).days + 1 > self.knobs.requests_max_range_days:
            return self._calls_error(f"Максимальный период выгрузки — {self.knobs.requests_max_range_days} дней")
        with_tags = request.arg("withRequestTags") == "true"
        return json_response(
            [self._render_lead(site_id, lead, with_tags) for lead in self.leads_between(site_id, date_from, date_to)]
        )

    def leads_between(self, site_id: str, date_from: date, date_to: date) -> list[SimLead]:
        leads = []
        for offset in range((date_to - date_from).days + 1):
            day = date_from + timedelta(days=offset)
            count = self._day_count(site_id, day, "requests")
            for index in range(count):
                rng = random.Random(f"{self.seed}:{site_id}:{day.isoformat()}:request:{index}")
                leads.append(_LeadFactory(rng, self.knobs).facts(day, index, self._moment(rng, day, index, count)))
        return leads

    def _render_lead(self, site_id: str, lead: SimLead, with_tags: bool) -> dict[str, Any]:
        rng = random.Random(f"{self.seed}:{site_id}:{lead.request_id}:render")
        return _LeadFactory(rng, self.knobs).render(lead, with_tags)

    # --- truth ---------------------------------------------------------------------------------
    def calls_between(self, site_id: str, date_from: date, date_to: date) -> list[SimCall]:
        calls: list[SimCall] = []
        for offset in range((date_to - date_from).days + 1):
            day = date_from + timedelta(days=offset)
            count = self._day_count(site_id, day)
            calls.extend(self.call_facts(site_id, day, index, count) for index in range(count))
        return calls

    def inquiries_truth(
        self,
        site_id: str,
        date_from: date,
        date_to: date,
        *,
        project_zone: str,
        undefined_campaign: str,
        channels: Mapping[str, tuple[str, str, str]] | None = None,
        unique_only: bool = False,
        tags: Iterable[str] | None = None,
        no_value: str = "(none)",
    ) -> Counter[tuple[str, str, str, str, str]]:
        """What a report of the site's calls and requests of the Calltouch days [date_from, date_to] must
        show, from the generated facts alone: (date in `project_zone`, kind `call`/`form`, source, traffic
        type, campaign) → inquiries. Calltouch's source and medium are the marks, the UTM campaign the
        campaign, "(not set)" no value; a call to a tracking number of `channels` takes that entry
        (source, type, campaign); a request with no session has no marks. `unique_only`: Calltouch's
        unique leads only; `tags`: only leads carrying one of them."""
        zone, channels = ZoneInfo(project_zone), channels or {}
        wanted = None if tags is None else set(tags)

        def counted(unique: bool, lead_tags: tuple[str, ...]) -> bool:
            return (unique or not unique_only) and (wanted is None or bool(wanted & set(lead_tags)))

        def mark(value: str | None, empty: str) -> str:
            return empty if value in (None, "", NOT_SET) else str(value)

        expected: Counter[tuple[str, str, str, str, str]] = Counter()
        for call in self.calls_between(site_id, date_from, date_to):
            if not counted(call.unique, call.tags):
                continue
            marks = channels.get(call.tracking_number) or (
                mark(call.source, no_value),
                mark(call.medium, no_value),
                mark(call.campaign, undefined_campaign),
            )
            local_day = datetime.fromtimestamp(call.epoch, zone).date().isoformat()
            expected[(local_day, "call", *marks)] += 1
        for lead in self.leads_between(site_id, date_from, date_to):
            if not counted(lead.unique, lead.tags):
                continue
            source, medium, campaign = lead.marks or (None, None, None)
            local_day = datetime.fromtimestamp(lead.epoch_ms / 1000, zone).date().isoformat()
            marks = (mark(source, no_value), mark(medium, no_value), mark(campaign, undefined_campaign))
            expected[(local_day, "form", *marks)] += 1
        return expected

    def _truth_answer(self, request: SimRequest) -> SimResponse:
        """`GET /__sim__/calltouch/truth?site=…&from=YYYY-MM-DD&to=YYYY-MM-DD&zone=…&undefined=…`: the
        site's inquiries (`inquiries_truth`) for tests that reach the simulator only over HTTP. Read-only."""
        try:
            date_from, date_to = (date.fromisoformat(request.arg(name) or "") for name in ("from", "to"))
            expected = self.inquiries_truth(
                request.arg("site") or DEMO_SITE_ID,
                date_from,
                date_to,
                project_zone=request.arg("zone") or "Europe/Moscow",
                undefined_campaign=request.arg("undefined") or "(undefined)",
            )
        except (ValueError, KeyError) as error:
            return json_response(
                {"error": f"site=<id>&from=<date>&to=<date>&zone=<tz>&undefined=<label>: {error}"}, 400
            )
        rows = [
            {"date": day, "kind": kind, "source": source, "traffic_type": medium, "campaign": campaign, "inquiries": n}
            for (day, kind, source, medium, campaign), n in sorted(expected.items())
        ]
        return json_response({"inquiries": rows})


#: GA's "no value" mark.
NOT_SET = "(not set)"


@dataclass(frozen=True)
class SimCall:
    """What a generated call really is; `_CallFactory.render` dresses it as the diary sends it."""

    call_id: int
    #: The Calltouch project's local time (naive) and the instant.
    local: datetime
    epoch: int
    caller: str
    #: The number dialled: a dynamic pool number, or a static one (billboards, classifieds).
    tracking_number: str
    static: bool
    #: Calltouch's attributed source and medium; the visit's UTM campaign / content / term.
    source: str
    medium: str
    campaign: str | None
    content: str | None
    term: str | None
    keyword: str
    duration: int
    unique: bool
    target: bool
    callback: bool
    tags: tuple[str, ...]


@dataclass(frozen=True)
class SimLead:
    """What a generated request (form lead) really is."""

    request_id: int
    local: datetime
    epoch_ms: int
    subject: str
    #: (source, medium, campaign) of its session; None: made without a session (e.g. over the API).
    marks: tuple[str, str, str | None] | None
    content: str | None
    unique: bool
    target: bool
    tags: tuple[str, ...]
    phone: str


class _Factory:
    """What the row factories share: the seeded draws and A8's nasty values at `nasty_rate`."""

    SLICES = (
        ("yandex", "cpc", "sofas_msk"),
        ("google", "cpc", "brand"),
        ("(direct)", "(none)", "(not set)"),
        ("yandex", "organic", "(not set)"),
        ("vk", "social", "retarget"),
    )
    CITIES = ("Москва", "Санкт-Петербург", "Казань", "Новосибирск", "Екатеринбург")

    def __init__(self, rng: random.Random, knobs: CalltouchKnobs) -> None:
        self.rng = rng
        self.knobs = knobs

    def nasty(self) -> bool:
        return self.rng.random() < self.knobs.nasty_rate

    def flag(self, value: bool) -> bool | str:
        return (("true" if value else "false") if self.rng.random() < 0.5 else str(value)) if self.nasty() else value


class _CallFactory(_Factory):
    """One calls-diary row (A4 field names)."""

    #: Static tracking numbers and the source / medium the Calltouch project gives their calls.
    STATIC_NUMBERS = (("74957770001", "billboard", "offline"), ("74957770002", "avito", "classified"))
    KEYWORDS = ("купить диван", "диван недорого", "угловой диван", "", "(not provided)")
    PHASES = ("callconnected", "calldisconnected", "callbackcallconnected")

    def facts(self, day: date, index: int, moment: datetime) -> SimCall:
        rng = self.rng
        static = rng.random() < self.knobs.static_share
        if static:
            number, source, medium = rng.choice(self.STATIC_NUMBERS)
            campaign = content = term = None
            keyword = ""
        else:
            source, medium, campaign = rng.choice(self.SLICES)
            number, content, term, keyword = "74951234567", f"ad{rng.randint(1, 9)}", "диван", rng.choice(self.KEYWORDS)
        duration = rng.randint(0, 600)
        unique = rng.random() < 0.7
        target = duration > 0 and rng.random() < 0.6
        tags = (("Продажа",) if target else ()) + (("Квал",) if rng.random() < 0.2 else ())
        return SimCall(
            call_id=day.toordinal() * 1_000_000 + index,
            local=moment,
            epoch=int((moment.replace(tzinfo=UTC) - timedelta(hours=self.knobs.utc_offset_hours)).timestamp()),
            caller=f"7916{rng.randint(0, 9_999_999):07d}",
            tracking_number=number,
            static=static,
            source=source,
            medium=medium,
            campaign=campaign,
            content=content,
            term=term,
            keyword=keyword,
            duration=duration,
            unique=unique,
            target=target,
            callback=rng.random() < 0.1,
            tags=tags,
        )

    def render(self, call: SimCall, site_id: str, flags: set[str]) -> dict[str, Any]:
        rng = self.rng
        moment = call.local
        hour = str(moment.hour) if self.knobs.unpadded_hours else f"{moment.hour:02d}"
        row: dict[str, Any] = {
            "callId": call.call_id,
            "date": f"{moment:%d/%m/%Y} {hour}:{moment:%M:%S}",
            "timestamp": None if self.nasty() else call.epoch,
            "callerNumber": "Anonymous" if self.nasty() else call.caller,
            "phoneNumber": call.tracking_number,
            "redirectNumber": "74957654321",
            "duration": call.duration,
            "waitingConnect": rng.randint(0, 30),
            "successful": self.flag(call.duration > 0),
            "uniqueCall": self.flag(call.unique),
            "targetCall": self.flag(call.target),
            "uniqTargetCall": self.flag(call.unique and call.target),
            "callbackCall": self.flag(call.callback),
            "callphase": rng.choice(self.PHASES),
            "source": call.source,
            "medium": call.medium,
            "keyword": call.keyword,
            "utmSource": None if call.static else call.source,
            "utmMedium": None if call.static else call.medium,
            "utmCampaign": call.campaign,
            "utmContent": call.content,
            "utmTerm": None if self.nasty() else call.term,
            "url": "https://example.ru/" if call.static else f"https://example.ru/?utm_source={call.source}",
            "callUrl": "https://example.ru/catalog",
            "ref": "https://yandex.ru/" if call.source == "yandex" else "",
            "hostname": "example.ru",
            "city": rng.choice(self.CITIES),
            "sessionId": None if call.static else rng.randint(10**8, 10**9),
            "ctCallerId": str(rng.randint(10**9, 10**10)),
            "clientId": None if self.nasty() else f"{rng.randint(10**8, 10**9)}.{rng.randint(10**8, 10**9)}",
            "yaClientId": None if self.nasty() else str(rng.randint(10**15, 10**16)),
            "sipCallId": f"{rng.getrandbits(64):016x}",
            "attribution": 1,
            "manager": None if rng.random() < 0.5 else "Анна Петрова",
            "siteId": int(site_id) if site_id.isdigit() else site_id,
        }
        if not call.static and self.nasty():
            # Calltouch's own source missing where the UTM marks say the same (A8: nasty values)
            row["source"] = row["medium"] = None
        if "withCallTags" in flags:
            row["callTags"] = [{"category": "Теги", "type": "MANUAL", "names": list(call.tags)}] if call.tags else []
        if "withComments" in flags:
            row["comments"] = []
        if "withOrders" in flags:
            row["orders"] = []
        return row


class _LeadFactory(_Factory):
    """One requests-journal row (A5 field names: `date` in ms, `RequestTags` with a capital R)."""

    SUBJECTS = ("Заявка с сайта", "Обратный звонок", "Форма в каталоге")

    def facts(self, day: date, index: int, moment: datetime) -> SimLead:
        rng = self.rng
        with_session = rng.random() >= 0.1
        source, medium, campaign = rng.choice(self.SLICES)
        unique = rng.random() < 0.6
        target = rng.random() < 0.5
        instant = moment.replace(tzinfo=UTC) - timedelta(hours=self.knobs.utc_offset_hours)
        return SimLead(
            request_id=day.toordinal() * 1_000_000 + index,
            local=moment,
            epoch_ms=int(instant.timestamp()) * 1000 + rng.randint(0, 999),
            subject=rng.choice(self.SUBJECTS),
            marks=(source, medium, campaign) if with_session else None,
            content=f"ad{rng.randint(1, 9)}",
            unique=unique,
            target=target,
            tags=(("Целевая",) if target else ()) + (("Квал",) if rng.random() < 0.2 else ()),
            phone=f"7916{rng.randint(0, 9_999_999):07d}",
        )

    def render(self, lead: SimLead, with_tags: bool) -> dict[str, Any]:
        rng = self.rng
        session = None
        if lead.marks is not None:
            source, medium, campaign = lead.marks
            session = {
                "sessionId": rng.randint(10**8, 10**9),
                "keywords": "",
                "city": rng.choice(self.CITIES),
                "ip": f"95.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                "source": source,
                "medium": medium,
                "ref": "",
                "url": f"https://example.ru/?utm_source={source}",
                "utmSource": source,
                "utmMedium": medium,
                "utmTerm": None,
                "utmContent": lead.content,
                "utmCampaign": campaign,
                "guaClientId": None if self.nasty() else f"{rng.randint(10**8, 10**9)}.{rng.randint(10**8, 10**9)}",
                "attrs": None,
                "attribution": 1,
                "yaClientId": None,
                "ctGlobalId": rng.randint(10**8, 10**9),
                "browser": "Chrome",
            }
        moment = lead.local
        row: dict[str, Any] = {
            "date": None if self.nasty() else lead.epoch_ms,
            "dateStr": f"{moment:%d/%m/%Y %H:%M:%S}",
            "requestId": lead.request_id,
            "requestNumber": f"site-{lead.request_id}",
            "subject": lead.subject,
            "session": session,
            "client": {
                "clientId": rng.randint(10**6, 10**7),
                "fio": "Иван Иванов",
                "phones": [{"phoneNumber": lead.phone, "phoneType": "MOBILE"}],
                "contacts": [],
            },
            "orders": [],
            "uniqueRequest": self.flag(lead.unique),
            "targetRequest": self.flag(lead.target),
            "uniqTargetRequest": self.flag(lead.unique and lead.target),
            "manager": None,
            "comments": [],
            "ctClientId": rng.randint(10**6, 10**7),
        }
        if with_tags:
            row["RequestTags"] = [{"category": "Теги", "type": "MANUAL", "names": list(lead.tags)}] if lead.tags else []
        return row


def _names_of_both_free_types(
    items: list[dict[str, Any]], metric_names: Mapping[str, frozenset[str] | None]
) -> dict[str, set[str]]:
    """Names a request gives both as a custom column and as a goal (seed 004 error 6: the name is not
    unique within the request), with the free-name types they were given under."""
    free_types = {name for name, listed in metric_names.items() if listed is None}
    types_of: dict[str, set[str]] = {}
    for item in items:
        metric_type, name = item["metric"]["type"], item["metric"]["name"]
        if metric_type in free_types and isinstance(name, str):
            types_of.setdefault(name, set()).add(metric_type)
    return {name: types for name, types in types_of.items() if len(types) > 1}


def _site_sets(tokens: Mapping[str, Iterable[str]]) -> dict[str, frozenset[str]]:
    return {token: frozenset(str(site) for site in sites) for token, sites in tokens.items()}


def _flags(request: SimRequest) -> set[str]:
    return {name for name in ("withCallTags", "withComments", "withOrders") if request.arg(name) == "true"}


def _plan_items(body: bytes) -> list[dict[str, Any]]:
    """The request's items, as the vendor's deserializer sees them: unreadable or missing fields raise."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise _RequestUnreadable from exc
    if not isinstance(payload, dict):
        raise _RequestUnreadable
    items = _required(payload, "items")
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise _RequestUnreadable
    for item in items:
        for name in ITEM_REQUIRED:
            _required(item, name)
        if not isinstance(item["metric"], dict):
            raise _RequestUnreadable
        for name in METRIC_REQUIRED:
            _required(item["metric"], name)
    return items


def _required(container: dict[str, Any], name: str) -> Any:
    value = container.get(name)
    if value is None:
        raise _MissingField(name)
    return value


def _api_error(code: int, message: str) -> dict[str, Any]:
    return {
        "type": "apiError",
        "apiErrorData": {"errorCode": code, "errorMessage": message, "errorDescription": None},
        "validationErrorData": None,
    }


def _validation_error(violations: list[dict[str, str]]) -> dict[str, Any]:
    return {"type": "validationError", "apiErrorData": None, "validationErrorData": {"violations": violations}}


def _violation(field_path: str, message: str) -> dict[str, str]:
    return {"fieldPath": field_path, "message": message}


def _strict_date(value: Any, pattern: str, layout: str) -> date | None:
    if not isinstance(value, str) or not re.fullmatch(pattern, value):
        return None
    try:
        return datetime.strptime(value, layout).date()
    except ValueError:
        return None


def _plan_date(value: Any) -> date | None:
    return _strict_date(value, r"\d{2}-\d{2}-\d{4}", "%d-%m-%Y")


def _diary_date(value: Any) -> date | None:
    return _strict_date(value, r"\d{2}/\d{2}/\d{4}", "%d/%m/%Y")


def _requests_date(value: Any) -> date | None:
    """Requests take US-ordered dates (A5), unlike the calls diary."""
    return _strict_date(value, r"\d{2}/\d{2}/\d{4}", "%m/%d/%Y")


def _positive_int(value: str | None) -> int | None:
    if value is None or not value.isdigit() or int(value) < 1:
        return None
    return int(value)
