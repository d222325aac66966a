"""When each caller first called a connector: what makes a Roistat call "unique" across days.

Roistat marks no call as a first contact, so Leadhub keeps, per connector, the first day each
number called. A call is a first contact when no day before its own holds a call from that
number (and, within its day, when it is the number's first call). Keeping the earliest day makes
the index idempotent: re-reading days, in any order, leaves it as it was.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import orjson

from leadhub.store import errors
from leadhub.store.objects import ObjectStore
from leadhub.store.partitions import state_key


def _digits(value: Any) -> str:
    text = value if isinstance(value, str) else str(value or "")
    return text if text.isdigit() else "".join(char for char in text if char.isdigit())


class FirstContacts:
    def __init__(self, key: str, objects: ObjectStore | None = None) -> None:
        self.key = key
        self.objects = objects or ObjectStore()
        self._first: dict[str, str] = {}
        self._loaded = False

    @classmethod
    def for_connector(cls, project_id: str, connector_id: str, stream: str) -> FirstContacts:
        return cls(state_key(project_id, connector_id, stream, "first_contacts.json.gz"))

    def _load(self) -> None:
        if self._loaded:
            return
        try:
            self._first = orjson.loads(gzip.decompress(self.objects.get(self.key)))
        except errors.NotFound:
            self._first = {}
        self._loaded = True

    def seen_before(self, day: date) -> set[str]:
        """Numbers whose first call was on an earlier day."""
        self._load()
        cutoff = day.isoformat()
        return {number for number, first in self._first.items() if first < cutoff}

    def record(self, rows: Iterable[Mapping[str, Any]], day: date, *, field: str = "caller") -> None:
        """Remember the day's callers (keeping each number's earliest day) and store the index."""
        self._load()
        today = day.isoformat()
        changed = False
        for row in rows:
            number = _digits(row.get(field))
            if number and self._first.get(number, "9999") > today:
                self._first[number] = today
                changed = True
        if changed:
            self.objects.put(self.key, gzip.compress(orjson.dumps(self._first), mtime=0))
