"""Calltouch client: plan-metrics import and the calls diary.

Vendor quirks handled here (seed 004 = calltouch.ru/support/api-metod-importa-planovykh-metrik;
calltouch-amocrm.md Part A):
- Two auth styles (A1): `report-service` takes `Access-Token` + `SiteId` headers, the old
  `calls-service/RestAPI` takes the token as the `clientApiId` query parameter. Whether one token
  serves both is [UNCERTAIN], so `calls_api_token` may differ (default: the same token).
- Plans import (seed 004): at most 100 items a request, so `add_plans` sends chunks and maps the
  vendor's `items[i]` field paths back to the caller's indexes. Dates are `dd-mm-yyyy` with dashes.
  Errors come in three documented bodies (`apiError`, `validationError` with `violations`, and
  `data.message` for a missing field); their HTTP status is [GAP], so they are recognised by body
  whatever the status, and a body-level `{"message": "Access token не найден"}` means a bad key.
- Import status (seed 004): the documented method is POST (`status_method` is a knob); `status` is
  `success`, `error` or literally `in progress...`.
- Calls diary (A4): dates `dd/mm/yyyy` with slashes; the paged envelope
  `{page, pageTotal, pageSize, records}` with `limit` ≤ 1000 and ranges ≤ 90 days, so long ranges are
  split into windows. Rows are yielded verbatim (later code keeps raw rows). Call tags come only when
  asked for (`withCallTags=true`).
- Requests (form leads, A5): `calls-service/RestAPI/requests` with `siteId` in the query and dates
  `mm/dd/yyyy` — the US order, unlike the calls diary; a bare JSON array, no paging. No range cap is
  documented [GAP]: windows of at most `requests_max_days` (default 90, as the diary) are asked for.
  Tags come as `RequestTags` (capital R) when `withRequestTags=true`.
- Limits (seed 004, A2): 5 requests a second per IP — the policy allows 5 per 1.1 s because the server
  counts arrivals, not departures; the daily API-points budget has no documented answer when spent
  [GAP]: a 429 with a Retry-After longer than a minute (to midnight) surfaces as PointsExhausted (a
  RateLimited) without a retry. Plan imports pass a limiter shared across processes (leadhub.egress).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from pydantic import ConfigDict, Field, field_serializer, field_validator

from leadhub.models.base import DeferredModel
from leadhub.redaction import redact
from leadhub.vendors import errors
from leadhub.vendors.ratelimit import Rate, RateLimiter
from leadhub.vendors.transport import Transport, VendorPolicy, parse_retry_after

if TYPE_CHECKING:
    import requests

VENDOR = "calltouch"
BASE_URL = "https://api.calltouch.ru"
PLANS_ADD_PATH = "report-service/RestAPI/api/plans-import/add"
PLANS_STATUS_PATH = "report-service/RestAPI/api/plans-import/{import_id}/status"
CALLS_DIARY_PATH = "calls-service/RestAPI/{site_id}/calls-diary/calls"
REQUESTS_PATH = "calls-service/RestAPI/requests"

MAX_PLAN_ITEMS = 100
MAX_CALLS_PAGE_SIZE = 1000
MAX_CALLS_RANGE_DAYS = 90
#: No cap is documented for requests [GAP]: the diary's.
MAX_REQUESTS_RANGE_DAYS = 90

STATUS_SUCCESS = "success"
STATUS_ERROR = "error"
STATUS_IN_PROGRESS = "in progress..."

DEFAULT_POLICY = VendorPolicy(vendor=VENDOR, rates=(Rate(5, 1.1),))

_ITEM_PATH = re.compile(r"^items\[(\d+)\]")
_QUOTED_FIELD = re.compile(r'"([^"]+)"')


class PlanMetric(DeferredModel):
    model_config = ConfigDict(frozen=True)

    type: str
    name: str
    value: int


class PlanItem(DeferredModel):
    """One row of `plans-import/add`, serialised with the vendor's names and `dd-mm-yyyy` dates."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    date_from: date = Field(alias="dateFrom")
    date_to: date = Field(alias="dateTo")
    metric: PlanMetric
    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    content: str | None = None
    keyword: str | None = None

    @field_validator("date_from", "date_to", mode="before")
    @classmethod
    def _accept_vendor_dates(cls, value: Any) -> Any:
        if isinstance(value, str) and re.fullmatch(r"\d{2}-\d{2}-\d{4}", value):
            return datetime.strptime(value, "%d-%m-%Y").date()
        return value

    @field_serializer("date_from", "date_to")
    def _vendor_date(self, value: date) -> str:
        return value.strftime("%d-%m-%Y")

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)


class PlanImportBatch(DeferredModel):
    """One accepted request: its import log id and which of the caller's items it carried."""

    import_id: int
    accepted: int
    first_index: int


class PlanImportStatus(DeferredModel):
    import_id: int
    status: str
    #: The rows as the vendor echoes them (with a per-row `status` where it sends one).
    items: list[Any] = Field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.status in (STATUS_SUCCESS, STATUS_ERROR)

    @property
    def succeeded(self) -> bool:
        return self.status == STATUS_SUCCESS


class PlanValidationError(errors.RequestRejected):
    """Calltouch refused plan rows; `violations` holds `{fieldPath, message}` in the caller's indexes."""

    explanation = "Calltouch rejected some plan rows; fix the rows it names and import them again."

    def __init__(
        self,
        vendor: str,
        violations: Sequence[Mapping[str, Any]],
        *,
        status: int | None = None,
        accepted_batches: Sequence[PlanImportBatch] = (),
    ) -> None:
        self.violations = [
            {"fieldPath": str(v.get("fieldPath", "")), "message": redact(str(v.get("message", "")))} for v in violations
        ]
        #: Chunks imported before the rejected one (they stay imported).
        self.accepted_batches = list(accepted_batches)
        super().__init__(vendor, _violations_summary(self.violations), status=status, code="validationError")

    def shifted(self, offset: int, accepted_batches: Sequence[PlanImportBatch]) -> PlanValidationError:
        """The same error with chunk-local `items[i]` paths moved to the caller's indexes."""
        moved = [
            {**v, "fieldPath": _ITEM_PATH.sub(lambda m: f"items[{int(m.group(1)) + offset}]", v["fieldPath"])}
            for v in self.violations
        ]
        return PlanValidationError(self.vendor, moved, status=self.status, accepted_batches=accepted_batches)

    def to_dict(self) -> dict[str, object]:
        return {
            **super().to_dict(),
            "violations": self.violations,
            "accepted_batches": [batch.model_dump() for batch in self.accepted_batches],
        }


class PointsExhausted(errors.RateLimited):
    """The project's daily API points are spent (seed 004): nothing more until the budget refills.

    Calltouch's answer for it is [GAP]; a 429 whose Retry-After is longer than any per-second limit
    needs (`POINTS_RETRY_AFTER_SECONDS`) is read as this."""

    explanation = "Calltouch's daily API points are spent; Leadhub resumes when they refill."


#: A Retry-After longer than this is no per-second limit: the daily points budget is spent.
POINTS_RETRY_AFTER_SECONDS = 60.0


class ImportStillRunning(errors.VendorTimeout):
    explanation = "Calltouch is still importing the plans; Leadhub will check again later."


class CalltouchClient:
    def __init__(
        self,
        access_token: str,
        site_id: str,
        *,
        base_url: str = BASE_URL,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        policy: VendorPolicy | None = None,
        calls_api_token: str | None = None,
        status_method: str = "POST",
        max_plan_items: int = MAX_PLAN_ITEMS,
        calls_page_size: int = MAX_CALLS_PAGE_SIZE,
        calls_max_days: int = MAX_CALLS_RANGE_DAYS,
        requests_max_days: int = MAX_REQUESTS_RANGE_DAYS,
        limiter: RateLimiter | None = None,
    ) -> None:
        """`limiter`: the per-IP limit shared with other processes (leadhub.egress); by default one
        per process and credential set."""
        self._access_token = access_token
        self._calls_api_token = calls_api_token or access_token
        self._site_id = site_id
        self._status_method = status_method
        self._max_plan_items = max_plan_items
        self._calls_page_size = calls_page_size
        self._calls_max_days = calls_max_days
        self._requests_max_days = requests_max_days
        self._sleep = sleep
        self._transport = Transport(
            policy or DEFAULT_POLICY,
            base_url,
            credentials=[access_token, self._calls_api_token],
            classify=_classify,
            session=session,
            sleep=sleep,
            limiter=limiter,
        )

    @property
    def _headers(self) -> dict[str, str]:
        return {"Access-Token": self._access_token, "SiteId": self._site_id}

    # --- plans import --------------------------------------------------------------------------
    def add_plans(self, items: Sequence[PlanItem | Mapping[str, Any]]) -> list[PlanImportBatch]:
        """Import plan rows in chunks the vendor accepts; dict rows are sent as given."""
        wire = [item.to_wire() if isinstance(item, PlanItem) else dict(item) for item in items]
        batches: list[PlanImportBatch] = []
        for offset in range(0, len(wire), self._max_plan_items):
            chunk = wire[offset : offset + self._max_plan_items]
            try:
                import_id = self._send_plans(chunk)
            except PlanValidationError as error:
                raise error.shifted(offset, batches) from None
            batches.append(PlanImportBatch(import_id=import_id, accepted=len(chunk), first_index=offset))
        return batches

    def add_plan_chunk(self, chunk: Sequence[Mapping[str, Any]]) -> int:
        """Send one chunk of ≤ 100 wire rows; its import log id. PlanValidationError names rows by
        their index in this chunk."""
        if len(chunk) > self._max_plan_items:
            raise ValueError(f"a plans-import chunk holds at most {self._max_plan_items} items")
        return self._send_plans([dict(item) for item in chunk])

    def _send_plans(self, chunk: list[dict[str, Any]]) -> int:
        response, body = self._transport.request_json(
            "POST", PLANS_ADD_PATH, json_body={"items": chunk}, headers=self._headers, idempotent=False
        )
        data = _data_of(body)
        import_id = data.get("importLogId") if data is not None else None
        if isinstance(import_id, int) and not isinstance(import_id, bool):
            return import_id
        raise _envelope_error(body, response.status_code, plans_add=True) or self._transport.malformed(
            response, "no data.importLogId"
        )

    def import_status(self, import_id: int) -> PlanImportStatus:
        path = PLANS_STATUS_PATH.format(import_id=import_id)
        response, body = self._transport.request_json(self._status_method, path, headers=self._headers)
        data = _data_of(body)
        if data is None or not isinstance(data.get("status"), str):
            raise _envelope_error(body, response.status_code, plans_add=False) or self._transport.malformed(
                response, "no data.status"
            )
        items = data.get("items")
        return PlanImportStatus(
            import_id=import_id, status=data["status"], items=items if isinstance(items, list) else []
        )

    def wait_for_import(
        self, import_id: int, *, poll_interval: float = 5.0, timeout: float = 300.0
    ) -> PlanImportStatus:
        """Poll until the import is `success` or `error`; ImportStillRunning after `timeout` seconds."""
        polls_left = max(1, math.ceil(timeout / poll_interval))
        status = self.import_status(import_id)
        while not status.finished:
            if polls_left == 0:
                raise ImportStillRunning(VENDOR, f"plans import {import_id} still {status.status!r} after {timeout:g}s")
            polls_left -= 1
            self._sleep(poll_interval)
            status = self.import_status(import_id)
        return status

    # --- calls diary ---------------------------------------------------------------------------
    def verify_site(self) -> None:
        """The cheapest authorised call: one call of today's diary (InvalidCredentials / AccessDenied)."""
        today = date.today()
        self._calls_page(today, today, page=1, limit=1)

    def iter_calls(self, date_from: date, date_to: date, *, with_tags: bool = False) -> Iterator[dict[str, Any]]:
        """Every call of the range (days of the Calltouch project), as the vendor sends it, page by page
        and window by window; `with_tags`: with each call's `callTags`."""
        extra = {"withCallTags": "true"} if with_tags else {}
        for window_from, window_to in _windows(date_from, date_to, self._calls_max_days):
            page = 1
            while True:
                records, page_total = self._calls_page(
                    window_from, window_to, page=page, limit=self._calls_page_size, extra=extra
                )
                yield from records
                if not records or page >= page_total:
                    break
                page += 1

    def _calls_page(
        self, date_from: date, date_to: date, *, page: int, limit: int, extra: Mapping[str, str] | None = None
    ) -> tuple[list[Any], int]:
        path = CALLS_DIARY_PATH.format(site_id=quote(self._site_id, safe=""))
        params = {
            "clientApiId": self._calls_api_token,
            "dateFrom": date_from.strftime("%d/%m/%Y"),
            "dateTo": date_to.strftime("%d/%m/%Y"),
            "page": page,
            "limit": limit,
            **(extra or {}),
        }
        response, body = self._transport.request_json("GET", path, params=params)
        records = body.get("records") if isinstance(body, dict) else None
        page_total = body.get("pageTotal") if isinstance(body, dict) else None
        if not isinstance(records, list) or not isinstance(page_total, int):
            raise self._transport.malformed(response, "no records/pageTotal envelope")
        return records, page_total

    # --- requests (form leads) ----------------------------------------------------------------
    def iter_requests(self, date_from: date, date_to: date, *, with_tags: bool = False) -> Iterator[dict[str, Any]]:
        """Every request (form lead) of the range, as the vendor sends it, window by window; `with_tags`:
        with each request's `RequestTags`."""
        for window_from, window_to in _windows(date_from, date_to, self._requests_max_days):
            params = {
                "clientApiId": self._calls_api_token,
                "siteId": self._site_id,
                "dateFrom": window_from.strftime("%m/%d/%Y"),
                "dateTo": window_to.strftime("%m/%d/%Y"),
                **({"withRequestTags": "true"} if with_tags else {}),
            }
            response, body = self._transport.request_json("GET", REQUESTS_PATH, params=params)
            if not isinstance(body, list) or not all(isinstance(row, dict) for row in body):
                raise self._transport.malformed(response, "expected a JSON array of requests")
            yield from body


def _windows(date_from: date, date_to: date, max_days: int) -> Iterator[tuple[date, date]]:
    """The range in windows of at most `max_days` days, both ends inclusive."""
    if date_from > date_to:
        raise ValueError("date_from is after date_to")
    start = date_from
    while start <= date_to:
        end = min(date_to, start + timedelta(days=max_days - 1))
        yield start, end
        start = end + timedelta(days=1)


def _data_of(body: Any) -> dict[str, Any] | None:
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, dict) else None


def _classify(response: requests.Response) -> errors.VendorError | None:
    if response.status_code < 400:
        return None
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if response.status_code == 429 and retry_after is not None and retry_after > POINTS_RETRY_AFTER_SECONDS:
        return PointsExhausted(VENDOR, "daily API points spent", status=429, retry_after=retry_after)
    try:
        body = response.json()
    except ValueError:
        return None
    return _envelope_error(body, response.status_code, plans_add=response.url.endswith(PLANS_ADD_PATH))


def _envelope_error(body: Any, status: int, *, plans_add: bool) -> errors.VendorError | None:
    """The error a documented error body means (seed 004), whatever HTTP status carried it."""
    if isinstance(body, dict) and "data" not in body and "Access token" in str(body.get("message", "")):
        return errors.InvalidCredentials(VENDOR, f"credentials refused: {body['message']}", status=status)
    data = _data_of(body)
    if data is None:
        return None
    if data.get("type") == "validationError":
        invalid = data.get("validationErrorData")
        violations = invalid.get("violations") if isinstance(invalid, dict) else None
        if isinstance(violations, list):
            return PlanValidationError(VENDOR, [v for v in violations if isinstance(v, dict)], status=status)
    if data.get("type") == "apiError":
        api_error = data.get("apiErrorData")
        api_error = api_error if isinstance(api_error, dict) else {}
        return errors.RequestRejected(
            VENDOR,
            f"request refused: {api_error.get('errorMessage')}",
            status=status,
            code=str(api_error.get("errorCode")),
        )
    message = data.get("message")
    if not isinstance(message, str):
        return None
    if not plans_add:
        return errors.RequestRejected(VENDOR, f"request refused: {message}", status=status)
    # Seed 004 error 5 names the missing field bare ("dateTo"), without the row.
    field = _QUOTED_FIELD.search(message)
    return PlanValidationError(
        VENDOR, [{"fieldPath": field.group(1) if field else "", "message": message}], status=status
    )


def _violations_summary(violations: Sequence[Mapping[str, str]], shown: int = 5) -> str:
    listed = "; ".join(f"{v['fieldPath'] or '(request)'}: {v['message']}" for v in violations[:shown])
    more = f" (+{len(violations) - shown} more)" if len(violations) > shown else ""
    return f"plans import rejected: {listed}{more}"
