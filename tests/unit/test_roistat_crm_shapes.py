"""Seed 003's shapes and the protocol's token, without storage: what one record looks like in each
format, and which requests are refused before anything is read."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET

import orjson
import pytest

from leadhub.roistat_crm import shapes
from leadhub.roistat_crm.protocol import PageError, authentic, parse

DEAL = {
    "id": "123",
    "name": "Новая сделка\nвторая строка",
    "date_create": 1393673200,
    "status": "0",
    "price": 2331.5,
    "cost": 1220,
    "roistat": "3121512",
    "fields": {"Способ доставки": "Самовывоз", "Delivery method": "A & <B>", "2": "Jane Doe"},
}


def test_an_order_in_json_has_string_ids_unix_date_and_number_prices() -> None:
    line = shapes.record_line(shapes.order_values(DEAL, shapes.JSON), "orders", shapes.JSON)

    order = orjson.loads(line)
    assert b"\n" not in line and "Новая".encode() in line  # one line, Cyrillic as is
    assert order["date_create"] == "1393673200" and order["status"] == "0"
    assert order["price"] == 2331.5 and order["cost"] == 1220
    assert "client_id" not in order and "manager_id" not in order


def test_an_order_in_xml_is_one_line_with_dates_and_prices_as_seed_003_writes_them() -> None:
    line = shapes.record_line(shapes.order_values(DEAL, shapes.XML), "orders", shapes.XML)

    order = ET.fromstring(line)
    assert b"\n" not in line
    assert order.findtext("date_create") == "2014-03-01 11:26:40"
    assert (order.findtext("price"), order.findtext("cost")) == ("2331.50", "1220.00")
    assert order.findtext("name") == "Новая сделка\nвторая строка"
    fields = order.find("fields")
    assert fields is not None
    named = {field.get("name"): field.text for field in fields.iter("field")}
    assert named == {"Способ доставки": "Самовывоз", "Delivery method": "A & <B>", "2": "Jane Doe"}


def test_a_field_name_that_is_an_xml_name_becomes_the_element() -> None:
    assert shapes.xml_element("client", {"fields": {"Менеджер": "Mrs Smith"}}) == (
        "<client><fields><Менеджер>Mrs Smith</Менеджер></fields></client>"
    )


def test_the_token_is_md5_of_user_and_password_and_both_must_match() -> None:
    token = hashlib.md5(b"loginpassword").hexdigest()

    assert authentic({"user": "login", "token": token}, "login", "password")
    assert authentic({"user": "login", "token": token.upper()}, "login", "password")
    assert not authentic({"user": "other", "token": token}, "login", "password")
    assert not authentic({"user": "login", "token": token[:-1]}, "login", "password")
    assert not authentic({}, "login", "password")


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"action": "export"}, "`date` is required"),
        ({"action": "export", "date": "0"}, "`date` must be 1 or more"),
        ({"action": "export", "date": "1", "offset": "-1"}, "`offset` must be 0 or more"),
        ({"action": "export", "date": "1", "limit": "x"}, "`limit` must be a whole number"),
        ({"action": "DROP"}, "unknown `action`"),
        ({}, "`action` is required"),
        ({"action": "import_scheme", "format": "yaml"}, "unknown `format`"),
    ],
)
def test_a_bad_parameter_is_named_without_its_value(params: dict[str, str], named: str) -> None:
    with pytest.raises(PageError) as refused:
        parse(params)

    assert refused.value.status == 400 and named in refused.value.message
    assert all(value not in refused.value.message for value in params.values() if len(value) > 2)
