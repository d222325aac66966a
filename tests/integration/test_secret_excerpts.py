"""Vendor text is masked before it is cut: a key straddling any cut never shows, not even its head.

Every place that keeps an excerpt of a vendor's answer (the transport's status mapping and its
"expected JSON" error, Ringostat's field and row-cap refusals) is driven over real HTTP with the key
planted at every offset around the cut. The expected text is written out whole, so one leaked
character fails the test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from leadhub.redaction import MASK
from leadhub.store.secrets import SecretStore
from leadhub.vendors import errors, ringostat
from leadhub.vendors.transport import Classifier, RetryPolicy, Transport, VendorPolicy
from simulators.base import SimRequest, Simulator, text_response

KEY = "Kq7-planted-Zw9-key-Vx3"
# Never registered: only the JSON-field pattern can mask it.
UNREGISTERED = "Un9-unregistered-Jt4-tok"
FILLER = "."


def planted_body(request: SimRequest) -> str:
    """FILLER up to `offset`, then the planted text, then more FILLER: the key sits wherever the test says."""
    offset = int(request.arg("offset") or 0)
    planted = KEY if request.arg("planted") == "registered" else f'"access_token": "{UNREGISTERED}"'
    return f"{request.arg('prefix') or ''}{FILLER * offset}{planted}{FILLER * 400}"


@pytest.fixture(scope="module")
def server() -> Iterator[Simulator]:
    simulator = Simulator()
    for status in (400, 401, 403, 429, 500):
        simulator.route(
            "GET",
            f"/status/{status}",
            lambda request, status=status: text_response(planted_body(request), status),
        )
    simulator.route("GET", "/not-json", lambda request: text_response(planted_body(request), 200))
    with simulator:
        yield simulator


def transport(server: Simulator, vendor: str, classify: Classifier | None = None, attempts: int = 1) -> Transport:
    policy = VendorPolicy(vendor, retry=RetryPolicy(max_attempts=attempts, backoff_base=0.0))
    return Transport(policy, server.base_url, credentials=[KEY], classify=classify, sleep=lambda _: None)


def straddling(limit: int, planted_length: int) -> range:
    """Every offset at which the planted text starts before the cut and ends after it, plus both edges."""
    return range(max(0, limit - planted_length), limit + 1)


def masked(offset: int, planted: str, limit: int, prefix: str = "") -> str:
    """What an excerpt must read: the body with the planted secret masked, then cut."""
    shown = MASK if planted == "registered" else f'"access_token": "{MASK}"'
    return f"{prefix}{FILLER * offset}{shown}{FILLER * 400}"[:limit]


def raised(vendor: Transport, path: str, **params: object) -> errors.VendorError:
    with pytest.raises(errors.VendorError) as caught:
        vendor.get_json(path, params=params)
    return caught.value


PLANTED = [("registered", len(KEY)), ("unregistered", len(f'"access_token": "{UNREGISTERED}"'))]
STATUS_MESSAGES = {
    400: "request rejected",
    401: "credentials refused",
    403: "access denied",
    429: "too many requests",
    500: "server error",
}


@pytest.mark.parametrize(("planted", "planted_length"), PLANTED)
@pytest.mark.parametrize("status", sorted(STATUS_MESSAGES))
def test_an_error_status_keeps_a_masked_excerpt_of_300(
    server: Simulator, status: int, planted: str, planted_length: int
) -> None:
    vendor = transport(server, "roistat")
    for offset in straddling(300, planted_length):
        error = raised(vendor, f"/status/{status}", offset=offset, planted=planted)
        assert error.message == f"{STATUS_MESSAGES[status]}: {masked(offset, planted, 300)}", offset
        assert_nothing_leaks(str(error), json.dumps(error.to_dict()))


@pytest.mark.parametrize(("planted", "planted_length"), PLANTED)
def test_a_non_json_answer_keeps_a_masked_excerpt_of_120(server: Simulator, planted: str, planted_length: int) -> None:
    vendor = transport(server, "roistat")
    for offset in straddling(120, planted_length):
        error = raised(vendor, "/not-json", offset=offset, planted=planted)
        assert isinstance(error, errors.MalformedResponse)
        assert error.message.endswith(f"got text/plain; charset=utf-8: {masked(offset, planted, 120)!r}"), offset
        assert_nothing_leaks(str(error))


@pytest.mark.parametrize(
    ("prefix", "status", "error_type"),
    [
        ("invalid fields: call_type ", 200, ringostat.FieldRejected),
        ("more than 10000 calls ", 400, ringostat.CapExceeded),
    ],
)
@pytest.mark.parametrize(("planted", "planted_length"), PLANTED)
def test_ringostat_refusals_keep_a_masked_excerpt_of_200(
    server: Simulator, prefix: str, status: int, error_type: type[errors.VendorError], planted: str, planted_length: int
) -> None:
    vendor = transport(server, "ringostat", classify=ringostat.classify)
    path = "/not-json" if status == 200 else f"/status/{status}"
    for offset in straddling(200 - len(prefix), planted_length):
        error = raised(vendor, path, offset=offset, planted=planted, prefix=prefix)
        assert isinstance(error, error_type)
        assert error.message.endswith(masked(offset, planted, 200, prefix)), offset
        assert_nothing_leaks(str(error))


def test_a_retried_failure_logs_the_masked_excerpt_and_the_vendor_name(
    server: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    vendor = transport(server, "roistat", attempts=2)
    for offset in straddling(300, len(KEY)):
        raised(vendor, "/status/500", offset=offset, planted="registered")
        logged = capsys.readouterr().out
        assert '"vendor":"roistat"' in logged
        assert masked(offset, "registered", 300) in logged
        assert_nothing_leaks(logged)


@pytest.mark.usefixtures("aws")
def test_only_secret_fields_of_stored_credentials_are_masked(capsys: pytest.CaptureFixture[str]) -> None:
    from leadhub.observability import logger

    held = {
        "vendor": "amocrm",
        "checked_at": "2026-01-05T10:00:00Z",
        "accounts": [{"id": "31337", "name": "Acme"}],
        "secret": {
            "subdomain": "acme-shop",
            "client_id": "client-id-0042",
            "redirect_uri": "https://example.com/oauth",
            "client_secret": "Cs8-stored-client-secret",
            "tokens": {"access_token": "At5-stored-access", "refresh_token": "Rt6-stored-refresh", "expires_at": 1},
        },
    }
    SecretStore(prefix="leadhub-test").put("pending-1", held)
    logger.warning(
        "check failed",
        extra={"vendor": "amocrm", "detail": json.dumps(held), "error": str(errors.AccessDenied("amocrm", "no"))},
    )
    logged = capsys.readouterr().out
    assert '"vendor":"amocrm"' in logged
    assert "amocrm: no" in logged
    for shown in ("2026-01-05T10:00:00Z", "31337", "acme-shop", "client-id-0042", "https://example.com/oauth"):
        assert shown in logged
    for hidden in ("Cs8-stored-client-secret", "At5-stored-access", "Rt6-stored-refresh"):
        assert hidden not in logged


def assert_nothing_leaks(*texts: str) -> None:
    """Not the key nor the unregistered token, nor any head of them long enough to be recognised."""
    for text in texts:
        for secret in (KEY, UNREGISTERED):
            assert secret[:3] not in text, text


@pytest.mark.parametrize(
    "key", ["Hd4-key-with\nnewline", "Hd4-ключ-nonlatin", " Hd4-leading-space", "Hd4-\U00099566-x"]
)
def test_a_key_no_header_can_carry_is_a_config_error_that_never_quotes_it(server: Simulator, key: str) -> None:
    vendor = Transport(
        VendorPolicy("ringostat", retry=RetryPolicy(max_attempts=3, backoff_base=0.0)),
        server.base_url,
        sleep=lambda _: None,
    )
    with pytest.raises(errors.InvalidCredentials) as caught:
        vendor.get_json("/status/401", headers={"Auth-key": key})
    shown = str(caught.value) + json.dumps(caught.value.to_dict(), ensure_ascii=False)
    assert "cannot be sent in an HTTP header" in shown
    assert "Hd4" not in shown
