"""Roistat API client (roistat-ringostat.md Part A) on the shared `Transport`.

Quirks handled here:
- Errors ride HTTP 200 by default; the verdict is the body's `status`/`error` (A2, Part D.1). Every body is
  checked, and `Use-Http-Code: 1` is sent by default so proxies and logs see real codes too.
- The key travels in the `Api-key` header, or in the `key` query parameter where the header "does not work
  everywhere" (A1); the project in the `project` query parameter.
- Rate limits are counted per project (A3): 10/s and 5000/h for everything, and order/list 20/min without
  `extend`, 1/5/10 per minute with `extend:["visit"]` by page size. Each has a client-side limiter from
  `Transport.limiter_for`, keyed by project.
- A one-condition `{"and":[…]}` filter crashes the server with `internal_error` (A4): one condition is
  sent as a flat array, two or more inside `and` (both forms verified live).
- `limit` is clamped silently (A4): paging advances by the rows received and stops on an empty page or
  when `total` is reached, never just because a page came back shorter than asked. Ordering across pages
  is not guaranteed, so every list is sorted explicitly and rows are de-duplicated by `id` (Part D.4).
- Filter dates are sent in UTC with an explicit `+0000` (A5); windows are half-open [start, end), and a
  bound with fractions of a second is rounded up, since record timestamps are whole seconds.
- Proxy leads come under `ProxyLeads` or `ProxyLead`, as a list or a single object (A2, A6.5).

Error codes (A2) → taxonomy:
- `authentication_failed` → InvalidCredentials; `access_denied` → AccessDenied.
- `option_not_available|enabled|paid` → FeatureDisabled. `insufficient_funds` and `project_frozen` →
  FeatureDisabled too: the account state blocks the data until the owner pays or unfreezes, which is
  "switched off or not paid for" to a marketer, not a broken key.
- `authorization_failed` → CrmUnreachable (a ConfigError): Roistat cannot reach the CRM integrated into
  the project, and the fix is to reconnect that CRM inside Roistat (n8n errors.ts); retrying does not help.
- `request_limit_error` → RateLimited (honours Retry-After if present; none is documented).
- `internal_error`, `unknown_error` → ServerError (retried).
- `incorrect_request`, `request_data_validation_error`, `resource_not_found`, `integration_error`,
  `resource_already_exists`, and any code not listed → RequestRejected.

[UNCERTAIN] shapes are read tolerantly: `call_tags` accepts strings, objects or null; `status_group`
treats a status with `type` null or absent as «Не учитывается».
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import ConfigDict, ValidationError

from leadhub.models.base import DeferredModel
from leadhub.vendors import errors
from leadhub.vendors.ratelimit import Rate, RateLimiter
from leadhub.vendors.transport import RetryPolicy, Transport, VendorPolicy, parse_retry_after

if TYPE_CHECKING:
    import requests

VENDOR = "roistat"
DEFAULT_BASE_URL = "https://cloud.roistat.com/api/v1"

#: Per project, across every integration and the Roistat UI (A3).
PROJECT_RATES = (Rate(10, 1.0), Rate(5000, 3600.0))
ORDER_LIST_RATES = (Rate(20, 60.0),)
#: order/list with extend: (largest page size, rate), smallest first (A3).
ORDER_LIST_EXTEND_RATES = ((100, Rate(10, 60.0)), (1000, Rate(5, 60.0)))
ORDER_LIST_EXTEND_HUGE_RATE = Rate(1, 60.0)
#: The order page size, with or without the visit: the largest tier whose page is bounded (A3). With
#: the visit, 1 000-row pages at 5 a minute read 5 000 orders a minute where 100-row pages at 10 read
#: 1 000; pages over 1 000 rows buy 1 a minute for a page whose maximum no document gives (A4).
ORDER_PAGE_SIZE = 1000

#: A probe waited 5 s, 15 s, 30 s after `request_limit_error` (A3); backoff 2, 4, 8, 16 s is close.
DEFAULT_POLICY = VendorPolicy(VENDOR, retry=RetryPolicy(backoff_base=2.0))

NOT_COUNTED = "not_counted"
STATUS_GROUPS = ("progress", "paid", "canceled")

Condition = tuple[str, str, Any]


class CrmUnreachable(errors.ConfigError):
    explanation = "Roistat cannot reach the CRM connected to the project: reconnect the CRM inside Roistat."


#: Roistat's option ids in plain words: a switched-off option is named as the marketer knows it.
OPTION_NAMES = {"calltracking": "call tracking", "clients": "«Управление клиентами» (client management)"}

ERROR_CLASSES: dict[str, type[errors.VendorError]] = {
    "authentication_failed": errors.InvalidCredentials,
    "access_denied": errors.AccessDenied,
    "option_not_available": errors.FeatureDisabled,
    "option_not_enabled": errors.FeatureDisabled,
    "option_not_paid": errors.FeatureDisabled,
    "insufficient_funds": errors.FeatureDisabled,
    "project_frozen": errors.FeatureDisabled,
    "authorization_failed": CrmUnreachable,
    "request_limit_error": errors.RateLimited,
    "internal_error": errors.ServerError,
    "unknown_error": errors.ServerError,
}


class RoistatProject(DeferredModel):
    """A project from `GET /user/projects` (A1)."""

    model_config = ConfigDict(extra="ignore")

    id: int
    name: str
    currency: str | None = None
    #: The profit share, as Roistat sends it (a string or null).
    profit: str | None = None
    #: `YYYY-MM-DD HH:MM:SS`; Roistat does not say in which zone, so it stays text.
    creation_date: str | None = None
    is_owner: bool = False


class RoistatStaticChannel(DeferredModel):
    """A static calltracking script (A6.2): its calls carry `static_source.system_name == value`."""

    script_id: int | str
    name: str
    value: str | None
    is_enabled: bool
    script: dict[str, Any]


def classify(response: requests.Response) -> errors.VendorError | None:
    """The error a Roistat body reports, whatever the HTTP status; None when the body is not an error."""
    # Error bodies are a few hundred bytes; skip parsing megabyte pages that cannot be one.
    if b'"error"' not in response.content:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("status") != "error":
        return None
    return error_from_envelope(body, response)


def error_from_envelope(body: Mapping[str, Any], response: requests.Response) -> errors.VendorError:
    code = str(body.get("error") or "unknown")
    # Live projects fill `description`; the doc calls the field `message` (A2).
    text = str(body.get("description") or body.get("message") or "")
    details = body.get("details")
    option = details.get("option") if isinstance(details, Mapping) else None
    message = f"{code}: {text}" + (f" (option {option})" if option else "")
    error_class = ERROR_CLASSES.get(code, errors.RequestRejected)
    if error_class is errors.FeatureDisabled and option in OPTION_NAMES:
        message = f"{OPTION_NAMES[option]} is off in this Roistat project ({code})"
    if error_class is errors.RateLimited:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return errors.RateLimited(VENDOR, message, status=response.status_code, code=code, retry_after=retry_after)
    return error_class(VENDOR, message, status=response.status_code, code=code)


def filter_expression(conditions: Sequence[Condition]) -> list[list[Any]] | dict[str, list[list[Any]]] | None:
    """The `filters` value for these AND-ed conditions, in the forms Roistat is known to accept (A4)."""
    triples = [list(condition) for condition in conditions]
    if not triples:
        return None
    if len(triples) == 1:
        return triples  # a one-condition "and" is the internal_error bug
    return {"and": triples}


def filter_time(moment: datetime) -> str:
    """A filter bound in UTC with an explicit offset, rounded up to a whole second (A5)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("Roistat windows need time-zone-aware datetimes")
    if moment.microsecond:
        moment = moment.replace(microsecond=0) + timedelta(seconds=1)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def order_list_rates(*, extend_visit: bool, page_size: int) -> tuple[str, tuple[Rate, ...]]:
    """The limiter scope and rates that apply to one order/list request (A3)."""
    if not extend_visit:
        return "order-list", ORDER_LIST_RATES
    for largest, rate in ORDER_LIST_EXTEND_RATES:
        if page_size <= largest:
            return f"order-list-extend-{largest}", (rate,)
    return "order-list-extend-huge", (ORDER_LIST_EXTEND_HUGE_RATE,)


def status_group(status: Mapping[str, Any] | None) -> str:
    """`progress`, `paid`, `canceled`, or `not_counted` for «Не учитывается» (no type or an unknown one)."""
    status_type = status.get("type") if status else None
    return status_type if status_type in STATUS_GROUPS else NOT_COUNTED


def call_tags(call: Mapping[str, Any]) -> list[str]:
    """A call's tags as strings, from any shape seen or suspected: strings, {"name"|"title"}, null, "a, b"."""
    raw = call.get("tags")
    if isinstance(raw, str):
        raw = raw.split(",")
    if not isinstance(raw, list):
        return []
    tags = []
    for item in raw:
        name = (item.get("name") or item.get("title")) if isinstance(item, Mapping) else item
        if isinstance(name, str | int) and str(name).strip():
            tags.append(str(name).strip())
    return tags


class RoistatClient:
    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        use_http_code: bool = True,
        key_in_query: bool = False,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        policy: VendorPolicy | None = None,
    ) -> None:
        self._api_key = api_key
        self._key_in_query = key_in_query
        self._headers = {"Accept": "application/json"}
        if use_http_code:
            self._headers["Use-Http-Code"] = "1"
        if not key_in_query:
            self._headers["Api-key"] = api_key
        self._transport = Transport(
            policy or DEFAULT_POLICY,
            base_url,
            credentials=[api_key],
            classify=classify,
            session=session,
            sleep=sleep,
        )

    # --- public API ---------------------------------------------------------------------------
    def list_projects(self) -> list[RoistatProject]:
        response, body = self._call("GET", "user/projects")
        rows = self._rows(response, body, "projects")
        try:
            return [RoistatProject.model_validate(row) for row in rows]
        except ValidationError as exc:
            raise self._transport.malformed(response, f"unreadable project ({exc.error_count()} errors)") from None

    def iter_calls(
        self,
        project_id: int,
        start: datetime,
        end: datetime,
        *,
        page_size: int = 1000,
        extend: Sequence[str] = ("visit",),
    ) -> Iterator[dict[str, Any]]:
        """Calls with `date` in [start, end), oldest first. `extend` defaults to the visit, which holds the
        marker and UTM of dynamic calls (A6.1)."""
        query = {
            "filters": filter_expression([("date", ">=", filter_time(start)), ("date", "<", filter_time(end))]),
            "sort": ["date", "asc"],
            "extend": list(extend),
        }
        if start >= end:
            return iter(())
        return self._paged("project/calltracking/call/list", project_id, key="data", query=query, page_size=page_size)

    def iter_orders(
        self,
        project_id: int,
        start: datetime,
        end: datetime,
        *,
        extend_visit: bool = False,
        page_size: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Deals created in [start, end), oldest first, `ORDER_PAGE_SIZE` rows a page unless told."""
        size = page_size or ORDER_PAGE_SIZE
        scope, rates = order_list_rates(extend_visit=extend_visit, page_size=size)
        query = {
            "filters": filter_expression(
                [("creation_date", ">=", filter_time(start)), ("creation_date", "<", filter_time(end))]
            ),
            "sort": ["creation_date", "asc"],
            "extend": ["visit"] if extend_visit else [],
        }
        limiter = self._transport.limiter_for(f"{scope}:{project_id}", rates)
        if start >= end:
            return iter(())
        return self._paged(
            "project/integration/order/list", project_id, key="data", query=query, page_size=size, limiters=(limiter,)
        )

    def list_statuses(self, project_id: int) -> list[dict[str, Any]]:
        """The project's deal statuses; see `status_group` for the «Не учитывается» bucket (A6.4)."""
        response, body = self._call("POST", "project/integration/status/list", project_id, json_body={})
        return self._rows(response, body, "data")

    def proxy_leads(self, project_id: int, day: date) -> list[dict[str, Any]]:
        """Proxy leads of one day: one GET, no paging (A6.5). Roistat does not say in which zone the
        `period` days are; `creation_date` in each lead is naive UTC."""
        return self.proxy_leads_between(project_id, day, day)

    def proxy_leads_between(self, project_id: int, first: date, last: date) -> list[dict[str, Any]]:
        """Proxy leads of the days `first` to `last`, both included, in one GET (A6.5)."""
        period = f"{first.isoformat()}-{last.isoformat()}"
        response, body = self._call("GET", "project/proxy-leads", project_id, params={"period": period})
        for key in ("ProxyLeads", "ProxyLead"):
            if key in body:
                leads = body[key]
                return self._rows(response, {key: [leads] if isinstance(leads, dict) else leads}, key)
        raise self._transport.malformed(response, "no ProxyLeads")

    def visits(self, project_id: int, visit_ids: Iterable[str], *, per_request: int = 100) -> dict[str, dict[str, Any]]:
        """Visit id → visit (`site/visit/list`, A6.7), for rows that carry only a visit id (proxy leads).
        Ids go as an `or` of `id` conditions, a bounded number per request; one id as a flat array."""
        wanted = sorted({str(visit_id) for visit_id in visit_ids if visit_id})
        found: dict[str, dict[str, Any]] = {}
        for first in range(0, len(wanted), per_request):
            chunk = [["id", "=", visit_id] for visit_id in wanted[first : first + per_request]]
            query = {"filters": chunk if len(chunk) == 1 else {"or": chunk}, "sort": ["id", "asc"]}
            for visit in self._paged("project/site/visit/list", project_id, key="data", query=query, page_size=1000):
                found[str(visit.get("id"))] = visit
        return found

    def iter_clients(
        self, project_id: int, *, conditions: Sequence[Condition] = (), page_size: int = 1000
    ) -> Iterator[dict[str, Any]]:
        """Clients («Управление клиентами» must be on), optionally filtered, e.g. ("phone", "=", "7988…")."""
        query = {"filters": filter_expression(conditions), "sort": ["id", "asc"]}
        return self._paged("project/clients", project_id, key="clients", query=query, page_size=page_size)

    def list_static_channels(self, project_id: int) -> list[RoistatStaticChannel]:
        """Static calltracking scripts: the channels whose calls carry `static_source` (A6.2)."""
        response, body = self._call("POST", "project/calltracking/script/list", project_id, json_body={})
        channels = []
        for script in self._rows(response, body, "data"):
            options = script.get("options") if isinstance(script, dict) else None
            if not isinstance(options, dict) or options.get("calltracking_type") != "static":
                continue
            channels.append(
                RoistatStaticChannel(
                    script_id=script.get("id", ""),
                    name=str(script.get("name") or ""),
                    value=options.get("static_source"),
                    is_enabled=bool(script.get("is_enabled")),
                    script=script,
                )
            )
        return channels

    # --- plumbing -----------------------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        project_id: int | None = None,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        limiters: Sequence[RateLimiter] = (),
    ) -> tuple[requests.Response, dict[str, Any]]:
        query = dict(params or {})
        if project_id is not None:
            query["project"] = project_id
            limiters = (self._transport.limiter_for(f"project:{project_id}", PROJECT_RATES), *limiters)
        if self._key_in_query:
            query["key"] = self._api_key
        response, body = self._transport.request_json(
            method, path, params=query, json_body=json_body, headers=self._headers, extra_limiters=limiters
        )
        if not isinstance(body, dict) or body.get("status") != "success":
            raise self._transport.malformed(response, "no success envelope")
        return response, body

    def _rows(self, response: requests.Response, body: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
        rows = body.get(key)
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise self._transport.malformed(response, f"`{key}` is not a list of objects")
        return rows

    def _paged(
        self,
        path: str,
        project_id: int,
        *,
        key: str,
        query: Mapping[str, Any],
        page_size: int,
        limiters: Sequence[RateLimiter] = (),
    ) -> Iterator[dict[str, Any]]:
        """Checks arguments now, then pages lazily."""
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        body = {name: value for name, value in query.items() if value is not None}
        return self._pages(path, project_id, key=key, body=body, page_size=page_size, limiters=limiters)

    def _pages(
        self,
        path: str,
        project_id: int,
        *,
        key: str,
        body: Mapping[str, Any],
        page_size: int,
        limiters: Sequence[RateLimiter],
    ) -> Iterator[dict[str, Any]]:
        seen: set[str] = set()
        offset = 0
        while True:
            page = {**body, "limit": page_size, "offset": offset}
            response, envelope = self._call("POST", path, project_id, json_body=page, limiters=limiters)
            rows = self._rows(response, envelope, key)
            for row in rows:
                row_id = row.get("id")
                if row_id is not None and str(row_id) in seen:
                    continue
                seen.add(str(row_id))
                yield row
            offset += len(rows)
            if _last_page(rows, offset, envelope.get("total"), page_size):
                return


def _last_page(rows: list[dict[str, Any]], offset: int, total: Any, page_size: int) -> bool:
    if not rows:
        return True
    if isinstance(total, str) and total.isdigit():
        total = int(total)
    if isinstance(total, int) and not isinstance(total, bool):
        # A short page may be the silent clamp, not the end: trust `total` when there is one.
        return offset >= total
    return len(rows) < page_size
