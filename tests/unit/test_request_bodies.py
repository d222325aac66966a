"""Bodies the contract accepts are the bodies the API accepts: one vendor per new connector, keys an
HTTP header can carry, dates written as dates."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from leadhub.connectors.roistat import RoistatCredentials
from leadhub.reports.conversions import ReportQuery
from leadhub.setup.connectors import NewConnector

NEW = {"name": "Shop", "vendor_account_id": "1", "credentials_ref": "ref"}


def test_a_new_connector_takes_its_own_vendors_settings() -> None:
    created = NewConnector.model_validate({**NEW, "vendor": "roistat", "settings": {"include_not_counted": False}})
    assert created.root.vendor == "roistat"
    assert created.root.settings.model_dump(exclude_unset=True) == {"include_not_counted": False}


def test_a_new_connector_refuses_another_vendors_settings_naming_the_field() -> None:
    with pytest.raises(ValidationError) as refused:
        NewConnector.model_validate({**NEW, "vendor": "amocrm", "settings": {"kpi_mode": "unique"}})
    assert [error["loc"] for error in refused.value.errors()] == [("amocrm", "settings", "kpi_mode")]


def test_a_new_connector_refuses_another_vendors_credentials() -> None:
    body = {**NEW, "credentials_ref": None, "vendor": "ringostat", "credentials": {"api_key": "roistat-key"}}
    with pytest.raises(ValidationError):
        NewConnector.model_validate(body)


@pytest.mark.parametrize("key", ["with space", "line\nbreak", "ключ-api", "tab\tkey"])
def test_a_key_with_characters_no_header_carries_is_refused(key: str) -> None:
    with pytest.raises(ValidationError) as refused:
        RoistatCredentials(api_key=key)
    assert "visible ASCII" in str(refused.value)


def test_a_key_of_visible_ascii_is_taken() -> None:
    assert RoistatCredentials(api_key="a1-B2_c3.d4~").api_key.get_secret_value() == "a1-B2_c3.d4~"


@pytest.mark.parametrize("written", [0, 20240101, 1.5, True])
def test_a_report_date_must_be_written_as_a_date(written: object) -> None:
    with pytest.raises(ValidationError):
        ReportQuery.model_validate({"from": "2024-01-01", "to": written})


def test_a_report_date_written_as_a_date_is_read() -> None:
    query = ReportQuery.model_validate({"from": "2024-01-01", "to": "2024-01-31"})
    assert (query.date_from.isoformat(), query.date_to.isoformat()) == ("2024-01-01", "2024-01-31")
