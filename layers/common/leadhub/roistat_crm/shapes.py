"""The protocol's answers in seed 003's shapes, JSON (the default) or XML.

Types as seed 003 shows them: ids and statuses as strings, `date_create` as unix time in JSON and
`YYYY-MM-DD HH:MM:SS` (UTC) in XML, prices as numbers (`150.00` in XML), Cyrillic as is, absent
optional fields left out. Each record serialises to ONE line (XML escapes line breaks), which is
what lets an export snapshot store one record a line and cut pages by line.

XML `fields` of a deal or client use the field name as the element, as seed 003 does
(`<fields><some>value</some></fields>`); a name that cannot be an XML element (a space, a leading
digit) becomes `<field name="…">value</field>`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

JSON = "json"
XML = "xml"
FORMATS = (JSON, XML)
CONTENT_TYPES = {JSON: "application/json; charset=utf-8", XML: "application/xml; charset=utf-8"}

#: XML element names of the record kinds, singular inside their plural list.
ELEMENT = {"orders": "order", "clients": "client", "statuses": "status", "fields": "field", "managers": "manager"}
_XML_NAME = re.compile(r"^(?!(?i:xml))[^\W\d][\w.\-]*$")
_XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\r": "&#13;"})
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: Any) -> str:
    return _XML_INVALID.sub("", str(value)).translate(_XML_ESCAPES)


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def order_values(record: Mapping[str, Any], fmt: str) -> dict[str, Any]:
    """A stored deal as the protocol's order, in the order seed 003 lists the keys."""
    values: dict[str, Any] = {"id": str(record["id"])}
    if record.get("name") is not None:
        values["name"] = record["name"]
    created = int(record["date_create"])
    values["date_create"] = (
        str(created) if fmt == JSON else datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%d %H:%M:%S")
    )
    values["status"] = str(record["status"])
    for money in ("price", "cost"):
        if record.get(money) is not None:
            values[money] = _number(record[money]) if fmt == JSON else f"{float(record[money]):.2f}"
    for optional in ("roistat", "client_id", "manager_id"):
        if record.get(optional) is not None:
            values[optional] = str(record[optional])
    if record.get("fields"):
        values["fields"] = dict(record["fields"])
    return values


def client_values(record: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": str(record["id"]),
        "name": record.get("name", ""),
        "phone": record.get("phone", ""),
        "email": record.get("email", ""),
    }
    for optional in ("company", "birth_date"):
        if record.get(optional) is not None:
            values[optional] = record[optional]
    if record.get("fields"):
        values["fields"] = dict(record["fields"])
    return values


def plain_values(record: Mapping[str, Any]) -> dict[str, Any]:
    """Statuses, fields, managers: as stored, ids as strings."""
    return {key: str(value) if key == "id" else value for key, value in record.items()}


def _xml_fields(fields: Mapping[str, Any]) -> str:
    parts = []
    for name, value in fields.items():
        if _XML_NAME.match(name):
            parts.append(f"<{name}>{_text(value)}</{name}>")
        else:
            parts.append(f'<field name="{_text(name)}">{_text(value)}</field>')
    return "".join(parts)


def xml_element(element: str, values: Mapping[str, Any]) -> str:
    inner = []
    for key, value in values.items():
        inner.append(f"<fields>{_xml_fields(value)}</fields>" if key == "fields" else f"<{key}>{_text(value)}</{key}>")
    return f"<{element}>{''.join(inner)}</{element}>"


def record_line(values: Mapping[str, Any], kind: str, fmt: str) -> bytes:
    """One record of a list (`orders`, `clients`, …) as one line of its format."""
    if fmt == JSON:
        return orjson.dumps(values)
    return xml_element(ELEMENT[kind], values).encode()


class Page:
    """An answer assembled from lists of record lines and scalar sections."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self._parts: list[bytes] = []

    def records(self, kind: str, lines: Iterable[bytes]) -> Page:
        joined = (b"," if self.fmt == JSON else b"").join(lines)
        if self.fmt == JSON:
            self._parts.append(b'"' + kind.encode() + b'":[' + joined + b"]")
        else:
            self._parts.append(f"<{kind}>".encode() + joined + f"</{kind}>".encode())
        return self

    def section(self, name: str, values: Mapping[str, Any]) -> Page:
        if self.fmt == JSON:
            self._parts.append(orjson.dumps(name) + b":" + orjson.dumps(dict(values)))
        else:
            inner = "".join(f"<{key}>{_text(value)}</{key}>" for key, value in values.items())
            self._parts.append(f"<{name}>{inner}</{name}>".encode())
        return self

    def body(self) -> bytes:
        if self.fmt == JSON:
            return b"{" + b",".join(self._parts) + b"}"
        return b'<?xml version="1.0" encoding="UTF-8"?><data>' + b"".join(self._parts) + b"</data>"


def message(fmt: str, values: Mapping[str, Any]) -> bytes:
    """A flat answer (`{"status": "ok", "order_id": …}`, an error) in the page's format."""
    if fmt == JSON:
        return orjson.dumps(dict(values))
    inner = "".join(f"<{key}>{_text(value)}</{key}>" for key, value in values.items())
    return f'<?xml version="1.0" encoding="UTF-8"?><data>{inner}</data>'.encode()
