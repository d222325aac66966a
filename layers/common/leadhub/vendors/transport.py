"""The one HTTP transport every vendor client uses.

It owns what all vendors share: a requests session with connect/read timeouts, bounded retries
with exponential backoff that honours `Retry-After`, a client-side rate limit per credential set,
the mapping of HTTP failures to the error taxonomy, and redaction of URLs and headers in
everything it reports. A vendor module supplies only its quirks, through `classify`: a function
that reads a response and returns the error it means (Roistat, say, reports errors with HTTP 200).
"""

from __future__ import annotations

import copy
import email.utils
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

import orjson

from leadhub.observability import logger, tracer
from leadhub.redaction import excerpt, redact, redact_url, register_secrets
from leadhub.vendors import errors
from leadhub.vendors.ratelimit import LimitWaitTooLong, Rate, RateLimiter, fingerprint, shared_limiter

if TYPE_CHECKING:
    import requests

#: The default meaning of an empty body: the answer is malformed.
MALFORMED: Any = object()

Classifier = Callable[["requests.Response"], "errors.VendorError | None"]


def _traced_session() -> requests.Session:
    """requests is imported, and traced, with the first vendor client: most API requests call no vendor,
    and importing requests (with its patch) cost every cold start ~30 ms."""
    import requests

    tracer.patch(modules=("requests",))
    return requests.Session()


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    #: A Retry-After longer than this is not slept through: the error is raised for the engine
    #: to reschedule (a Lambda must not sleep for five minutes).
    max_retry_after: float = 60.0
    #: Nor is a client-side limit that would hold the next request longer: Roistat's "5 000 an hour"
    #: used up means an hour, and a job reschedules itself rather than sleep past its Lambda's time.
    #: Above the longest per-minute wait (a minute), so per-minute limits are waited out in place.
    max_limit_wait: float = 120.0
    #: A garbled page is usually a proxy or gateway hiccup: read it again before giving up.
    retry_malformed: bool = True


@dataclass(frozen=True)
class VendorPolicy:
    vendor: str
    rates: Sequence[Rate] = ()
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def classify_http_status(vendor: str, response: requests.Response) -> errors.VendorError | None:
    """The default mapping of an HTTP status to the error taxonomy (None: not an error)."""
    status = response.status_code
    if status < 400:
        return None
    snippet = excerpt(response.text, 300)
    if status == 429:
        return errors.RateLimited(
            vendor,
            f"too many requests: {snippet}",
            status=status,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
    if status == 401:
        return errors.InvalidCredentials(vendor, f"credentials refused: {snippet}", status=status)
    if status == 403:
        return errors.AccessDenied(vendor, f"access denied: {snippet}", status=status)
    if status == 402:
        return errors.FeatureDisabled(vendor, f"feature not paid or disabled: {snippet}", status=status)
    if status in (408, 425) or status >= 500:
        return errors.ServerError(vendor, f"server error: {snippet}", status=status)
    return errors.RequestRejected(vendor, f"request rejected: {snippet}", status=status)


class RequestOptions(TypedDict, total=False):
    params: Mapping[str, Any] | None
    json_body: Any
    data: Any
    headers: Mapping[str, str] | None
    #: Limits that apply to this call besides the transport's own (e.g. one method of the API).
    extra_limiters: Sequence[RateLimiter]
    timeout: tuple[float, float] | None
    #: False for calls that create something (see Call.idempotent).
    idempotent: bool


@dataclass(frozen=True)
class Call:
    """One outgoing request, as it is sent on every attempt."""

    method: str
    url: str
    params: Mapping[str, Any] | None
    json_body: Any
    data: Any
    headers: Mapping[str, str] | None
    timeout: tuple[float, float] | None
    #: False for calls that create something: after a timeout or a 5xx the vendor may have done
    #: it already, so only refusals that certainly did nothing (429) are retried.
    idempotent: bool = True


def _hold(limiter: RateLimiter, max_wait: float) -> Callable[[], None]:
    """Wait for the limiter and hold a slot; answers what to call once the answer is back. A limiter
    without slots (one that only `acquire`s) counts the request when it is sent."""
    reserve = getattr(limiter, "reserve", None)
    if reserve is None:
        limiter.acquire()
        return lambda: None
    slot = reserve(max_wait)
    return lambda: limiter.settle(slot)


def _hold_all(limiters: Sequence[RateLimiter], max_wait: float) -> list[Callable[[], None]]:
    """A slot of every limiter, or none: a limit that cannot be waited out gives back what was held."""
    settles: list[Callable[[], None]] = []
    try:
        for limiter in limiters:
            settles.append(_hold(limiter, max_wait))
    except LimitWaitTooLong:
        for settle in settles:
            settle()
        raise
    return settles


class Transport:
    def __init__(
        self,
        policy: VendorPolicy,
        base_url: str,
        *,
        credentials: Sequence[str] = (),
        classify: Classifier | None = None,
        session: requests.Session | None = None,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        empty_body: Any = MALFORMED,
    ) -> None:
        """`empty_body`: what a successful answer with no body means for this vendor (Ringostat's
        "no calls", amoCRM's 204); by default an empty body is malformed."""
        self.policy = policy
        self.vendor = policy.vendor
        self.base_url = base_url.rstrip("/")
        register_secrets(credentials)
        self._credentials_fingerprint = fingerprint(*credentials)
        self._classify = classify
        self._session = session or _traced_session()
        self._limiter = limiter or (
            shared_limiter(self.vendor, "default", self._credentials_fingerprint, policy.rates)
            if policy.rates
            else None
        )
        self._sleep = sleep
        self._jitter = jitter
        self._empty_body = empty_body

    def limiter_for(self, scope: str, rates: Sequence[Rate]) -> RateLimiter:
        """An extra limit that applies to some calls only (e.g. one method of the API)."""
        return shared_limiter(self.vendor, scope, self._credentials_fingerprint, rates)

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def request(self, method: str, path: str, **options: Unpack[RequestOptions]) -> requests.Response:
        """Send a request, retrying transient failures; return a response that is not an error."""
        response, _ = self._send(self._call(method, path, options), options, expect_json=False)
        return response

    def request_json(self, method: str, path: str, **options: Unpack[RequestOptions]) -> tuple[requests.Response, Any]:
        """Like `request`, and a body that is not JSON counts as a failed attempt (MalformedResponse)."""
        return self._send(self._call(method, path, options), options, expect_json=True)

    def _call(self, method: str, path: str, options: RequestOptions) -> Call:
        return Call(
            method,
            self.url(path),
            options.get("params"),
            options.get("json_body"),
            options.get("data"),
            options.get("headers"),
            options.get("timeout"),
            options.get("idempotent", True),
        )

    def _send(self, call: Call, options: RequestOptions, *, expect_json: bool) -> tuple[requests.Response, Any]:
        extra_limiters = options.get("extra_limiters", ())
        retry = self.policy.retry
        attempt = 0
        while True:
            attempt += 1
            # real time, even when retries sleep on a test's clock: the vendor counts real time
            limiters = [limiter for limiter in (self._limiter, *extra_limiters) if limiter is not None]
            # the narrowest limit (a method's, given last) first: waiting on it must not hold a slot
            # of the broad one (the project's 10 a second) in flight meanwhile
            try:
                settles = _hold_all(limiters[::-1], retry.max_limit_wait)
            except LimitWaitTooLong as wait:
                raise errors.RateLimited(
                    self.vendor,
                    f"its limit of {wait.rate.count} requests per {wait.rate.period:g} s is used up: "
                    f"the next request may go in {wait.seconds:.0f} s",
                    retry_after=wait.seconds,
                ) from None
            try:
                outcome = self._attempt(call)
            finally:
                for settle in settles:
                    settle()  # the vendor counted it on arrival: before its answer came back
            if not isinstance(outcome, errors.VendorError):
                if not expect_json:
                    return outcome, None
                decoded = self._decode(outcome)
                if not isinstance(decoded, errors.MalformedResponse):
                    return outcome, decoded
                outcome = decoded
            if not self._retryable(outcome, call) or attempt >= retry.max_attempts:
                raise outcome
            delay = self._delay(outcome, attempt)
            if delay is None:
                raise outcome
            logger.warning(
                "vendor call failed, retrying",
                extra={
                    "vendor": self.vendor,
                    "url": redact_url(call.url),
                    "attempt": attempt,
                    "error": str(outcome),
                    "retry_in_s": round(delay, 3),
                },
            )
            self._sleep(delay)

    def _attempt(self, call: Call) -> requests.Response | errors.VendorError:
        import requests  # loaded by the session's creation: a lookup

        try:
            response = self._session.request(
                call.method,
                call.url,
                params=call.params,
                json=call.json_body,
                data=call.data,
                headers=dict(call.headers or {}),
                timeout=call.timeout or (self.policy.connect_timeout, self.policy.read_timeout),
                stream=True,
            )
            _read_whole_body(response)
        except requests.Timeout as exc:
            return errors.VendorTimeout(self.vendor, f"no answer from {redact_url(call.url)}: {type(exc).__name__}")
        except requests.ConnectionError as exc:
            return errors.ConnectionFailed(
                self.vendor, f"cannot connect to {redact_url(call.url)}: {type(exc).__name__}"
            )
        except (requests.exceptions.InvalidHeader, UnicodeEncodeError):
            # The exception text quotes the header value, which is a credential: never repeat it.
            return errors.InvalidCredentials(
                self.vendor,
                "the credentials hold characters that cannot be sent in an HTTP header "
                "(spaces, line breaks or non-Latin letters): copy the key again from the vendor's account",
            )
        except requests.RequestException as exc:
            return errors.ConnectionFailed(self.vendor, f"request to {redact_url(call.url)} failed: {redact(str(exc))}")
        error = self._classify(response) if self._classify else None
        if error is None:
            error = classify_http_status(self.vendor, response)
        return error if error is not None else response

    def _retryable(self, error: errors.VendorError, call: Call) -> bool:
        if not call.idempotent:
            return isinstance(error, errors.RateLimited)
        if isinstance(error, errors.MalformedResponse):
            return self.policy.retry.retry_malformed
        return error.retryable

    def _delay(self, error: errors.VendorError, attempt: int) -> float | None:
        retry = self.policy.retry
        if isinstance(error, errors.RateLimited) and error.retry_after is not None:
            if error.retry_after > retry.max_retry_after:
                return None
            return error.retry_after
        backoff = min(retry.backoff_cap, retry.backoff_base * 2 ** (attempt - 1))
        return backoff * (0.5 + self._jitter() / 2)

    def get_json(self, path: str, **kwargs: Any) -> Any:
        return self.request_json("GET", path, **kwargs)[1]

    def _decode(self, response: requests.Response) -> Any:
        """The JSON body, or a MalformedResponse naming what came instead."""
        if self._empty_body is not MALFORMED and (not response.content or response.content.isspace()):
            return copy.deepcopy(self._empty_body)
        try:
            # orjson: a page of thousands of rows parses several times faster than with json
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            kind = response.headers.get("Content-Type", "unknown content type")
            return errors.MalformedResponse(
                self.vendor,
                f"expected JSON from {redact_url(response.url)}, got {kind}: {excerpt(response.text, 120)!r}",
                status=response.status_code,
            )

    def malformed(self, response: requests.Response, what: str) -> errors.MalformedResponse:
        """The error for a JSON body whose shape is not what the vendor documents."""
        return errors.MalformedResponse(
            self.vendor, f"{what} in the answer from {redact_url(response.url)}", status=response.status_code
        )


def _read_whole_body(response: requests.Response) -> None:
    """The body in one read, as requests would keep it: requests reads 10 KiB at a time and joins the
    pieces, twice the CPU of one read for a vendor's page of several MiB. A failure mid-body is raised as
    requests raises it."""
    import requests
    from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError

    if getattr(response, "_content_consumed", False):  # a session that read it already (a test's, the benchmark's)
        return
    try:
        response._content = response.raw.read(decode_content=True) or b""
    except ProtocolError as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from exc
    except DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from exc
    except ReadTimeoutError as exc:
        raise requests.ConnectionError(exc) from exc
    finally:
        response._content_consumed = True  # type: ignore[attr-defined]  # not in the stubs
