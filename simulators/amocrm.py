"""amoCRM (Kommo) API v4 simulator: OAuth 2.0, leads, contacts, companies, pipelines, users, account.

Written from calltouch-amocrm.md Part B (B1–B17), C and E. It reproduces what clients trip on:

- OAuth (B2, E3): `POST /oauth2/access_token` with the `authorization_code` and `refresh_token` grants.
  Codes are single-use and expire (`code_ttl`, ~20 min [UNCERTAIN]). Refresh tokens are single-use
  *globally*: a reused one gets 401 with the live "Token has been revoked" body (fixture issue123).
  Refreshing also revokes the previous access token, as league/oauth2-server (which amoCRM runs) does.
  Access tokens expire after `expires_in` (default 86400) on an injectable clock. `revoke_tokens()` kills
  every grant, and `issue_long_lived_token()` gives a token with no refresh (B2). Statuses and hints for
  the other grant errors use league/oauth2-server wording [UNCERTAIN].
- Limits (B3, E2): 7 requests a second per IP → 429. By default its body is the gateway's HTML with no
  Retry-After (`rate_limit_body="html"`, what users report in #526). The other option is the Kommo docs'
  JSON with `retry_after` (`"json"`). After `block_after_429s` 429s within `block_window` seconds, that IP
  gets the nginx `403 Forbidden` page for every request until `unblock()` ("write to support"). The
  threshold is undocumented [UNCERTAIN]: 20 429s within a minute by default, a knob. More than 250 entities in one
  write → 422 "Limit 250 per page". `/leads/complex` takes ≤ 50 leads. `gateway_timeout_batch` makes
  larger writes answer 504 (B3: "on 504 shrink the batch").
- Collections (B4): HAL+JSON with `_page`, `_links.self/next` and `_embedded`. `_links.next` appears only
  when another page exists. `limit` is clamped to 250 and defaults to 50. Empty lists, searches with no
  hit and missing ids get **204 with no body**. Each item's `_links.self.href` repeats the list's query
  string (a live quirk).
- Writes (B5–B9, B12, B14): bodies are arrays and `request_id` is echoed. `_embedded.contacts/companies`
  count only on create. `_embedded.tags` overrides `tags_to_add/delete`. Bad data gets 400
  `validation-errors` with the live codes and paths (`NotSupportedChoice`, `FieldNotExpected`,
  `InvalidType`), and one bad item fails the whole request. An empty `custom_fields_values` reads back as
  `null`. `date` fields come back as midnight in the account's time zone (E5). `/leads/complex` answers a
  bare array with `merged` and an array `request_id`.
- Search (B13): `query` is a fuzzy, case-insensitive substring match over the entity's filled fields.
  Phones also match by digits. Lookalike e-mails in the scenario give false positives on purpose. Lead
  search does not look through linked contacts unless `lead_query_through_contacts` is set
  [UNCERTAIN, Part F.6].
- Pipelines carry the system statuses 142/143 and an unsorted status (`type: 1`) (B10). `/users` is for
  admins only (403 otherwise). `paid=False` → 402 on every API call (B14).

The seeded scenario has users, two pipelines and custom fields: the tracking fields by code, plus the
parameters a lead tracker maps (seed 002). It also has `scale` × (120 contacts, 300 leads, 20 companies).
Rows are made on demand from `(seed, index)`, and only rows written through the API are stored, so
`scale=1000` costs nothing up front. Timestamps count back from the clock at construction, and leads
get denser towards "now" so that about ten of them are less than 3 hours old (the window in seed 002).
"""

from __future__ import annotations

import base64
import json
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode

from simulators.base import FaultKnobs, SimRequest, SimResponse, Simulator, SlidingWindowLimit, json_response

Row = dict[str, Any]
Handler = Callable[..., SimResponse]

HAL_JSON = "application/hal+json"
PROBLEM_JSON = "application/problem+json"
MAX_LIMIT = 250
DEFAULT_LIMIT = 50
COMPLEX_MAX = 50
CUSTOM_FIELDS_PER_PAGE = 50
WON_STATUS, LOST_STATUS = 142, 143

OAUTH_TYPE = "https://developers.amocrm.ru/v3/errors/OAuthProblemJson"
OAUTH_TITLE = "Некорректный запрос"
OAUTH_DETAIL = "В запросе отсутствует ряд параметров или параметры невалидны"
#: fixtures/amocrm/issue123_oauth_401_token_revoked_live.json, byte for byte.
TOKEN_REVOKED_BODY = (
    '{"hint":"Token has been revoked","title":"Некорректный запрос",'
    '"type":"https://developers.amocrm.ru/v3/errors/OAuthProblemJson","status":401,'
    '"detail":"В запросе отсутствует ряд параметров или параметры невалидны"}'
)
#: fixtures/amocrm/kommo_docs_v4_422_limit_250.json
LIMIT_250_BODY = {
    "title": "Unprocessable Entity",
    "type": "https://httpstatus.es/422",
    "status": 422,
    "detail": "Limit 250 per page",
}
#: fixtures/amocrm/kommo_docs_v4_429_too_many_requests.json
TOO_MANY_REQUESTS_BODY = {
    "title": "Too Many Requests",
    "type": "https://httpstatus.es/429",
    "status": 429,
    "detail": "You have sent too many requests in a given amount of time. Please try again later.",
    "retry_after": 300,
}
NGINX_403_PAGE = (
    "<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n"
    "<center><h1>403 Forbidden</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
GATEWAY_429_PAGE = (
    "<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n<body>\r\n"
    "<center><h1>429 Too Many Requests</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)

#: The predefined lead tracking fields, addressable by code (B8).
TRACKING_CODES = (
    "UTM_SOURCE",
    "UTM_MEDIUM",
    "UTM_CAMPAIGN",
    "UTM_CONTENT",
    "UTM_TERM",
    "UTM_REFERRER",
    "ROISTAT",
    "REFERRER",
    "OPENSTAT_SERVICE",
    "OPENSTAT_CAMPAIGN",
    "OPENSTAT_AD",
    "OPENSTAT_SOURCE",
    "FROM",
    "GCLIENTID",
    "_YM_UID",
    "_YM_COUNTER",
    "GCLID",
    "YCLID",
    "FBCLID",
)
#: Account-made lead fields a lead tracker maps its parameters into (seed 002).
LEAD_TEXT_FIELDS = (
    "Социальная сеть",
    "Полный путь перехода",
    "Город",
    "IP адрес",
    "Идентификатор клиента AT",
    "Путь к странице",
    "Браузер",
    "Страна",
    "Категория устройства",
    "Адрес почтового ящика",
    "ID обращения",
)
#: Field types an account field may be created with (the official SDK's CustomFieldModel, B8).
FIELD_TYPES = frozenset(
    ("text", "numeric", "checkbox", "select", "multiselect", "date", "url", "textarea", "radiobutton", "date_time")
)
REQUEST_TYPES = ("форма", "телефон", "чат", "оффлайн")
LEAD_NAMES = {"форма": "Заявка с сайта", "телефон": "Звонок", "чат": "Чат", "оффлайн": "Оффлайн-обращение"}
PHONE_ENUMS = ("WORK", "WORKDD", "MOB", "FAX", "HOME", "OTHER")
EMAIL_ENUMS = ("WORK", "PRIV", "OTHER")
PEOPLE = (
    ("Иван", "Петров", "ivan.petrov"),
    ("Анна", "Смирнова", "anna.smirnova"),
    ("Сергей", "Кузнецов", "sergey.kuznetsov"),
    ("Мария", "Попова", "maria.popova"),
    ("Дмитрий", "Васильев", "dmitry.vasiliev"),
    ("Ольга", "Соколова", "olga.sokolova"),
    ("Алексей", "Михайлов", "alexey.mikhailov"),
    ("Елена", "Новикова", "elena.novikova"),
    ("Павел", "Фёдоров", "pavel.fedorov"),
    ("Наталья", "Морозова", "natalia.morozova"),
)
EMAIL_DOMAINS = ("mail.ru", "yandex.ru", "gmail.com", "example.ru")
COMPANY_NAMES = ("Ромашка", "Вектор", "Стройинвест", "Альфа-Сервис", "Техносфера", "Горизонт", "Меридиан")
USERS = (
    ("Алина Орлова", "alina@leadhub.example", True, True),
    ("Борис Зайцев", "boris@leadhub.example", False, True),
    ("Вера Лебедева", "vera@leadhub.example", False, True),
    ("Глеб Козлов", "gleb@leadhub.example", False, True),
    ("Дарья Белова", "darya@leadhub.example", False, False),
)
PIPELINES = (
    (
        "Воронка",
        ("Первичный контакт", "Переговоры", "Принимают решение", "Согласование договора"),
    ),
    ("Повторные продажи", ("Новый запрос", "Коммерческое предложение", "Счёт выставлен")),
)
LEAD_TAGS = ("сайт", "звонок", "повторный", "VIP")
CONTACT_TAGS = ("клиент", "партнёр")
SCENARIO_SPAN = 90 * 86_400


@dataclass
class AmoCrmKnobs:
    """Behaviour switches; the [UNCERTAIN] points of the vendor doc are knobs with the likeliest default."""

    subdomain: str = "leadhub"
    client_id: str = "5f0c9a2e-sim-amocrm-integration"
    client_secret: str = "sim-amocrm-client-secret-0123456789"
    redirect_uri: str = "https://leadhub.local/oauth/amocrm"
    #: Access-token lifetime, s (B2, E3: 24 h).
    expires_in: int = 86_400
    #: Refresh-token lifetime, s (E3: 3 months).
    refresh_token_ttl: int = 90 * 86_400
    #: Authorization-code lifetime, s (B2: ~20 minutes [UNCERTAIN]).
    code_ttl: int = 20 * 60
    #: Requests per second per IP (B3); None switches the limit off.
    rate_limit: int | None = 7
    #: "html" (the gateway page without Retry-After users get, #526) or "json" (Kommo docs, `retry_after`).
    rate_limit_body: str = "html"
    #: This many 429s within `block_window` s block the IP with nginx 403 (B3, E2: "if the restrictions are
    #: repeatedly violated"); the number is undocumented [UNCERTAIN], so a knob; None: never block.
    block_after_429s: int | None = 20
    block_window: float = 60.0
    #: Writes with more entities than this answer 504 (B3); None: never.
    gateway_timeout_batch: int | None = None
    #: Whether `GET /leads?query=` also matches the leads' contacts (Part F.6 [UNCERTAIN]).
    lead_query_through_contacts: bool = False
    #: False: the account is unpaid and every API call answers 402 (B14).
    paid: bool = True
    timezone: str = "Europe/Moscow"
    utc_offset_hours: int = 3

    def __post_init__(self) -> None:
        if self.rate_limit_body not in ("html", "json"):
            raise ValueError("rate_limit_body is 'html' or 'json'")


# --- small helpers ----------------------------------------------------------------------------------


def problem(status: int, title: str, detail: str, **extra: Any) -> SimResponse:
    body = {"title": title, "type": f"https://httpstatus.es/{status}", "status": status, "detail": detail, **extra}
    return SimResponse(status, body, content_type=PROBLEM_JSON)


def hal(body: Any) -> SimResponse:
    return SimResponse(200, body, content_type=HAL_JSON)


def no_content() -> SimResponse:
    return SimResponse(204, None)


def oauth_error(status: int, hint: str) -> SimResponse:
    body = {"hint": hint, "title": OAUTH_TITLE, "type": OAUTH_TYPE, "status": status, "detail": OAUTH_DETAIL}
    return SimResponse(status, json.dumps(body, ensure_ascii=False, separators=(",", ":")), content_type=PROBLEM_JSON)


_BRACKET_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def parse_brackets(query: Mapping[str, list[str]]) -> dict[str, Any]:
    """PHP-style nested query parameters: `filter[id][]=1&filter[created_at][from]=2` → nested dicts."""
    root: dict[str, Any] = {}
    for raw_key, values in query.items():
        match = _BRACKET_KEY.match(raw_key)
        if match is None:
            continue
        parts = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        for value in values:
            node = root
            for depth, part in enumerate(parts):
                key = part or str(len(node))  # "[]" appends
                if depth == len(parts) - 1:
                    node[key] = value
                    break
                child = node.setdefault(key, {})
                if not isinstance(child, dict):
                    break
                node = child
    return root


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return value
    return [value]


def as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _entities_in(request: SimRequest) -> int:
    """How many entities a write carries (0 for reads and anything that is not a JSON array)."""
    if request.method not in ("POST", "PATCH") or not request.body:
        return 0
    try:
        body = json.loads(request.body)
    except ValueError:
        return 0
    return len(body) if isinstance(body, list) else 1


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# --- the CRM's data -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomField:
    id: int
    entity: str
    name: str
    type: str
    sort: int
    code: str | None = None
    #: (enum id, value); for PHONE/EMAIL the value is the enum code ("WORK").
    enums: tuple[tuple[int, str], ...] = ()
    is_predefined: bool = False

    def enum_by_id(self, enum_id: Any) -> tuple[int, str] | None:
        return next((enum for enum in self.enums if enum[0] == enum_id), None)

    def enum_by_value(self, value: Any) -> tuple[int, str] | None:
        return next((enum for enum in self.enums if enum[1] == value), None)


@dataclass
class Table:
    """Seeded rows made on demand from their index, plus the rows written through the API.

    Ids run without gaps from `first_id`, so `ids()` is a range and an unfiltered page costs only its rows.
    """

    first_id: int
    seeded: int
    make: Callable[[int], Row]
    written: dict[int, Row] = field(default_factory=dict)
    next_id: int = 0

    def __post_init__(self) -> None:
        self.next_id = self.first_id + self.seeded

    def ids(self) -> range:
        return range(self.first_id, self.next_id)

    def exists(self, entity_id: Any) -> bool:
        return is_int(entity_id) and self.first_id <= entity_id < self.next_id

    def get(self, entity_id: int) -> Row | None:
        if entity_id in self.written:
            return self.written[entity_id]
        if self.first_id <= entity_id < self.first_id + self.seeded:
            return self.make(entity_id - self.first_id)
        return None

    def touch(self, entity_id: int) -> Row:
        """The row, kept from now on so changes to it stick."""
        row = self.get(entity_id)
        if row is None:
            raise KeyError(entity_id)
        self.written[entity_id] = row
        return row

    def insert(self, row: Row) -> Row:
        row["id"] = self.next_id
        self.written[self.next_id] = row
        self.next_id += 1
        return row


@dataclass(frozen=True)
class Pipeline:
    id: int
    name: str
    sort: int
    is_main: bool
    #: (status id, name, sort, type); type 1 is the unsorted status.
    statuses: tuple[tuple[int, str, int, int], ...]

    @property
    def first_open_status(self) -> int:
        return next(status[0] for status in self.statuses if status[3] == 0 and status[0] not in (142, 143))

    @property
    def open_statuses(self) -> list[int]:
        return [status[0] for status in self.statuses if status[3] == 0 and status[0] not in (142, 143)]


class AmoCrmData:
    """Account, users, pipelines, custom fields, tags and the lazily seeded leads/contacts/companies."""

    def __init__(self, seed: int, scale: int, anchor: int) -> None:
        self.seed = seed
        self.anchor = anchor
        rng = random.Random(f"{seed}/account")
        self.account_id = 30_000_000 + rng.randrange(1_000_000)
        user_base = 6_000_000 + rng.randrange(1_000_000)
        self.users: list[Row] = [
            {"id": user_base + 17 * index, "name": name, "email": email, "is_admin": admin, "is_active": active}
            for index, (name, email, admin, active) in enumerate(USERS)
        ]
        self.admin_id: int = self.users[0]["id"]
        self.active_user_ids = [user["id"] for user in self.users if user["is_active"]]
        self.pipelines = self._make_pipelines(
            7_000_000 + rng.randrange(1_000_000), 60_000_000 + rng.randrange(1_000_000)
        )
        self.status_pipeline = {
            status[0]: pipeline.id
            for pipeline in self.pipelines
            for status in pipeline.statuses
            if status[0] not in (WON_STATUS, LOST_STATUS)
        }
        self.fields = self._make_fields()
        self._field_ids = {
            entity: {f.code: f.id for f in entity_fields if f.code} for entity, entity_fields in self.fields.items()
        }
        self.request_type_field = next(f for f in self.fields["leads"] if f.name == "Тип обращения")
        self.tags: dict[str, dict[int, str]] = {
            "leads": {100_001 + index: name for index, name in enumerate(LEAD_TAGS)},
            "contacts": {200_001 + index: name for index, name in enumerate(CONTACT_TAGS)},
            "companies": {},
        }
        self.next_tag_id = 300_001
        self.counts = {"leads": 300 * scale, "contacts": 120 * scale, "companies": 20 * scale}
        self.tables = {
            "leads": Table(30_000_001, self.counts["leads"], self._seed_lead),
            "contacts": Table(18_000_001, self.counts["contacts"], self._seed_contact),
            "companies": Table(9_000_001, self.counts["companies"], self._seed_company),
        }

    # --- structure ----------------------------------------------------------------------------------
    @staticmethod
    def _make_pipelines(pipeline_base: int, status_base: int) -> list[Pipeline]:
        pipelines = []
        status_id = status_base
        for index, (name, stages) in enumerate(PIPELINES):
            statuses = [(status_id, "Неразобранное", 10, 1)]
            for sort, stage in enumerate(stages, start=2):
                status_id += 1
                statuses.append((status_id, stage, sort * 10, 0))
            status_id += 1
            statuses += [
                (WON_STATUS, "Успешно реализовано", 10_000, 0),
                (LOST_STATUS, "Закрыто и не реализовано", 11_000, 0),
            ]
            pipelines.append(Pipeline(pipeline_base + index, name, (index + 1) * 10, index == 0, tuple(statuses)))
        return pipelines

    def _make_fields(self) -> dict[str, list[CustomField]]:
        next_id = iter(range(500_001, 600_000))
        enum_id = iter(range(800_001, 900_000))

        def enums(values: Iterable[str]) -> tuple[tuple[int, str], ...]:
            return tuple((next(enum_id), value) for value in values)

        leads = [
            CustomField(next(next_id), "leads", code.lower(), "tracking_data", sort, code, is_predefined=True)
            for sort, code in enumerate(TRACKING_CODES)
        ]
        leads.append(CustomField(next(next_id), "leads", "Тип обращения", "select", 100, enums=enums(REQUEST_TYPES)))
        leads.append(CustomField(next(next_id), "leads", "Дата отправки", "date_time", 101))
        leads.append(CustomField(next(next_id), "leads", "Дата обращения", "date", 102))
        leads += [
            CustomField(next(next_id), "leads", name, "text", 110 + sort) for sort, name in enumerate(LEAD_TEXT_FIELDS)
        ]

        def contact_like(entity: str) -> list[CustomField]:
            return [
                CustomField(next(next_id), entity, "Телефон", "multitext", 4, "PHONE", enums(PHONE_ENUMS), True),
                CustomField(next(next_id), entity, "Email", "multitext", 6, "EMAIL", enums(EMAIL_ENUMS), True),
            ]

        contacts = [
            *contact_like("contacts"),
            CustomField(next(next_id), "contacts", "Должность", "text", 2, "POSITION"),
        ]
        companies = [
            *contact_like("companies"),
            CustomField(next(next_id), "companies", "Web", "url", 8, "WEB", is_predefined=True),
            CustomField(next(next_id), "companies", "Адрес", "textarea", 10, "ADDRESS", is_predefined=True),
        ]
        return {"leads": leads, "contacts": contacts, "companies": companies}

    def field_by_id(self, entity: str, field_id: Any) -> CustomField | None:
        return next((f for f in self.fields[entity] if f.id == field_id), None)

    def field_by_code(self, entity: str, code: Any) -> CustomField | None:
        return next((f for f in self.fields[entity] if f.code is not None and f.code == code), None)

    def pipeline(self, pipeline_id: Any) -> Pipeline | None:
        return next((p for p in self.pipelines if p.id == pipeline_id), None)

    @property
    def main_pipeline(self) -> Pipeline:
        return next(p for p in self.pipelines if p.is_main)

    def user(self, user_id: Any) -> Row | None:
        return next((user for user in self.users if user["id"] == user_id), None)

    def tag_id(self, entity: str, name: str) -> int:
        """The id of the tag with this name, made on first use as amoCRM does."""
        for tag_id, tag_name in self.tags[entity].items():
            if tag_name == name:
                return tag_id
        tag_id = self.next_tag_id
        self.next_tag_id += 1
        self.tags[entity][tag_id] = name
        return tag_id

    # --- seeded rows --------------------------------------------------------------------------------
    def _lead_time(self, index: int) -> int:
        """Older leads are sparse and recent ones dense: ~10 of 300 are under 3 hours old."""
        share_of_age = (self.counts["leads"] - index) / self.counts["leads"]
        return self.anchor - int(SCENARIO_SPAN * share_of_age**2)

    def lead_contact_index(self, index: int) -> int | None:
        return None if index % 10 == 9 else index % self.counts["contacts"]

    def contact_lead_indexes(self, contact_index: int) -> list[int]:
        step = self.counts["contacts"]
        return [index for index in range(contact_index, self.counts["leads"], step) if index % 10 != 9]

    def contact_company_index(self, contact_index: int) -> int | None:
        return (contact_index // 3) % self.counts["companies"] if contact_index % 3 == 0 else None

    def contact_email(self, contact_index: int) -> str:
        if contact_index % 10 == 9:  # a lookalike: a substring search for its neighbour finds it too
            return f"old.{self.contact_email(contact_index - 1)}"
        _, _, latin = PEOPLE[contact_index % len(PEOPLE)]
        return f"{latin}{contact_index}@{EMAIL_DOMAINS[(contact_index // 10) % len(EMAIL_DOMAINS)]}"

    def _seed_lead(self, index: int) -> Row:
        rng = random.Random(f"{self.seed}/lead/{index}")
        created = self._lead_time(index) - rng.randrange(0, 120)
        updated = min(self.anchor, created + rng.choice((0, rng.randrange(60, 20 * 86_400))))
        pipeline = self.pipelines[1] if rng.random() < 0.15 else self.main_pipeline
        status = rng.choice(pipeline.open_statuses)
        closed_at = None
        if self.anchor - created > 7 * 86_400 and rng.random() < 0.5:
            status, closed_at = rng.choice((WON_STATUS, LOST_STATUS)), updated
        request_type = rng.choice(REQUEST_TYPES)
        enum = self.request_type_field.enum_by_value(request_type)
        assert enum is not None
        values: dict[int, list[Row]] = {self.request_type_field.id: [{"value": enum[1], "enum_id": enum[0]}]}
        if rng.random() < 0.6:
            for code, value in (
                ("UTM_SOURCE", rng.choice(("yandex", "google", "vk", "direct"))),
                ("UTM_MEDIUM", rng.choice(("cpc", "organic", "social"))),
                ("UTM_CAMPAIGN", f"campaign_{rng.randrange(1, 12)}"),
            ):
                values[self._code_id("leads", code)] = [{"value": value}]
        if rng.random() < 0.3:  # the GA client id guard of seed 002 has something to trip on
            values[self._code_id("leads", "GCLIENTID")] = [{"value": f"{rng.randrange(10**9, 10**10)}.{created}"}]
        if rng.random() < 0.4:
            values[self._code_id("leads", "_YM_UID")] = [{"value": str(rng.randrange(10**18, 10**19))}]
        contact_index = self.lead_contact_index(index)
        contact_id = None if contact_index is None else self.tables["contacts"].first_id + contact_index
        company_index = None if contact_index is None else self.contact_company_index(contact_index)
        return {
            "id": self.tables["leads"].first_id + index,
            "name": f"{LEAD_NAMES[request_type]} #{index + 1}",
            "price": rng.choice((0, rng.randrange(1, 500) * 1000)),
            "responsible_user_id": rng.choice(self.active_user_ids),
            "status_id": status,
            "pipeline_id": pipeline.id,
            "created_by": 0,
            "updated_by": 0,
            "created_at": created,
            "updated_at": updated,
            "closed_at": closed_at,
            "cf": values,
            "_tags": [100_001 + rng.randrange(len(LEAD_TAGS))] if rng.random() < 0.3 else [],
            "_contacts": [] if contact_id is None else [{"id": contact_id, "is_main": True}],
            "_companies": [] if company_index is None else [self.tables["companies"].first_id + company_index],
        }

    def _seed_contact(self, index: int) -> Row:
        rng = random.Random(f"{self.seed}/contact/{index}")
        first, last, _ = PEOPLE[index % len(PEOPLE)]
        created = self._lead_time(index) - rng.randrange(60, 3600)
        national = f"9{rng.randrange(10**8, 10**9)}"
        phone = (
            f"+7 ({national[:3]}) {national[3:6]}-{national[6:8]}-{national[8:]}",
            f"8{national}",
            f"+7{national}",
        )[index % 3]
        phone_field = self._code_id("contacts", "PHONE")
        email_field = self._code_id("contacts", "EMAIL")
        leads_first = self.tables["leads"].first_id
        company_index = self.contact_company_index(index)
        return {
            "id": self.tables["contacts"].first_id + index,
            "name": f"{first} {last}",
            "first_name": first,
            "last_name": last,
            "responsible_user_id": rng.choice(self.active_user_ids),
            "created_by": 0,
            "updated_by": 0,
            "created_at": created,
            "updated_at": min(self.anchor, created + rng.randrange(0, 30 * 86_400)),
            "cf": {
                phone_field: [self._multitext("contacts", "PHONE", phone, rng.choice(("WORK", "MOB")))],
                email_field: [self._multitext("contacts", "EMAIL", self.contact_email(index), "WORK")],
            },
            "_tags": [200_001] if index % 4 == 0 else [],
            "_leads": [leads_first + lead for lead in self.contact_lead_indexes(index)],
            "_companies": [] if company_index is None else [self.tables["companies"].first_id + company_index],
        }

    def _seed_company(self, index: int) -> Row:
        rng = random.Random(f"{self.seed}/company/{index}")
        created = self.anchor - SCENARIO_SPAN - rng.randrange(86_400, 365 * 86_400)
        name = COMPANY_NAMES[index % len(COMPANY_NAMES)]
        return {
            "id": self.tables["companies"].first_id + index,
            "name": f"ООО «{name}»" + (f" {index // len(COMPANY_NAMES) + 1}" if index >= len(COMPANY_NAMES) else ""),
            "responsible_user_id": rng.choice(self.active_user_ids),
            "created_by": 0,
            "updated_by": 0,
            "created_at": created,
            "updated_at": created + rng.randrange(0, 86_400),
            "cf": {self._code_id("companies", "WEB"): [{"value": f"https://company{index}.example.ru"}]},
            "_tags": [],
        }

    def _code_id(self, entity: str, code: str) -> int:
        return self._field_ids[entity][code]

    def _multitext(self, entity: str, code: str, value: str, enum_code: str) -> Row:
        found = self.field_by_code(entity, code)
        enum = found.enum_by_value(enum_code) if found else None
        assert enum is not None, (code, enum_code)
        return {"value": value, "enum_id": enum[0], "enum_code": enum[1]}

    # --- links --------------------------------------------------------------------------------------
    def link(self, lead_id: int, entity: str, target_id: int, is_main: bool) -> None:
        lead = self.tables["leads"].touch(lead_id)
        if entity == "companies":
            if target_id not in lead["_companies"]:
                lead["_companies"] = [*lead["_companies"], target_id]
            return
        contacts = [link for link in lead["_contacts"] if link["id"] != target_id]
        is_main = is_main or not any(link["is_main"] for link in contacts)  # the first contact is the main one
        if is_main:
            contacts = [{"id": link["id"], "is_main": False} for link in contacts]
        lead["_contacts"] = [*contacts, {"id": target_id, "is_main": is_main}]
        contact = self.tables["contacts"].touch(target_id)
        if lead_id not in contact["_leads"]:
            contact["_leads"] = [*contact["_leads"], lead_id]


# --- request validation ----------------------------------------------------------------------------


class Validation:
    """Collects `validation-errors` entries in the shape of fixture issue115 (B14)."""

    NOT_SUPPORTED = "The value you selected is not a valid choice."
    NOT_EXPECTED = "This field was not expected."

    def __init__(self) -> None:
        self.items: list[Row] = []
        self._current: list[Row] = []

    def start(self, request_id: str) -> None:
        self._current = []
        self.items.append({"request_id": request_id, "errors": self._current})

    def add(self, code: str, path: str, detail: str) -> None:
        self._current.append({"code": code, "path": path, "detail": detail})

    def not_supported(self, path: str) -> None:
        self.add("NotSupportedChoice", path, self.NOT_SUPPORTED)

    def wrong_type(self, path: str, type_name: str) -> None:
        self.add("InvalidType", path, f"This value should be of type {type_name}.")

    def response(self) -> SimResponse | None:
        failed = [item for item in self.items if item["errors"]]
        if not failed:
            return None
        return problem(400, "Bad Request", "Request validation failed", **{"validation-errors": failed})


def request_id_of(item: Any, index: int) -> str:
    if isinstance(item, dict) and item.get("request_id") is not None:
        return str(item["request_id"])
    return str(index)


# --- the simulator ----------------------------------------------------------------------------------


@dataclass
class _Code:
    user_id: int
    expires_at: float
    used: bool = False


@dataclass
class _Access:
    user_id: int
    expires_at: float
    revoked: bool = False


@dataclass
class _Refresh:
    user_id: int
    expires_at: float
    access_token: str
    used: bool = False


class AmoCrmSimulator(Simulator):
    """One amoCRM account at the simulator's base URL (no subdomain routing: the base URL is the account)."""

    name = "amocrm"

    def __init__(
        self,
        *,
        seed: int = 42,
        scale: int = 1,
        knobs: AmoCrmKnobs | None = None,
        faults: FaultKnobs | None = None,
        clock: Callable[[], float] = time.time,
        rate_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if scale < 1:
            raise ValueError("scale must be >= 1")
        super().__init__(seed=seed, faults=faults)
        self.scale = scale
        self._initial_knobs = replace(knobs or AmoCrmKnobs())
        self._clock = clock
        self._rate_clock = rate_clock
        self._add_routes()
        self.reset_scenario()

    def __enter__(self) -> AmoCrmSimulator:
        super().__enter__()
        return self

    # --- state and controls -------------------------------------------------------------------------
    def reset_scenario(self) -> None:
        """Back to the seeded scenario: data, tokens, knobs, clock offset, rate windows and IP blocks."""
        with self._lock:
            self.knobs = replace(self._initial_knobs)
            self._clock_offset = 0.0
            self._token_rng = random.Random(self.seed ^ 0x70CE)
            self._codes: dict[str, _Code] = {}
            self._access: dict[str, _Access] = {}
            self._refresh: dict[str, _Refresh] = {}
            self._blocked_ips: set[str] = set()
            self._violations: dict[str, list[float]] = {}
            self._reset_rate_limit()
            self.crm = AmoCrmData(self.seed, self.scale, self.now())
            #: (rate-clock second, method, path, entities in the body) of every API request served or refused.
            self.api_log: list[tuple[float, str, str, int, str]] = []
            self.answered_429 = 0
            self.answered_403 = 0
            self._expire_after: int | None = None

    def configure(self, **knobs: Any) -> None:
        """Change AmoCrmKnobs fields at run time (also POST /__sim__/amocrm/knobs)."""
        known = {f.name for f in fields(AmoCrmKnobs)}
        unknown = set(knobs) - known
        if unknown:
            raise ValueError(f"unknown amoCRM knobs: {sorted(unknown)}")
        with self._lock:
            self.knobs = replace(self.knobs, **knobs)
            self._reset_rate_limit()

    def _reset_rate_limit(self) -> None:
        limit = self.knobs.rate_limit
        self._rate = SlidingWindowLimit(limit, 1.0, clock=self._rate_clock) if limit else None

    def now(self) -> int:
        return int(self._clock() + self._clock_offset)

    def advance(self, seconds: float) -> None:
        """Move the CRM's clock forward (token expiry, updated_at of later writes)."""
        with self._lock:
            self._clock_offset += seconds

    def demo_credentials(self) -> str:
        knobs = self.knobs
        return (
            f"subdomain {knobs.subdomain}, client_id {knobs.client_id}, client_secret {knobs.client_secret}, "
            f"redirect_uri {knobs.redirect_uri}; an authorization code: POST {self.base_url}/__sim__/amocrm/code"
        )

    def issue_code(self, user_id: int | None = None) -> str:
        """An authorization code, as the redirect after "Разрешить" would carry (single-use, expiring)."""
        with self._lock:
            user = self._known_user(user_id)
            code = "def50200" + self._random_hex(120)
            self._codes[code] = _Code(user, self.now() + self.knobs.code_ttl)
            return code

    def issue_long_lived_token(self, user_id: int | None = None, ttl: int = 365 * 86_400) -> str:
        """A private integration's long-lived token: a bearer token with an expiry and no refresh (B2)."""
        with self._lock:
            user = self._known_user(user_id)
            token = self._jwt(user, self.now() + ttl)
            self._access[token] = _Access(user, self.now() + ttl)
            return token

    def revoke_tokens(self) -> None:
        """The account revoked the integration's access: every access and refresh token is dead."""
        with self._lock:
            for access in self._access.values():
                access.revoked = True
            for refresh in self._refresh.values():
                refresh.used = True

    def block_ip(self, ip: str = "127.0.0.1") -> None:
        with self._lock:
            self._blocked_ips.add(ip)

    def unblock(self, ip: str | None = None) -> None:
        """What amoCRM support does when asked with the IP and the subdomain (#563)."""
        with self._lock:
            if ip is None:
                self._blocked_ips.clear()
            else:
                self._blocked_ips.discard(ip)
            self._violations.clear()

    def _known_user(self, user_id: int | None) -> int:
        if user_id is None:
            return self.crm.admin_id
        if self.crm.user(user_id) is None:
            raise ValueError(f"no user {user_id} in the scenario")
        return user_id

    def _random_hex(self, length: int) -> str:
        return "".join(self._token_rng.choice("0123456789abcdef") for _ in range(length))

    def _jwt(self, user_id: int, expires_at: int) -> str:
        header = {"typ": "JWT", "alg": "RS256", "jti": self._random_hex(40)}
        claims = {
            "aud": self.knobs.client_id,
            "jti": header["jti"],
            "iat": self.now(),
            "nbf": self.now(),
            "exp": expires_at,
            "sub": str(user_id),
            "account_id": self.crm.account_id,
            "base_domain": "amocrm.ru",
            "scopes": ["crm", "files", "notifications", "push_notifications"],
        }
        signature = bytes(self._token_rng.randrange(256) for _ in range(64))
        return ".".join((_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode()), _b64(signature)))

    # --- dispatch: IP block and rate limit come before anything else ---------------------------------
    def dispatch(self, request: SimRequest) -> SimResponse:
        if request.path.startswith("/__sim__/"):
            return super().dispatch(request)
        ip = (request.header("X-Forwarded-For") or "127.0.0.1").split(",")[0].strip()
        with self._lock:
            self.api_log.append((self._rate_clock(), request.method, request.path, _entities_in(request), ip))
            if ip in self._blocked_ips:
                self.answered_403 += 1
                return SimResponse(403, NGINX_403_PAGE, content_type="text/html")
            if self._rate is not None and self._rate.hit(ip) is not None:
                self._count_violation(ip)
                self.answered_429 += 1
                return self._rate_limited()
            self._count_down_expiry()
            response = super().dispatch(request)
            if response.status == 429:
                self.answered_429 += 1
            return response

    def expire_access_after(self, requests: int) -> None:
        """Every access token issued so far expires after this many more API requests (mid-batch expiry)."""
        with self._lock:
            self._expire_after = requests

    def _count_down_expiry(self) -> None:
        if self._expire_after is None:
            return
        if self._expire_after <= 0:
            now = self.now()
            for access in self._access.values():
                access.expires_at = min(access.expires_at, now)
            self._expire_after = None
            return
        self._expire_after -= 1

    def stats(self, ip: str = "127.0.0.1") -> Row:
        """What the account saw from one IP, counted here and not by the client: requests, the most in any
        one second (sliding), write batch sizes, and the 429/403 answers (from every IP)."""
        with self._lock:
            log = [entry[:4] for entry in self.api_log if entry[4] == ip]
            refused = {"429": self.answered_429, "403": self.answered_403}
        times = sorted(entry[0] for entry in log)
        busiest, start = 0, 0
        for end, moment in enumerate(times):
            while moment - times[start] >= 1.0:
                start += 1
            busiest = max(busiest, end - start + 1)
        writes = [
            {"method": method, "path": path, "entities": size}
            for _, method, path, size in log
            if method in ("POST", "PATCH") and not path.startswith("/oauth2/")
        ]
        return {"requests": len(log), "max_per_second": busiest, "writes": writes, "refused": refused}

    def _count_violation(self, ip: str) -> None:
        threshold = self.knobs.block_after_429s
        if threshold is None:
            return
        now = self._rate_clock()
        recent = [t for t in self._violations.get(ip, []) if t > now - self.knobs.block_window] + [now]
        self._violations[ip] = recent
        if len(recent) >= threshold:
            self._blocked_ips.add(ip)

    def _rate_limited(self) -> SimResponse:
        if self.knobs.rate_limit_body == "json":
            return SimResponse(429, dict(TOO_MANY_REQUESTS_BODY), content_type=PROBLEM_JSON)
        return SimResponse(429, GATEWAY_429_PAGE, content_type="text/html")

    def fault_response(self, kind: str, request: SimRequest) -> SimResponse:
        if kind in ("429", "429-no-retry-after"):
            response = self._rate_limited()
            if kind == "429" and self.faults.retry_after is not None:
                response.headers["Retry-After"] = str(int(self.faults.retry_after))
            return response
        if kind == "500":
            return problem(
                500,
                "ErrInternalServer",
                "Our team are probably already working on it",
                trace_id=self._random_hex(16),
            )
        if kind == "503":
            return problem(503, "Service Unavailable", "Service Unavailable")
        return super().fault_response(kind, request)

    def not_found(self, request: SimRequest, status: int = 404) -> SimResponse:
        if status == 405:
            return problem(405, "Method Not Allowed", f"Method {request.method} is not allowed")
        return problem(404, "Not Found", f"Cannot {request.method} {self.base_url}{request.path}")

    def _control(self, request: SimRequest) -> SimResponse:
        action = request.path.removeprefix("/__sim__/")
        if not action.startswith("amocrm/") or request.method != "POST":
            return super()._control(request)
        try:
            payload = request.json() if request.body else {}
            return self._amocrm_control(action.removeprefix("amocrm/"), payload)
        except (ValueError, TypeError) as exc:
            return json_response({"error": str(exc)}, status=400)

    def _amocrm_control(self, action: str, payload: Row) -> SimResponse:
        if action == "code":
            return json_response({"code": self.issue_code(payload.get("user_id"))})
        if action == "stats":
            return json_response(self.stats(str(payload.get("ip") or "127.0.0.1")))
        if action == "expire-access-after":
            self.expire_access_after(int(payload["requests"]))
            return json_response({"ok": True})
        if action == "long-lived-token":
            return json_response({"access_token": self.issue_long_lived_token(payload.get("user_id"))})
        if action == "revoke":
            self.revoke_tokens()
        elif action == "unblock":
            self.unblock(payload.get("ip"))
        elif action == "advance":
            self.advance(float(payload["seconds"]))
        elif action == "knobs":
            self.configure(**payload)
        elif action == "reset":
            self.reset_scenario()
        else:
            return json_response({"error": f"unknown control {action}"}, status=404)
        return json_response({"ok": True, "now": self.now()})

    # --- routes ------------------------------------------------------------------------------------
    def _add_routes(self) -> None:
        entity = r"(?P<entity>leads|contacts|companies)"
        self.route("POST", r"/oauth2/access_token", self._token)
        self.route("GET", r"/api/v4/account", self._authed(self._account))
        self.route("GET", r"/api/v4/users", self._authed(self._users))
        self.route("GET", r"/api/v4/leads/pipelines", self._authed(self._pipelines))
        self.route("POST", r"/api/v4/leads/complex", self._authed(self._add_complex))
        self.route("POST", r"/api/v4/leads/(?P<lead_id>\d+)/link", self._authed(self._link))
        self.route("GET", rf"/api/v4/{entity}/custom_fields", self._authed(self._custom_fields))
        self.route("POST", rf"/api/v4/{entity}/custom_fields", self._authed(self._add_custom_fields))
        self.route("GET", rf"/api/v4/{entity}", self._authed(self._list))
        self.route("POST", rf"/api/v4/{entity}", self._authed(self._add))
        self.route("PATCH", rf"/api/v4/{entity}", self._authed(self._update))
        self.route("GET", rf"/api/v4/{entity}/(?P<entity_id>\d+)", self._authed(self._get_one))
        self.route("PATCH", rf"/api/v4/{entity}/(?P<entity_id>\d+)", self._authed(self._update_one))

    def _authed(self, handler: Handler) -> Handler:
        def guarded(request: SimRequest, **groups: str) -> SimResponse:
            scheme, _, token = (request.header("Authorization") or "").partition(" ")
            grant = self._access.get(token.strip()) if scheme.lower() == "bearer" else None
            if grant is None or grant.revoked or grant.expires_at <= self.now():
                return problem(401, "Unauthorized", "Invalid user name or password")
            if not self.knobs.paid:
                return problem(402, "Payment Required", "Payment required")
            return handler(request, grant.user_id, **groups)

        return guarded

    def _url(self, path: str, query: str = "") -> str:
        return f"{self.base_url}{path}" + (f"?{query}" if query else "")

    # --- OAuth -------------------------------------------------------------------------------------
    def _token(self, request: SimRequest) -> SimResponse:
        params = self._token_params(request)
        grant_type = params.get("grant_type")
        if grant_type not in ("authorization_code", "refresh_token"):
            return oauth_error(400, "Check the `grant_type` parameter")
        if params.get("client_id") != self.knobs.client_id or params.get("client_secret") != self.knobs.client_secret:
            return oauth_error(401, "Client authentication failed")
        if grant_type == "authorization_code":
            return self._grant_code(params)
        return self._grant_refresh(params)

    @staticmethod
    def _token_params(request: SimRequest) -> dict[str, str]:
        content_type = request.header("Content-Type") or ""
        if "json" in content_type:
            try:
                body = request.json()
            except ValueError:
                return {}
            return {str(k): str(v) for k, v in body.items()} if isinstance(body, dict) else {}
        return dict(parse_qsl(request.body.decode("utf-8", "replace")))

    def _grant_code(self, params: Mapping[str, str]) -> SimResponse:
        if params.get("redirect_uri") != self.knobs.redirect_uri:
            return oauth_error(401, "Redirect URI mismatch")
        code = params.get("code")
        if not code:
            return oauth_error(400, "Check the `code` parameter")
        grant = self._codes.get(code)
        if grant is None:
            return oauth_error(400, "Cannot decrypt the authorization code")
        if grant.used:
            return oauth_error(400, "Authorization code has been revoked")
        if grant.expires_at <= self.now():
            return oauth_error(400, "Authorization code has expired")
        grant.used = True
        return self._issue_pair(grant.user_id)

    def _grant_refresh(self, params: Mapping[str, str]) -> SimResponse:
        token = params.get("refresh_token")
        if not token:
            return oauth_error(400, "Check the `refresh_token` parameter")
        grant = self._refresh.get(token)
        if grant is None:
            return oauth_error(401, "Cannot decrypt the refresh token")
        if grant.used:
            return SimResponse(401, TOKEN_REVOKED_BODY, content_type=PROBLEM_JSON)
        if grant.expires_at <= self.now():
            return oauth_error(401, "Token has expired")
        grant.used = True
        old_access = self._access.get(grant.access_token)
        if old_access is not None:
            old_access.revoked = True
        return self._issue_pair(grant.user_id)

    def _issue_pair(self, user_id: int) -> SimResponse:
        now = self.now()
        access = self._jwt(user_id, now + self.knobs.expires_in)
        refresh = "def50200" + self._random_hex(200)
        self._access[access] = _Access(user_id, now + self.knobs.expires_in)
        self._refresh[refresh] = _Refresh(user_id, now + self.knobs.refresh_token_ttl, access)
        body = {
            "token_type": "Bearer",
            "expires_in": self.knobs.expires_in,
            "access_token": access,
            "refresh_token": refresh,
            "server_time": now,
        }
        return json_response(body)

    # --- account, users, pipelines, custom fields ----------------------------------------------------
    def _account(self, request: SimRequest, user_id: int) -> SimResponse:
        crm = self.crm
        body: Row = {
            "id": crm.account_id,
            "name": "Leadhub demo",
            "subdomain": self.knobs.subdomain,
            "created_at": crm.anchor - 2 * 365 * 86_400,
            "created_by": crm.admin_id,
            "updated_at": crm.anchor - 30 * 86_400,
            "updated_by": crm.admin_id,
            "current_user_id": user_id,
            "country": "RU",
            "currency": "RUB",
            "currency_symbol": "₽",
            "customers_mode": "disabled",
            "is_unsorted_on": True,
            "is_loss_reason_enabled": False,
            "is_helpbot_enabled": False,
            "is_technical_account": False,
            "contact_name_display_order": 1,
            "_links": {"self": {"href": self._url("/api/v4/account")}},
        }
        if "datetime_settings" in self._with(request):
            offset = self.knobs.utc_offset_hours
            body["_embedded"] = {
                "datetime_settings": {
                    "date_pattern": "d.m.Y H:i",
                    "short_date_pattern": "d.m.Y",
                    "short_time_pattern": "H:i",
                    "date_format": "d.m.Y",
                    "time_format": "H:i:s",
                    "timezone": self.knobs.timezone,
                    "timezone_offset": f"{'+' if offset >= 0 else '-'}{abs(offset):02d}:00",
                }
            }
        return hal(body)

    def _users(self, request: SimRequest, user_id: int) -> SimResponse:
        caller = self.crm.user(user_id)
        if caller is None or not caller["is_admin"]:
            return problem(403, "Forbidden", "Access denied")
        page, limit = self._paging(request)
        users = self.crm.users[(page - 1) * limit : page * limit + 1]
        if not users[:limit]:
            return no_content()
        rendered = [self._render_user(user) for user in users[:limit]]
        return hal(
            self._collection(
                request,
                "users",
                rendered,
                page=page,
                limit=limit,
                has_next=len(users) > limit,
                total=len(self.crm.users),
            )
        )

    def _render_user(self, user: Row) -> Row:
        access = "A" if user["is_admin"] else "M"
        entity_rights = {"view": "A", "edit": access, "add": "A", "delete": access, "export": access}
        return {
            "id": user["id"],
            "name": user["name"],
            "email": user["email"],
            "lang": "ru",
            "rights": {
                "leads": entity_rights,
                "contacts": entity_rights,
                "companies": entity_rights,
                "tasks": {"edit": access, "delete": access},
                "mail_access": True,
                "catalog_access": user["is_admin"],
                "status_rights": [],
                "is_admin": user["is_admin"],
                "is_free": False,
                "is_active": user["is_active"],
                "group_id": None,
                "role_id": None,
            },
            "_links": {"self": {"href": self._url(f"/api/v4/users/{user['id']}")}},
        }

    def _pipelines(self, request: SimRequest, user_id: int) -> SimResponse:
        pipelines = [self._render_pipeline(pipeline) for pipeline in self.crm.pipelines]
        return hal(
            {
                "_total_items": len(pipelines),
                "_links": {"self": {"href": self._url("/api/v4/leads/pipelines")}},
                "_embedded": {"pipelines": pipelines},
            }
        )

    def _render_pipeline(self, pipeline: Pipeline) -> Row:
        href = f"/api/v4/leads/pipelines/{pipeline.id}"
        return {
            "id": pipeline.id,
            "name": pipeline.name,
            "sort": pipeline.sort,
            "is_main": pipeline.is_main,
            "is_unsorted_on": True,
            "is_archive": False,
            "account_id": self.crm.account_id,
            "_links": {"self": {"href": self._url(href)}},
            "_embedded": {
                "statuses": [
                    {
                        "id": status_id,
                        "name": name,
                        "sort": sort,
                        "is_editable": status_id not in (WON_STATUS, LOST_STATUS) and status_type == 0,
                        "pipeline_id": pipeline.id,
                        "color": "#99ccff" if status_type == 0 else "#c1c1c1",
                        "type": status_type,
                        "account_id": self.crm.account_id,
                        "_links": {"self": {"href": self._url(f"{href}/statuses/{status_id}")}},
                    }
                    for status_id, name, sort, status_type in pipeline.statuses
                ]
            },
        }

    def _custom_fields(self, request: SimRequest, user_id: int, entity: str) -> SimResponse:
        page = max(1, as_int(request.arg("page")) or 1)
        all_fields = self.crm.fields[entity]
        chunk = all_fields[(page - 1) * CUSTOM_FIELDS_PER_PAGE : page * CUSTOM_FIELDS_PER_PAGE]
        if not chunk:
            return no_content()
        rendered = [self._render_field(f) for f in chunk]
        has_next = page * CUSTOM_FIELDS_PER_PAGE < len(all_fields)
        return hal(
            self._collection(
                request,
                "custom_fields",
                rendered,
                page=page,
                limit=CUSTOM_FIELDS_PER_PAGE,
                has_next=has_next,
                total=len(all_fields),
            )
        )

    def _add_custom_fields(self, request: SimRequest, user_id: int, entity: str) -> SimResponse:
        """Create account fields (B8): each needs a `name` and a known `type`; answers 201 like Kommo's example."""
        body = self._checked_batch(request, self._validate_new_field)
        if isinstance(body, SimResponse):
            return body
        created = []
        for item in body:
            existing = self.crm.fields[entity]
            field_id = 1 + max(known.id for fields_of in self.crm.fields.values() for known in fields_of)
            custom_field = CustomField(
                field_id, entity, item["name"], item["type"], 500 + len(existing), item.get("code")
            )
            existing.append(custom_field)
            created.append(self._render_field(custom_field))
        rendered = {"_links": {"self": {"href": self._url(request.path)}}, "_embedded": {"custom_fields": created}}
        return SimResponse(201, rendered, content_type=HAL_JSON)

    def _render_field(self, custom_field: CustomField) -> Row:
        enums = [{"id": i, "value": v, "sort": (n + 1) * 2} for n, (i, v) in enumerate(custom_field.enums)]
        return {
            "id": custom_field.id,
            "name": custom_field.name,
            "type": custom_field.type,
            "account_id": self.crm.account_id,
            "code": custom_field.code,
            "sort": custom_field.sort,
            "is_api_only": False,
            "enums": enums or None,
            "group_id": None,
            "required_statuses": [],
            "is_deletable": not custom_field.is_predefined,
            "is_predefined": custom_field.is_predefined,
            "entity_type": custom_field.entity,
            "tracking_callback": None,
            "remind": None,
            "triggers": [],
            "currency": None,
            "hidden_statuses": [],
            "chained_lists": None,
            "_links": {"self": {"href": self._url(f"/api/v4/{custom_field.entity}/custom_fields/{custom_field.id}")}},
        }

    # --- collections ---------------------------------------------------------------------------------
    def _paging(self, request: SimRequest) -> tuple[int, int]:
        page = max(1, as_int(request.arg("page")) or 1)
        limit = min(MAX_LIMIT, max(1, as_int(request.arg("limit")) or DEFAULT_LIMIT))
        return page, limit

    @staticmethod
    def _with(request: SimRequest) -> set[str]:
        return {part.strip() for value in request.query.get("with", []) for part in value.split(",") if part.strip()}

    @staticmethod
    def _query_string(request: SimRequest, page: int, limit: int) -> str:
        """The list's query, page and limit first, as amoCRM echoes it in `_links` (B4)."""
        others = [(k, v) for k, values in request.query.items() if k not in ("page", "limit") for v in values]
        return urlencode([("page", page), ("limit", limit), *others], safe="[],")

    def _collection(
        self, request: SimRequest, key: str, items: list[Row], *, page: int, limit: int, has_next: bool, total: int
    ) -> Row:
        links: Row = {"self": {"href": self._url(request.path, self._query_string(request, page, limit))}}
        if has_next:
            links["next"] = {"href": self._url(request.path, self._query_string(request, page + 1, limit))}
        if page > 1:
            links["prev"] = {"href": self._url(request.path, self._query_string(request, page - 1, limit))}
        return {"_total_items": total, "_page": page, "_links": links, "_embedded": {key: items}}

    def _list(self, request: SimRequest, user_id: int, entity: str) -> SimResponse:
        page, limit = self._paging(request)
        params = parse_brackets(request.query)
        rows, has_next = self._select(entity, params, page, limit)
        if not rows:
            return no_content()
        query_string = self._query_string(request, page, limit)
        with_ = self._with(request)
        links: Row = {"self": {"href": self._url(request.path, query_string)}}
        if has_next:
            links["next"] = {"href": self._url(request.path, self._query_string(request, page + 1, limit))}
        items = [self._render(entity, row, query_string, with_) for row in rows]
        return hal({"_page": page, "_links": links, "_embedded": {entity: items}})

    def _get_one(self, request: SimRequest, user_id: int, entity: str, entity_id: str) -> SimResponse:
        row = self.crm.tables[entity].get(int(entity_id))
        if row is None:
            return no_content()
        return hal(self._render(entity, row, "", self._with(request)))

    def _select(self, entity: str, params: Row, page: int, limit: int) -> tuple[list[Row], bool]:
        table = self.crm.tables[entity]
        filters: Row = params["filter"] if isinstance(params.get("filter"), dict) else {}
        query = params.get("query") if isinstance(params.get("query"), str) else None
        order_key, descending = self._order(params.get("order"))
        candidates: Sequence[int] = table.ids()
        if "id" in filters:
            wanted = {as_int(value) for value in as_list(filters["id"])}
            candidates = sorted(i for i in wanted if i is not None and table.exists(i))
        predicate = self._predicate(entity, {k: v for k, v in filters.items() if k != "id"}, query)
        offset = (page - 1) * limit
        if predicate is None and order_key == "id":  # no scan: slice the id range
            ordered = candidates[::-1] if descending else candidates
            window = [row for row in map(table.get, ordered[offset : offset + limit + 1]) if row is not None]
        else:
            rows = [row for row in map(table.get, candidates) if row is not None and (not predicate or predicate(row))]

            def sort_key(row: Row) -> tuple[int, int]:
                return row.get(order_key) or 0, row["id"]

            rows.sort(key=sort_key, reverse=descending)
            window = rows[offset : offset + limit + 1]
        return window[:limit], len(window) > limit

    @staticmethod
    def _order(order: Any) -> tuple[str, bool]:
        if isinstance(order, dict):
            for key in ("created_at", "updated_at", "id"):
                if key in order:
                    return key, str(order[key]).lower() == "desc"
        return "id", False

    def _predicate(self, entity: str, filters: Row, query: str | None) -> Callable[[Row], bool] | None:
        checks: list[Callable[[Row], bool]] = []
        for key in ("created_at", "updated_at", "closed_at", "price"):
            if key in filters:
                checks.append(self._range_check(key, filters[key]))
        for key in ("responsible_user_id", "created_by", "updated_by", "pipeline_id"):
            if key in filters:
                checks.append(self._membership_check(key, {as_int(value) for value in as_list(filters[key])}))
        if "name" in filters:
            names = {str(value).lower() for value in as_list(filters["name"])}
            checks.append(lambda row: str(row.get("name", "")).lower() in names)
        if entity == "leads" and "statuses" in filters:
            pairs = {
                (as_int(pair.get("pipeline_id")), as_int(pair.get("status_id")))
                for pair in as_list(filters["statuses"])
                if isinstance(pair, dict)
            }
            checks.append(lambda row: (row["pipeline_id"], row["status_id"]) in pairs)
        if query:
            checks.append(lambda row: self._matches(entity, row, query))
        if not checks:
            return None
        return lambda row: all(check(row) for check in checks)

    @staticmethod
    def _membership_check(key: str, allowed: set[int | None]) -> Callable[[Row], bool]:
        return lambda row: row.get(key) in allowed

    @staticmethod
    def _range_check(key: str, condition: Any) -> Callable[[Row], bool]:
        if isinstance(condition, dict):
            low, high = as_int(condition.get("from")), as_int(condition.get("to"))
        else:
            low = high = as_int(condition)

        def check(row: Row) -> bool:
            value = row.get(key)
            if value is None:
                return False
            return (low is None or value >= low) and (high is None or value <= high)

        return check

    def _matches(self, entity: str, row: Row, query: str) -> bool:
        """amoCRM's `query`: a loose substring search over the filled fields (B13)."""
        needle = query.strip().lower()
        needle_digits = digits(needle) if not re.search(r"[^\d\s()+-]", needle) else ""
        for text in self._searchable(entity, row):
            if needle in text.lower():
                return True
            if len(needle_digits) >= 5 and needle_digits in digits(text):
                return True
        return False

    def _searchable(self, entity: str, row: Row) -> Iterator[str]:
        for key in ("name", "first_name", "last_name"):
            if row.get(key):
                yield str(row[key])
        for values in row.get("cf", {}).values():
            for value in values:
                yield str(value.get("value", ""))
        if entity == "leads" and self.knobs.lead_query_through_contacts:
            for link in row.get("_contacts", []):
                contact = self.crm.tables["contacts"].get(link["id"])
                if contact is not None:
                    yield from self._searchable("contacts", contact)

    # --- rendering -----------------------------------------------------------------------------------
    def _render(self, entity: str, row: Row, query_string: str, with_: set[str]) -> Row:
        def link(kind: str, entity_id: int) -> Row:
            return {"self": {"href": self._url(f"/api/v4/{kind}/{entity_id}", query_string)}}

        item = {key: value for key, value in row.items() if key not in ("cf",) and not key.startswith("_")}
        item.setdefault("group_id", 0)
        item["custom_fields_values"] = self._render_values(entity, row.get("cf", {}))
        item["is_deleted"] = False
        item["account_id"] = self.crm.account_id
        item["closest_task_at"] = None
        embedded: Row = {"tags": self._render_tags(entity, row.get("_tags", []))}
        embedded["companies"] = [{"id": cid, "_links": link("companies", cid)} for cid in row.get("_companies", [])]
        if entity == "leads":
            item.update(loss_reason_id=None, score=None, labor_cost=None)
            item.setdefault("closed_at", None)
            if "contacts" in with_:
                embedded["contacts"] = [
                    {"id": c["id"], "is_main": c["is_main"], "_links": link("contacts", c["id"])}
                    for c in row.get("_contacts", [])
                ]
        if entity == "contacts":
            item["is_unsorted"] = False
            if "leads" in with_:
                embedded["leads"] = [{"id": lid, "_links": link("leads", lid)} for lid in row.get("_leads", [])]
        item["_links"] = link(entity, row["id"])
        item["_embedded"] = embedded
        return item

    def _render_tags(self, entity: str, tag_ids: list[int]) -> list[Row]:
        tags = []
        for tag_id in tag_ids:
            tag: Row = {"id": tag_id, "name": self.crm.tags[entity].get(tag_id, "")}
            if entity == "leads":  # only lead tags have a colour (B9)
                tag["color"] = None
            tags.append(tag)
        return tags

    def _render_values(self, entity: str, values: Mapping[int, list[Row]]) -> list[Row] | None:
        rendered = []
        for field_id, field_values in values.items():
            custom_field = self.crm.field_by_id(entity, field_id)
            if custom_field is None or not field_values:
                continue
            rendered.append(
                {
                    "field_id": custom_field.id,
                    "field_name": custom_field.name,
                    "field_code": custom_field.code,
                    "field_type": custom_field.type,
                    "values": [dict(value) for value in field_values],
                }
            )
        return rendered or None  # amoCRM says null, not [] (B8)

    # --- writes --------------------------------------------------------------------------------------
    def _write_body(self, request: SimRequest, limit: int) -> list[Any] | SimResponse:
        try:
            body = request.json()
        except ValueError:
            return problem(400, "Bad Request", "Request data can not be empty")
        if not isinstance(body, list):
            return problem(400, "Bad Request", "Request data must be an array")
        if not body:
            return problem(400, "Bad Request", "Request data can not be empty")
        if len(body) > limit:
            if limit == MAX_LIMIT:
                return SimResponse(422, dict(LIMIT_250_BODY), content_type=PROBLEM_JSON)
            return problem(422, "Unprocessable Entity", f"Limit {limit} per page")
        gateway_limit = self.knobs.gateway_timeout_batch
        if gateway_limit is not None and len(body) > gateway_limit:
            return SimResponse(504, "<html><body><h1>504 Gateway Time-out</h1></body></html>", content_type="text/html")
        return body

    def _add(self, request: SimRequest, user_id: int, entity: str) -> SimResponse:
        return self._write(request, user_id, entity, creating=True)

    def _update(self, request: SimRequest, user_id: int, entity: str) -> SimResponse:
        return self._write(request, user_id, entity, creating=False)

    def _write(self, request: SimRequest, user_id: int, entity: str, *, creating: bool) -> SimResponse:
        """A batch add (POST) or update (PATCH): all items validated first, then all saved."""
        body = self._checked_batch(
            request, lambda item, _, check: self._validate(entity, item, check, creating=creating)
        )
        if isinstance(body, SimResponse):
            return body
        saved = []
        for index, item in enumerate(body):
            row = self._create(entity, item, user_id) if creating else self._change(entity, item, user_id)
            answer: dict[str, Any] = {"id": row["id"]}
            if not creating:
                answer["updated_at"] = row["updated_at"]
            answer["request_id"] = request_id_of(item, index)
            answer["_links"] = {"self": {"href": self._url(f"/api/v4/{entity}/{row['id']}")}}
            saved.append(answer)
        return hal({"_links": {"self": {"href": self._url(request.path)}}, "_embedded": {entity: saved}})

    def _checked_batch(
        self, request: SimRequest, validate: Callable[[Any, int, Validation], None], limit: int = MAX_LIMIT
    ) -> list[Any] | SimResponse:
        """A write's items, each validated; one bad item refuses the whole request (400)."""
        body = self._write_body(request, limit)
        if isinstance(body, SimResponse):
            return body
        check = Validation()
        for index, item in enumerate(body):
            check.start(request_id_of(item, index))
            validate(item, index, check)
        rejected = check.response()
        return body if rejected is None else rejected

    @staticmethod
    def _validate_new_field(item: Any, index: int, check: Validation) -> None:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"].strip():
            check.wrong_type(f"{index}.name", "string")
        elif item.get("type") not in FIELD_TYPES:
            check.not_supported(f"{index}.type")

    def _update_one(self, request: SimRequest, user_id: int, entity: str, entity_id: str) -> SimResponse:
        try:
            item = request.json()
        except ValueError:
            return problem(400, "Bad Request", "Request data can not be empty")
        if not isinstance(item, dict):
            return problem(400, "Bad Request", "Request data must be an object")
        item = {**item, "id": int(entity_id)}
        check = Validation()
        check.start("0")
        self._validate(entity, item, check, creating=False)
        rejected = check.response()
        if rejected is not None:
            return rejected
        row = self._change(entity, item, user_id)
        return hal(
            {
                "id": row["id"],
                "updated_at": row["updated_at"],
                "_links": {"self": {"href": self._url(f"/api/v4/{entity}/{row['id']}")}},
            }
        )

    def _add_complex(self, request: SimRequest, user_id: int) -> SimResponse:
        body = self._checked_batch(
            request,
            lambda item, _, check: self._validate("leads", item, check, creating=True, complex_=True),
            COMPLEX_MAX,
        )
        if isinstance(body, SimResponse):
            return body
        results = []
        for index, item in enumerate(body):
            embedded = item.get("_embedded") or {}
            contact = self._create("contacts", embedded["contacts"][0], user_id) if embedded.get("contacts") else None
            company = (
                self._create("companies", embedded["companies"][0], user_id) if embedded.get("companies") else None
            )
            lead_item = {**item, "_embedded": {"tags": embedded["tags"]} if "tags" in embedded else {}}
            lead = self._create("leads", lead_item, user_id)
            if contact is not None:
                self.crm.link(lead["id"], "contacts", contact["id"], True)
            if company is not None:
                self.crm.link(lead["id"], "companies", company["id"], False)
            results.append(
                {
                    "id": lead["id"],
                    "contact_id": None if contact is None else contact["id"],
                    "company_id": None if company is None else company["id"],
                    "request_id": [request_id_of(item, index)],
                    "merged": False,
                }
            )
        return json_response(results)

    def _link(self, request: SimRequest, user_id: int, lead_id: str) -> SimResponse:
        if self.crm.tables["leads"].get(int(lead_id)) is None:
            return problem(404, "Not Found", "Entity not found")
        body = self._checked_batch(request, self._validate_link)
        if isinstance(body, SimResponse):
            return body
        links = []
        for item in body:
            metadata = item.get("metadata") if isinstance(item.get("metadata"), dict) else {}
            self.crm.link(int(lead_id), item["to_entity_type"], item["to_entity_id"], bool(metadata.get("is_main")))
            links.append(
                {
                    "entity_id": int(lead_id),
                    "entity_type": "leads",
                    "to_entity_id": item["to_entity_id"],
                    "to_entity_type": item["to_entity_type"],
                    "metadata": metadata or None,
                }
            )
        return hal(
            {
                "_total_items": len(links),
                "_links": {"self": {"href": self._url(request.path)}},
                "_embedded": {"links": links},
            }
        )

    def _validate_link(self, item: Any, _: int, check: Validation) -> None:
        if not isinstance(item, dict):
            check.wrong_type("", "object")
            return
        kind = item.get("to_entity_type")
        if kind not in ("contacts", "companies"):
            check.not_supported("to_entity_type")
        elif not self.crm.tables[kind].exists(item.get("to_entity_id")):
            check.not_supported("to_entity_id")

    # --- validation ----------------------------------------------------------------------------------
    def _validate(
        self, entity: str, item: Any, check: Validation, *, creating: bool, complex_: bool = False, prefix: str = ""
    ) -> None:
        if not isinstance(item, dict):
            check.wrong_type(prefix.rstrip("."), "object")
            return
        if not creating and not self.crm.tables[entity].exists(item.get("id")):
            check.not_supported(f"{prefix}id")
        for key in ("name", "first_name", "last_name"):
            if key in item and not isinstance(item[key], str):
                check.wrong_type(f"{prefix}{key}", "string")
        for key in ("price", "created_at", "updated_at", "closed_at", "created_by", "updated_by"):
            if key in item and item[key] is not None and not is_int(item[key]):
                check.wrong_type(f"{prefix}{key}", "int")
        if "responsible_user_id" in item:
            if not is_int(item["responsible_user_id"]):
                check.wrong_type(f"{prefix}responsible_user_id", "int")
            elif self.crm.user(item["responsible_user_id"]) is None:
                check.not_supported(f"{prefix}responsible_user_id")
        if entity == "leads":
            self._validate_placement(item, check, prefix)
        if "custom_fields_values" in item:
            self._validate_values(entity, item["custom_fields_values"], check, prefix)
        embedded = item.get("_embedded")
        if embedded is not None and not isinstance(embedded, dict):
            check.wrong_type(f"{prefix}_embedded", "object")
            embedded = None
        embedded = embedded or {}
        for key in ("tags_to_add", "tags_to_delete"):
            if key in item:
                self._validate_tags(entity, item[key], check, f"{prefix}{key}")
        if "tags" in embedded:
            self._validate_tags(entity, embedded["tags"], check, f"{prefix}_embedded.tags")
        if complex_:
            self._validate_complex_embedded(embedded, check, prefix)
        elif creating:
            for kind in ("contacts", "companies"):
                if entity != "companies" and kind in embedded:
                    self._validate_refs(kind, embedded[kind], check, f"{prefix}_embedded.{kind}")

    def _validate_placement(self, item: Row, check: Validation, prefix: str) -> None:
        pipeline_id, status_id = item.get("pipeline_id"), item.get("status_id")
        if pipeline_id is not None and not is_int(pipeline_id):
            check.wrong_type(f"{prefix}pipeline_id", "int")
            return
        if pipeline_id is not None and self.crm.pipeline(pipeline_id) is None:
            check.not_supported(f"{prefix}pipeline_id")
            return
        if status_id is None:
            return
        if not is_int(status_id):
            check.wrong_type(f"{prefix}status_id", "int")
            return
        pipeline = self.crm.pipeline(pipeline_id) if pipeline_id is not None else None
        known = status_id in (WON_STATUS, LOST_STATUS) or status_id in self.crm.status_pipeline
        in_pipeline = pipeline is None or any(status[0] == status_id for status in pipeline.statuses)
        if not known or not in_pipeline:
            check.not_supported(f"{prefix}status_id")

    def _validate_values(self, entity: str, values: Any, check: Validation, prefix: str) -> None:
        if values is None:
            return
        if not isinstance(values, list):
            check.wrong_type(f"{prefix}custom_fields_values", "array")
            return
        for index, entry in enumerate(values):
            path = f"{prefix}custom_fields_values.{index}"
            if not isinstance(entry, dict):
                check.wrong_type(path, "object")
                continue
            custom_field = self._field_of(entity, entry)
            if custom_field is None:
                check.not_supported(f"{path}.{'field_id' if 'field_id' in entry else 'field_code'}")
                continue
            field_values = entry.get("values")
            if field_values is None:
                continue
            if not isinstance(field_values, list):
                check.wrong_type(f"{path}.values", "array")
                continue
            for number, value in enumerate(field_values):
                self._validate_value(custom_field, value, check, f"{path}.values.{number}")

    def _field_of(self, entity: str, entry: Row) -> CustomField | None:
        if "field_id" in entry:
            return self.crm.field_by_id(entity, entry["field_id"])
        return self.crm.field_by_code(entity, entry.get("field_code"))

    @staticmethod
    def _validate_value(custom_field: CustomField, value: Any, check: Validation, path: str) -> None:
        if not isinstance(value, dict):
            check.wrong_type(path, "object")
            return
        if custom_field.type == "multitext":
            code = value.get("enum_code")
            if code is not None and custom_field.enum_by_value(code) is None:
                check.not_supported(f"{path}.enum_code")
            if "enum_id" in value and custom_field.enum_by_id(value["enum_id"]) is None:
                check.not_supported(f"{path}.enum_id")
            if not isinstance(value.get("value"), str):
                check.wrong_type(f"{path}.value", "string")
        elif custom_field.enums:
            if "enum_code" in value:
                check.add("FieldNotExpected", f"{path}.enum_code", Validation.NOT_EXPECTED)
            elif "enum_id" in value:
                if custom_field.enum_by_id(value["enum_id"]) is None:
                    check.not_supported(f"{path}.enum_id")
            elif custom_field.enum_by_value(value.get("value")) is None:  # exact, case and spaces (E4)
                check.not_supported(f"{path}.value")
        else:
            for key in ("enum_code", "enum_id"):
                if key in value:
                    check.add("FieldNotExpected", f"{path}.{key}", Validation.NOT_EXPECTED)
            if custom_field.type in ("date", "date_time", "birthday", "numeric") and not is_int(value.get("value")):
                check.wrong_type(f"{path}.value", "int")
            elif custom_field.type not in ("date", "date_time", "birthday", "numeric") and not isinstance(
                value.get("value"), str | int | float
            ):
                check.wrong_type(f"{path}.value", "string")

    def _validate_tags(self, entity: str, tags: Any, check: Validation, path: str) -> None:
        if tags is None:
            return
        if not isinstance(tags, list):
            check.wrong_type(path, "array")
            return
        for index, tag in enumerate(tags):
            if not isinstance(tag, dict):
                check.wrong_type(f"{path}.{index}", "object")
            elif "id" in tag:
                if tag["id"] not in self.crm.tags[entity]:
                    check.not_supported(f"{path}.{index}.id")
            elif not isinstance(tag.get("name"), str) or not tag["name"].strip():
                check.wrong_type(f"{path}.{index}.name", "string")

    def _validate_refs(self, kind: str, refs: Any, check: Validation, path: str) -> None:
        if not isinstance(refs, list):
            check.wrong_type(path, "array")
            return
        for index, ref in enumerate(refs):
            if not isinstance(ref, dict) or not self.crm.tables[kind].exists(ref.get("id")):
                check.not_supported(f"{path}.{index}.id")

    def _validate_complex_embedded(self, embedded: Row, check: Validation, prefix: str) -> None:
        for kind in ("contacts", "companies"):
            entities = embedded.get(kind)
            if entities is None:
                continue
            path = f"{prefix}_embedded.{kind}"
            if not isinstance(entities, list):
                check.wrong_type(path, "array")
            elif len(entities) > 1:  # one contact and one company per lead (B3); code name [UNCERTAIN]
                check.add("InvalidType", path, "This collection should contain 1 element or less.")
            elif entities:
                self._validate(kind, entities[0], check, creating=True, prefix=f"{path}.0.")

    # --- applying writes -----------------------------------------------------------------------------
    def _create(self, entity: str, item: Row, user_id: int) -> Row:
        now = self.now()
        row: Row = {
            "id": 0,
            "name": "",
            "responsible_user_id": item.get("responsible_user_id", user_id),
            "created_by": item.get("created_by", user_id),
            "updated_by": item.get("updated_by", user_id),
            "created_at": item.get("created_at") or now,
            "updated_at": item.get("updated_at") or now,
            "cf": {},
            "_tags": [],
            "_companies": [],
        }
        if entity == "leads":
            row.update(price=item.get("price") or 0, _contacts=[], closed_at=item.get("closed_at"))
            row["pipeline_id"], row["status_id"] = self._placement(item, None)
        if entity == "contacts":
            row.update(first_name=item.get("first_name", ""), last_name=item.get("last_name", ""), _leads=[])
        self.crm.tables[entity].insert(row)
        row["name"] = self._name(entity, item, row)
        self._apply(entity, row, item, now)
        embedded = item.get("_embedded") or {}
        if entity == "leads":
            for ref in embedded.get("contacts") or []:
                self.crm.link(row["id"], "contacts", ref["id"], bool(ref.get("is_main")))
            for ref in embedded.get("companies") or []:
                self.crm.link(row["id"], "companies", ref["id"], False)
        if entity == "contacts":
            row["_companies"] = [ref["id"] for ref in (embedded.get("companies") or [])[:1]]
        return row

    @staticmethod
    def _name(entity: str, item: Row, row: Row) -> str:
        if item.get("name"):
            return str(item["name"])
        if entity == "contacts":
            return f"{row.get('first_name', '')} {row.get('last_name', '')}".strip()
        return f"{'Сделка' if entity == 'leads' else 'Компания'} #{row['id']}"

    def _change(self, entity: str, item: Row, user_id: int) -> Row:
        row = self.crm.tables[entity].touch(item["id"])
        for key in ("name", "first_name", "last_name", "price", "responsible_user_id", "created_at", "closed_at"):
            if key in item:
                row[key] = item[key]
        if entity == "leads" and ("status_id" in item or "pipeline_id" in item):
            row["pipeline_id"], row["status_id"] = self._placement(item, (row["pipeline_id"], row["status_id"]))
        row["updated_by"] = item.get("updated_by", user_id)
        row["updated_at"] = item.get("updated_at") or self.now()
        self._apply(entity, row, item, row["updated_at"])
        return row

    def _placement(self, item: Row, current: tuple[int, int] | None) -> tuple[int, int]:
        """(pipeline, status) for a write: the default is the main pipeline's first stage (B5)."""
        pipeline_id, status_id = item.get("pipeline_id"), item.get("status_id")
        if status_id is not None and status_id in self.crm.status_pipeline:
            return self.crm.status_pipeline[status_id], status_id
        if pipeline_id is None:
            pipeline_id = current[0] if current else self.crm.main_pipeline.id
        pipeline = self.crm.pipeline(pipeline_id) or self.crm.main_pipeline
        if status_id is None:
            status_id = pipeline.first_open_status
        return pipeline.id, status_id

    def _apply(self, entity: str, row: Row, item: Row, now: int) -> None:
        if entity == "leads" and row.get("status_id") in (WON_STATUS, LOST_STATUS) and not row.get("closed_at"):
            row["closed_at"] = now
        for entry in item.get("custom_fields_values") or []:
            custom_field = self._field_of(entity, entry)
            assert custom_field is not None  # validated
            values = [self._stored_value(custom_field, value) for value in entry.get("values") or []]
            row["cf"] = {**row["cf"], custom_field.id: values} if values else self._without(row["cf"], custom_field.id)
        self._apply_tags(entity, row, item)

    @staticmethod
    def _without(values: Mapping[int, list[Row]], field_id: int) -> dict[int, list[Row]]:
        return {key: value for key, value in values.items() if key != field_id}

    def _stored_value(self, custom_field: CustomField, value: Row) -> Row:
        if custom_field.type == "multitext":
            enum = custom_field.enum_by_id(value.get("enum_id")) or custom_field.enum_by_value(
                value.get("enum_code") or "WORK"
            )
            assert enum is not None
            return {"value": value["value"], "enum_id": enum[0], "enum_code": enum[1]}
        if custom_field.enums:
            enum = custom_field.enum_by_id(value.get("enum_id")) or custom_field.enum_by_value(value.get("value"))
            assert enum is not None
            return {"value": enum[1], "enum_id": enum[0]}
        if custom_field.type in ("date", "birthday"):
            # stored as midnight of that day in the account's time zone (E5, amocrm-api-php#402)
            offset = self.knobs.utc_offset_hours * 3600
            return {"value": value["value"] - (value["value"] + offset) % 86_400}
        return {"value": value["value"]}

    def _apply_tags(self, entity: str, row: Row, item: Row) -> None:
        embedded = item.get("_embedded") or {}
        if "tags" in embedded:  # a full tag list wins over tags_to_add/delete (B9)
            row["_tags"] = self._tag_ids(entity, embedded["tags"] or [])
            return
        deleted = self._known_tag_ids(entity, item.get("tags_to_delete") or [])
        tags = [tag for tag in row["_tags"] if tag not in deleted]
        for tag_id in self._tag_ids(entity, item.get("tags_to_add") or []):
            if tag_id not in tags:
                tags.append(tag_id)
        row["_tags"] = tags

    def _tag_ids(self, entity: str, refs: Iterable[Row]) -> list[int]:
        return [ref["id"] if "id" in ref else self.crm.tag_id(entity, ref["name"]) for ref in refs]

    def _known_tag_ids(self, entity: str, refs: Iterable[Row]) -> set[int]:
        names = {ref["name"] for ref in refs if "name" in ref}
        named = {tag_id for tag_id, name in self.crm.tags[entity].items() if name in names}
        return named | {ref["id"] for ref in refs if "id" in ref}
