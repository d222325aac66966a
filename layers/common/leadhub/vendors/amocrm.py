"""amoCRM (Kommo) API v4 client: OAuth tokens, leads, contacts, companies, pipelines, users, account.

Vendor quirks handled here (calltouch-amocrm.md Part B and E):
- Every account has its own host, `https://{subdomain}.amocrm.ru` (B1). The base URL template takes a
  `{subdomain}` placeholder. A template without one (a simulator) is used as is.
- OAuth 2.0 (B2, E3). Access tokens live 24 h. Refresh tokens live 3 months and are single-use *globally*.
  On a 401 the client refreshes once and repeats the call. It hands the new pair to `on_tokens` at once,
  so the caller can store it before anything else fails. A spent refresh token gets 401 with the hint
  "Token has been revoked": another process refreshed first, or storage holds a stale copy. That becomes
  InvalidCredentials carrying the hint. New tokens are registered for redaction before anything else
  reads them.
- "Nothing" is HTTP 204 with no body (B4, E6) for lists, searches and missing ids. It becomes an empty
  result or None, never an error.
- Paging (B4): `limit` ≤ 250, and paging stops when `_links.next` is absent. The client sends the next
  page number rather than following the vendor's `next` URL, so the bearer token never goes to a host
  named in a response.
- Writes (B3): ≤ 250 entities a request, sent in batches of 50 by default as amoCRM recommends. A 504 on
  a write halves the batch and sends the rest in smaller pieces, as the doc advises. A 504 may still have
  saved part of a batch, so the sync dedupes by its external-id field (C4.6). `/leads/complex` takes
  ≤ 50 leads (B5).
- Limits (B3, E2): 7 requests a second *per IP*, so one limiter per process serves every account. It
  allows 7 per 1.1 s because the server counts arrivals, not departures. A 429 comes as gateway HTML with
  no Retry-After (#526) or as the documented JSON with `retry_after`. Both become RateLimited, using
  whichever delay is given. Repeated violations get an nginx 403 page. That becomes AccessDenied saying
  the IP is blocked, and is not retried, because more calls only prolong the block.
- Validation (B14, E4): a 400 `validation-errors` body becomes RequestRejected naming each item's
  `request_id`, error code and field path. 402 (unpaid account) → FeatureDisabled.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from leadhub.models.base import DeferredModel
from leadhub.observability import logger
from leadhub.redaction import register_secret
from leadhub.vendors import errors
from leadhub.vendors.ratelimit import Rate, RateLimiter, shared_limiter
from leadhub.vendors.transport import Transport, VendorPolicy, parse_retry_after

if TYPE_CHECKING:
    import requests

VENDOR = "amocrm"
TOKEN_PATH = "oauth2/access_token"
MAX_PAGE_SIZE = 250
MAX_BATCH = 250
MAX_COMPLEX_BATCH = 50
DEFAULT_BATCH = 50
CUSTOM_FIELDS_PAGE_SIZE = 50
WON_STATUS, LOST_STATUS = 142, 143

DEFAULT_POLICY = VendorPolicy(vendor=VENDOR, rates=(Rate(7, 1.1),))

_SUBDOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", re.IGNORECASE)
_SHOWN_PROBLEMS = 5

Raw = dict[str, Any]


# --- typed results ------------------------------------------------------------------------------------


class AmoTokens(DeferredModel):
    """An OAuth pair. The secrets are SecretStr, so a repr, log line or JSON dump shows `**********`."""

    model_config = ConfigDict(frozen=True)

    access_token: SecretStr
    #: None for a long-lived token, which cannot be refreshed (B2).
    refresh_token: SecretStr | None = None
    #: When the access token expires, in Unix seconds by the server's clock when it said (`server_time`).
    expires_at: int | None = None
    token_type: str = "Bearer"

    def stored(self) -> dict[str, Any]:
        """The pair in clear, for the credentials store only (a JSON dump would hold the masks)."""
        return {
            "access_token": self.access_token.get_secret_value(),
            "refresh_token": self.refresh_token.get_secret_value() if self.refresh_token else None,
            "expires_at": self.expires_at,
            "token_type": self.token_type,
        }


class AmoStatus(DeferredModel):
    id: int
    name: str
    pipeline_id: int
    sort: int = 0
    #: 1 marks the "Неразобранное" (unsorted) status (B10).
    type: int = 0
    is_editable: bool = True
    color: str | None = None

    @property
    def is_closed(self) -> bool:
        """142 «Успешно реализовано» and 143 «Закрыто и не реализовано» close a deal in every pipeline."""
        return self.id in (WON_STATUS, LOST_STATUS)


class AmoPipeline(DeferredModel):
    id: int
    name: str
    sort: int = 0
    is_main: bool = False
    is_archive: bool = False
    statuses: list[AmoStatus] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _lift_statuses(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and "statuses" not in raw:
            return {**raw, "statuses": (raw.get("_embedded") or {}).get("statuses", [])}
        return raw


class AmoUser(DeferredModel):
    id: int
    name: str
    email: str | None = None
    is_admin: bool = False
    is_active: bool = True

    @model_validator(mode="before")
    @classmethod
    def _lift_rights(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and isinstance(raw.get("rights"), dict):
            rights = raw["rights"]
            return {**raw, "is_admin": bool(rights.get("is_admin")), "is_active": rights.get("is_active", True)}
        return raw


class AmoAccount(DeferredModel):
    id: int
    name: str
    subdomain: str
    current_user_id: int | None = None
    country: str | None = None
    currency: str | None = None
    #: The account's time zone: `date` custom fields are stored as midnight in it (E5).
    timezone: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _lift_timezone(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and "timezone" not in raw:
            settings = (raw.get("_embedded") or {}).get("datetime_settings") or {}
            return {**raw, "timezone": settings.get("timezone")}
        return raw


class AmoEnum(DeferredModel):
    id: int
    value: str
    sort: int = 0


class AmoCustomField(DeferredModel):
    id: int
    name: str
    type: str
    code: str | None = None
    entity_type: str | None = None
    enums: list[AmoEnum] = Field(default_factory=list)

    @field_validator("enums", mode="before")
    @classmethod
    def _enums_as_list(cls, value: Any) -> Any:
        # a PATCH answer may key the enums by position instead of listing them (B8)
        if value is None:
            return []
        return list(value.values()) if isinstance(value, dict) else value


# --- errors ------------------------------------------------------------------------------------------


class WriteTimedOut(errors.ServerError):
    """amoCRM's gateway gave up on a write (504): the batch was too big. Resending it as is would time out
    again, so the transport does not retry. The client halves the batch instead (B3)."""

    retryable = False


# --- the client ----------------------------------------------------------------------------------------


class AmoCrmClient:
    def __init__(
        self,
        subdomain: str,
        *,
        base_url_template: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        tokens: AmoTokens | None = None,
        on_tokens: Callable[[AmoTokens], None] | None = None,
        reload_tokens: Callable[[], AmoTokens | None] | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        policy: VendorPolicy | None = None,
        batch_size: int = DEFAULT_BATCH,
        page_size: int = MAX_PAGE_SIZE,
    ) -> None:
        if not _SUBDOMAIN.match(subdomain):
            raise errors.ConfigError(VENDOR, f"{subdomain!r} is not an amoCRM subdomain")
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be 1..{MAX_BATCH}")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}")
        policy = policy or DEFAULT_POLICY
        self._client_id = client_id
        self._client_secret = client_secret
        self._redirect_uri = redirect_uri
        self._tokens = tokens
        self._on_tokens = on_tokens
        self._reload_tokens = reload_tokens
        self._batch_size = batch_size
        self._page_size = page_size
        # "Nothing" is a 204 with no body (B4), not a malformed answer.
        self._transport = Transport(
            policy,
            base_url_template.replace("{subdomain}", subdomain),
            credentials=[client_secret, *_secrets_of(tokens)],
            classify=_classify,
            session=session,
            limiter=_per_ip_limiter(policy),
            sleep=sleep,
            empty_body=None,
        )

    @property
    def tokens(self) -> AmoTokens | None:
        return self._tokens

    # --- OAuth -----------------------------------------------------------------------------------------
    def exchange_code(self, code: str) -> AmoTokens:
        """Trade the authorization code from the consent redirect for a token pair (single use, ~20 min)."""
        register_secret(code)
        return self._grant({"grant_type": "authorization_code", "code": code})

    def refresh(self) -> AmoTokens:
        """A new pair for the refresh token; the old refresh token and access token die (E3)."""
        if self._tokens is None or self._tokens.refresh_token is None:
            raise errors.InvalidCredentials(VENDOR, "no refresh token to renew access with: reconnect the account")
        spent = self._tokens.refresh_token.get_secret_value()
        try:
            return self._grant({"grant_type": "refresh_token", "refresh_token": spent})
        except errors.InvalidCredentials:
            # a refresh token is single-use: a refusal usually means another process refreshed first and
            # stored the pair it got, which then serves here too (E3)
            stored = self._reload_tokens() if self._reload_tokens is not None else None
            if stored is None or stored.refresh_token is None or stored.refresh_token.get_secret_value() == spent:
                raise
            logger.info("amoCRM refresh token already spent; using the pair stored by the winner")
            self.use_tokens(stored)
            return stored

    def use_tokens(self, tokens: AmoTokens) -> None:
        """Carry on with a pair obtained elsewhere (another process's refresh, a reconnect)."""
        register_secret(*_secrets_of(tokens))
        self._tokens = tokens

    def _grant(self, grant: Mapping[str, str]) -> AmoTokens:
        body = {
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "redirect_uri": self._redirect_uri,
            **grant,
        }
        response, payload = self._transport.request_json("POST", TOKEN_PATH, json_body=body)
        tokens = _tokens_from(payload)
        if tokens is None:
            raise self._transport.malformed(response, "no token pair")
        self._tokens = tokens
        if self._on_tokens is not None:
            self._on_tokens(tokens)
        return tokens

    # --- calls -----------------------------------------------------------------------------------------
    def _call(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json_body: Any = None
    ) -> tuple[requests.Response, Any]:
        """An API call with the bearer token; a 401 refreshes the token once and repeats the call."""
        try:
            return self._authorized(method, path, params, json_body)
        except errors.InvalidCredentials as error:
            if error.status != 401 or self._tokens is None or self._tokens.refresh_token is None:
                raise
            logger.info("amoCRM refused the access token; refreshing it once", extra={"vendor": VENDOR})
        self.refresh()
        return self._authorized(method, path, params, json_body)

    def _authorized(
        self, method: str, path: str, params: Mapping[str, Any] | None, json_body: Any
    ) -> tuple[requests.Response, Any]:
        if self._tokens is None:
            raise errors.InvalidCredentials(VENDOR, "not connected: exchange an authorization code first")
        headers = {"Authorization": f"Bearer {self._tokens.access_token.get_secret_value()}"}
        return self._transport.request_json(method, path, params=params, json_body=json_body, headers=headers)

    def _iterate(self, path: str, key: str, params: Mapping[str, Any], page_size: int) -> Iterator[Raw]:
        page = 1
        while True:
            response, body = self._call("GET", path, params={**params, "page": page, "limit": page_size})
            if body is None:  # 204: no (more) rows
                return
            yield from _embedded(self._transport, response, body, key)
            links = body.get("_links")
            if not isinstance(links, dict) or "next" not in links:
                return
            page += 1

    # --- reads -----------------------------------------------------------------------------------------
    def iter_leads(
        self,
        *,
        query: str | None = None,
        with_: Sequence[str] = (),
        order: Mapping[str, str] | None = None,
        **filters: Any,
    ) -> Iterator[Raw]:
        """Leads as amoCRM returns them. `filters` become `filter[...]`, e.g. `id=[1, 2]`,
        `updated_at={"from": ts}`, `statuses=[{"pipeline_id": p, "status_id": s}]`; `order={"updated_at": "desc"}`."""
        params = _list_params(query, with_, order, filters)
        return self._iterate("api/v4/leads", "leads", params, self._page_size)

    def get_lead(self, lead_id: int, *, with_: Sequence[str] = ()) -> Raw | None:
        """The lead, or None when amoCRM has none with this id (204)."""
        response, body = self._call("GET", f"api/v4/leads/{int(lead_id)}", params=_list_params(None, with_, None, {}))
        if body is None:
            return None
        if not isinstance(body, dict) or "id" not in body:
            raise self._transport.malformed(response, "no lead object")
        return body

    def iter_contacts(
        self,
        *,
        query: str | None = None,
        with_: Sequence[str] = (),
        order: Mapping[str, str] | None = None,
        **filters: Any,
    ) -> Iterator[Raw]:
        params = _list_params(query, with_, order, filters)
        return self._iterate("api/v4/contacts", "contacts", params, self._page_size)

    def iter_companies(self, *, query: str | None = None, with_: Sequence[str] = (), **filters: Any) -> Iterator[Raw]:
        params = _list_params(query, with_, None, filters)
        return self._iterate("api/v4/companies", "companies", params, self._page_size)

    def find_contacts(self, query: str, *, with_: Sequence[str] = ("leads",)) -> list[Raw]:
        """Contacts whose filled fields contain `query`. amoCRM's search is fuzzy: the caller must check
        the PHONE/EMAIL values of each hit exactly (B13, E1)."""
        return list(self.iter_contacts(query=query, with_=with_))

    def list_pipelines(self) -> list[AmoPipeline]:
        response, body = self._call("GET", "api/v4/leads/pipelines")
        if body is None:
            return []
        return [_validated(AmoPipeline, raw) for raw in _embedded(self._transport, response, body, "pipelines")]

    def list_users(self) -> list[AmoUser]:
        """The account's users (admin rights needed: otherwise AccessDenied)."""
        return [_validated(AmoUser, raw) for raw in self._iterate("api/v4/users", "users", {}, MAX_PAGE_SIZE)]

    def account(self) -> AmoAccount:
        response, body = self._call("GET", "api/v4/account", params={"with": "datetime_settings"})
        if body is None:
            raise self._transport.malformed(response, "no account")
        return _validated(AmoAccount, body)

    def list_custom_fields(self, entity: str = "leads") -> list[AmoCustomField]:
        """The custom fields of leads, contacts or companies (amoCRM pages them by 50, B8)."""
        if entity not in ("leads", "contacts", "companies"):
            raise ValueError(f"no custom fields for {entity!r}")
        rows = self._iterate(f"api/v4/{entity}/custom_fields", "custom_fields", {}, CUSTOM_FIELDS_PAGE_SIZE)
        return [_validated(AmoCustomField, raw) for raw in rows]

    # --- writes ----------------------------------------------------------------------------------------
    def add_leads(self, leads: Sequence[Mapping[str, Any]]) -> list[Raw]:
        """Create leads; returns amoCRM's `{id, request_id, _links}` per lead, in order."""
        return self._write("POST", "api/v4/leads", "leads", leads, MAX_BATCH)

    def update_leads(self, leads: Sequence[Mapping[str, Any]]) -> list[Raw]:
        """Update leads (each with `id`); use `tags_to_add`, since `_embedded.tags` replaces the tags (B9)."""
        return self._write("PATCH", "api/v4/leads", "leads", leads, MAX_BATCH)

    def add_leads_complex(self, leads: Sequence[Mapping[str, Any]]) -> list[Raw]:
        """Create leads with a new contact/company each; returns `{id, contact_id, company_id, merged, ...}`."""
        return self._write("POST", "api/v4/leads/complex", None, leads, MAX_COMPLEX_BATCH)

    def add_contacts(self, contacts: Sequence[Mapping[str, Any]]) -> list[Raw]:
        return self._write("POST", "api/v4/contacts", "contacts", contacts, MAX_BATCH)

    def update_contacts(self, contacts: Sequence[Mapping[str, Any]]) -> list[Raw]:
        return self._write("PATCH", "api/v4/contacts", "contacts", contacts, MAX_BATCH)

    def add_companies(self, companies: Sequence[Mapping[str, Any]]) -> list[Raw]:
        return self._write("POST", "api/v4/companies", "companies", companies, MAX_BATCH)

    def update_companies(self, companies: Sequence[Mapping[str, Any]]) -> list[Raw]:
        return self._write("PATCH", "api/v4/companies", "companies", companies, MAX_BATCH)

    def add_custom_fields(self, entity: str, custom_fields: Sequence[Mapping[str, Any]]) -> list[AmoCustomField]:
        """Create custom fields of leads, contacts or companies (`name`, `type`, optional `code`)."""
        if entity not in ("leads", "contacts", "companies"):
            raise ValueError(f"no custom fields for {entity!r}")
        saved = self._write("POST", f"api/v4/{entity}/custom_fields", "custom_fields", custom_fields, MAX_BATCH)
        return [_validated(AmoCustomField, raw) for raw in saved]

    def link_contact(self, lead_id: int, contact_id: int, *, is_main: bool = False) -> None:
        """Attach a contact to an existing lead (`_embedded.contacts` works only when creating, B12)."""
        link = {"to_entity_id": int(contact_id), "to_entity_type": "contacts", "metadata": {"is_main": is_main}}
        self._write("POST", f"api/v4/leads/{int(lead_id)}/link", "links", [link], MAX_BATCH)

    def _write(
        self, method: str, path: str, key: str | None, entities: Sequence[Mapping[str, Any]], max_batch: int
    ) -> list[Raw]:
        pending = [dict(entity) for entity in entities]
        size = min(self._batch_size, max_batch)
        saved: list[Raw] = []
        while pending:
            chunk = pending[:size]
            try:
                response, body = self._call(method, path, json_body=chunk)
            except WriteTimedOut as error:
                if len(chunk) == 1:
                    raise errors.ServerError(VENDOR, error.message, status=error.status) from error
                size = max(1, len(chunk) // 2)
                logger.warning(
                    "amoCRM timed out on a batch write; halving the batch",
                    extra={"vendor": VENDOR, "batch": len(chunk), "next_batch": size},
                )
                continue
            saved.extend(_saved(self._transport, response, body, key))
            pending = pending[len(chunk) :]
        return saved


# --- helpers ------------------------------------------------------------------------------------------


def _per_ip_limiter(policy: VendorPolicy) -> RateLimiter | None:
    """amoCRM counts requests per IP, not per token: one limiter per process for every account (B3)."""
    if not policy.rates:
        return None
    return shared_limiter(policy.vendor, f"per-ip {policy.rates}", "process", policy.rates)


def _secrets_of(tokens: AmoTokens | None) -> list[str]:
    if tokens is None:
        return []
    secrets = [tokens.access_token.get_secret_value()]
    if tokens.refresh_token is not None:
        secrets.append(tokens.refresh_token.get_secret_value())
    return secrets


def _tokens_from(payload: Any) -> AmoTokens | None:
    if not isinstance(payload, dict):
        return None
    access, refresh = payload.get("access_token"), payload.get("refresh_token")
    register_secret(access if isinstance(access, str) else None, refresh if isinstance(refresh, str) else None)
    expires_in, server_time = payload.get("expires_in"), payload.get("server_time")
    if not isinstance(access, str) or not isinstance(expires_in, int):
        return None
    issued_at = server_time if isinstance(server_time, int) else int(time.time())
    return AmoTokens(
        access_token=SecretStr(access),
        refresh_token=SecretStr(refresh) if isinstance(refresh, str) else None,
        expires_at=issued_at + expires_in,
        token_type=str(payload.get("token_type") or "Bearer"),
    )


def _list_params(
    query: str | None, with_: Sequence[str], order: Mapping[str, str] | None, filters: Mapping[str, Any]
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if query:
        params["query"] = query
    if with_:
        params["with"] = ",".join(with_)
    for field, direction in (order or {}).items():
        params[f"order[{field}]"] = direction
    for name, value in filters.items():
        _flatten(f"filter[{name}]", value, params)
    return params


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    """Nested filters as PHP-style query keys: `filter[id][]=1`, `filter[statuses][0][status_id]=142`."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            _flatten(f"{prefix}[{key}]", item, out)
    elif isinstance(value, list | tuple | set | frozenset):
        items = list(value)
        if any(isinstance(item, Mapping | list | tuple) for item in items):
            for index, item in enumerate(items):
                _flatten(f"{prefix}[{index}]", item, out)
        else:
            out[f"{prefix}[]"] = [_scalar(item) for item in items]
    else:
        out[prefix] = _scalar(value)


def _scalar(value: Any) -> str:
    return str(int(value)) if isinstance(value, bool) else str(value)


def _embedded(transport: Transport, response: requests.Response, body: Any, key: str) -> list[Raw]:
    embedded = body.get("_embedded") if isinstance(body, dict) else None
    rows = embedded.get(key) if isinstance(embedded, dict) else None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise transport.malformed(response, f"no _embedded.{key} list")
    return rows


def _saved(transport: Transport, response: requests.Response, body: Any, key: str | None) -> list[Raw]:
    if key is not None:
        return _embedded(transport, response, body, key)
    # /leads/complex answers a bare array (B5)
    if not isinstance(body, list) or not all(isinstance(row, dict) for row in body):
        raise transport.malformed(response, "no array of saved leads")
    return body


def _validated[ModelT: BaseModel](model: type[ModelT], raw: Any) -> ModelT:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise errors.MalformedResponse(VENDOR, f"unexpected {model.__name__}: {exc.error_count()} bad fields") from None


def _classify(response: requests.Response) -> errors.VendorError | None:
    status = response.status_code
    if status == 429:
        return errors.RateLimited(
            VENDOR,
            "amoCRM rate limit hit (7 requests a second per IP)",
            status=status,
            retry_after=_retry_after(response),
        )
    if status == 403 and _is_html(response):
        return errors.AccessDenied(
            VENDOR,
            "amoCRM has blocked this IP after repeated rate-limit violations (nginx 403 page); the IP is "
            "blocked until amoCRM support lifts it: write to them with the IP and the account subdomain",
            status=status,
            code="ip_blocked",
        )
    body = _json_or_none(response)
    if status in (400, 401) and isinstance(body, dict) and "hint" in body and "OAuth" in str(body.get("type")):
        return errors.InvalidCredentials(
            VENDOR, f"amoCRM refused the OAuth grant ({body.get('hint')}): reconnect the account", status=status
        )
    if status == 400 and isinstance(body, dict) and isinstance(body.get("validation-errors"), list):
        problems = _validation_problems(body["validation-errors"])
        return errors.RequestRejected(
            VENDOR, f"amoCRM rejected the data: {problems}", status=status, code="validation-errors"
        )
    if status == 504 and response.request.method in ("POST", "PATCH") and "/api/v4/" in urlsplit(response.url).path:
        return WriteTimedOut(VENDOR, "amoCRM timed out on a write (504): the batch is too large", status=status)
    return None


def _retry_after(response: requests.Response) -> float | None:
    """Retry-After if sent; else the documented JSON body's `retry_after`; the HTML 429 gives neither."""
    header = parse_retry_after(response.headers.get("Retry-After"))
    if header is not None:
        return header
    body = _json_or_none(response)
    value = body.get("retry_after") if isinstance(body, dict) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _is_html(response: requests.Response) -> bool:
    return "html" in response.headers.get("Content-Type", "").lower() or response.text.lstrip().startswith("<")


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _validation_problems(items: Sequence[Any]) -> str:
    problems = [
        f"request_id {item.get('request_id')}: {problem.get('code')} at {problem.get('path')} ({problem.get('detail')})"
        for item in items
        if isinstance(item, dict)
        for problem in item.get("errors") or []
        if isinstance(problem, dict)
    ]
    shown = "; ".join(problems[:_SHOWN_PROBLEMS]) or "no details given"
    hidden = len(problems) - _SHOWN_PROBLEMS
    return shown + (f"; and {hidden} more" if hidden > 0 else "")
