"""A secret planted in a vendor error and in a log call never reaches the log output."""

from __future__ import annotations

import json

import pytest

from leadhub.observability import logger
from leadhub.redaction import register_secret
from leadhub.vendors.errors import InvalidCredentials

PLANTED = "pl4nted-Secret-Value-9f8e7d"


@pytest.fixture(autouse=True)
def _known_secret() -> None:
    register_secret(PLANTED)


def test_a_secret_in_a_log_call_is_masked(capsys: pytest.CaptureFixture[str]) -> None:
    logger.info(f"calling vendor with key {PLANTED}", extra={"api_key": PLANTED, "nested": {"k": PLANTED}})
    out = capsys.readouterr().out
    assert "calling vendor with key" in out
    assert PLANTED not in out


def test_a_secret_in_a_vendor_error_is_masked_in_message_and_log(capsys: pytest.CaptureFixture[str]) -> None:
    error = InvalidCredentials("roistat", f"authentication_failed for key={PLANTED}", status=401)
    assert PLANTED not in str(error)
    assert PLANTED not in json.dumps(error.to_dict())
    try:
        raise error
    except InvalidCredentials:
        logger.exception("vendor refused")
    out = capsys.readouterr().out
    assert "vendor refused" in out
    assert PLANTED not in out


def test_an_unregistered_token_in_a_header_dump_is_masked(capsys: pytest.CaptureFixture[str]) -> None:
    logger.warning("request headers", extra={"headers": "Auth-key: zz-unregistered-123456"})
    out = capsys.readouterr().out
    assert "zz-unregistered-123456" not in out
