"""What reading a stream found that the user must act on (e.g. the vendor account keeps another time
zone than the one configured), kept beside the stream's sync state so the status can say it.

One small object per stream, {finding name: message in plain words}; written only when it changes.
"""

from __future__ import annotations

import orjson

from leadhub.store import errors
from leadhub.store.objects import ObjectStore
from leadhub.store.partitions import state_key


class StreamFindings:
    def __init__(self, key: str, objects: ObjectStore | None = None) -> None:
        self.key = key
        self.objects = objects or ObjectStore()
        self._findings: dict[str, str] | None = None

    @classmethod
    def for_stream(cls, project_id: str, connector_id: str, stream: str) -> StreamFindings:
        return cls(state_key(project_id, connector_id, stream, "findings.json"))

    def load(self) -> dict[str, str]:
        if self._findings is None:
            try:
                self._findings = dict(orjson.loads(self.objects.get(self.key)))
            except errors.NotFound:
                self._findings = {}
        return dict(self._findings)

    def record(self, name: str, message: str | None) -> None:
        """Set (or, with None, clear) one finding."""
        findings = self.load()
        if findings.get(name) == message:
            return
        if message is None:
            findings.pop(name, None)
        else:
            findings[name] = message
        self.objects.put(self.key, orjson.dumps(findings), content_type="application/json")
        self._findings = findings
