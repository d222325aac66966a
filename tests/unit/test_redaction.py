"""Secrets are masked wherever they travel: registered values anywhere, and the fields that carry them."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from leadhub.redaction import MASK, redact, redact_headers, redact_url, register_secret

# Registered values are masked for the life of the process: the marker keeps this test's secrets from
# ever matching text another test checks (an example such as "00000000" or "Authorization" would).
secret_text = st.text(alphabet=string.ascii_letters + string.digits + "-_.", min_size=8, max_size=40).map(
    lambda generated: f"hyp~{generated}"
)
surrounding = st.text(max_size=60)


@given(secret=secret_text, before=surrounding, after=surrounding)
def test_a_registered_secret_never_survives_redaction(secret: str, before: str, after: str) -> None:
    register_secret(secret)
    assert secret not in redact(f"{before}{secret}{after}")


def test_header_dumps_hide_keys() -> None:
    text = "sent Api-key: abcd1234efgh and Authorization: Bearer eyJhbGciOi.JIUzI1NiJ9.x"
    cleaned = redact(text)
    assert "abcd1234efgh" not in cleaned
    assert "eyJhbGciOi" not in cleaned
    assert cleaned.count(MASK) == 2


def test_query_strings_hide_keys() -> None:
    url = "https://cloud.roistat.com/api/v1/user/projects?key=0123456789abcdef&project=12"
    cleaned = redact_url(url)
    assert "0123456789abcdef" not in cleaned
    assert "project=12" in cleaned


def test_json_fields_hide_tokens() -> None:
    body = '{"access_token": "tok-aaaa-bbbb", "refresh_token": "ref-cccc", "expires_in": 86400}'
    cleaned = redact(body)
    assert "tok-aaaa-bbbb" not in cleaned
    assert "ref-cccc" not in cleaned
    assert '"expires_in": 86400' in cleaned


def test_credential_headers_are_masked_and_others_kept() -> None:
    headers = redact_headers({"Access-Token": "t0k3n-value", "SiteId": "12345", "Accept": "application/json"})
    assert headers == {"Access-Token": MASK, "SiteId": "12345", "Accept": "application/json"}


def test_url_userinfo_is_dropped() -> None:
    assert "hunter2" not in redact_url("https://user:hunter2@example.com/path")
