"""When each person first contacted a connector: what makes a call or a form "unique" across days and
streams (Roistat marks no contact as a first one).

Per connector, one index (`FirstContactIndex`: person → earliest contact), shared by the calls and the
proxy leads, kept in S3. Recording keeps the earliest contact, so re-reading days, in any order, leaves
it as it was.
"""

from __future__ import annotations

import gzip

import orjson

from leadhub.attribution.rules import FirstContactIndex
from leadhub.store import errors
from leadhub.store.objects import ObjectStore
from leadhub.store.partitions import state_key


class FirstContacts:
    def __init__(self, key: str, objects: ObjectStore | None = None) -> None:
        self.key = key
        self.objects = objects or ObjectStore()
        self._index: FirstContactIndex | None = None

    @classmethod
    def for_connector(cls, project_id: str, connector_id: str) -> FirstContacts:
        return cls(state_key(project_id, connector_id, "contacts", "first_contacts.json.gz"))

    @property
    def index(self) -> FirstContactIndex:
        if self._index is None:
            try:
                stored = orjson.loads(gzip.decompress(self.objects.get(self.key)))
            except errors.NotFound:
                stored = {}
            self._index = FirstContactIndex(stored)
        return self._index

    def save(self) -> None:
        """Store the index if recording changed it."""
        index = self.index
        if index.changed:
            self.objects.put(self.key, gzip.compress(orjson.dumps(index.first), mtime=0))
            index.changed = False
