"""Roistat's server as the custom-CRM protocol describes it (seed 003, the SDK's CRM side): a plain
HTTP client that knows nothing of Leadhub — it computes md5(user . password), calls the page with
`action`, follows `pagination` and parses the answers in JSON or XML as seed 003 documents them."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import requests


def _xml_record(element: ET.Element) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for child in element:
        if child.tag == "fields":
            record["fields"] = {(field.get("name") or field.tag): field.text or "" for field in child}
        else:
            record[child.tag] = child.text or ""
    return record


@dataclass
class RoistatServer:
    url: str
    user: str
    password: str
    total_key: str = "totalCount"
    limit_key: str = "limit"

    @property
    def token(self) -> str:
        return hashlib.md5(f"{self.user}{self.password}".encode()).hexdigest()

    def call(self, action: str, **params: Any) -> requests.Response:
        query = {"action": action, "user": self.user, "token": self.token, **params}
        return requests.get(self.url, params=query, timeout=60)

    def parsed(self, answer: requests.Response) -> dict[str, Any]:
        """The answer as lists of records and a pagination dict, whatever the format."""
        assert answer.status_code == 200, answer.text[:500]
        if answer.headers["Content-Type"].startswith("application/json"):
            document: dict[str, Any] = answer.json()
            return document
        root = ET.fromstring(answer.content)
        assert root.tag == "data"
        document = {}
        for section in root:
            if section.tag == "pagination":
                document["pagination"] = {child.tag: int(child.text or 0) for child in section}
            elif section.tag in ("status", "order_id", "error"):
                document[section.tag] = section.text
            else:
                document[section.tag] = [_xml_record(element) for element in section]
        return document

    def scheme(self, **params: Any) -> dict[str, Any]:
        return self.parsed(self.call("import_scheme", **params))

    def pull(self, action: str, date: int, **params: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Every record of one export, as Roistat pages it: the first request without `limit`, then
        offset/limit from the answer's pagination; the total must not change across pages. Answers
        the records and each page's pagination."""
        listing = "orders" if action == "export" else "clients"
        first = self.parsed(self.call(action, date=date, **params))
        records = list(first[listing])
        paginations = [first["pagination"]]
        total, limit = first["pagination"][self.total_key], first["pagination"][self.limit_key]
        for offset in range(limit, total, limit):
            page = self.parsed(self.call(action, date=date, offset=offset, limit=limit, **params))
            assert page["pagination"][self.total_key] == total
            paginations.append(page["pagination"])
            records.extend(page[listing])
        assert len(records) == total
        return records, paginations

    def push_lead(self, **lead: Any) -> dict[str, Any]:
        answer = requests.post(
            self.url, params={"action": "lead", "user": self.user, "token": self.token}, data=lead, timeout=30
        )
        return self.parsed(answer)
