"""What the local event-source mappings share: a daemon thread polling their source until stopped."""

from __future__ import annotations

import threading

from leadhub.observability import logger


class Poller:
    """Calls `poll` every `every_seconds` on a daemon thread, as Lambda's pollers keep asking a source;
    a failed poll is logged and the next one comes as usual."""

    def __init__(self, every_seconds: float, name: str) -> None:
        self._every = every_seconds
        self._name = name
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()

    def poll(self) -> None:
        raise NotImplementedError

    def _loop(self) -> None:
        while not self._stopped.wait(self._every):
            try:
                self.poll()
            except Exception:
                logger.exception("a local poll failed", extra={"poller": self._name})
