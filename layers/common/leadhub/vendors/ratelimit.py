"""Client-side rate limits: at most `count` calls in any `period` seconds, per credential set.

A sliding-window log, so a limit such as Roistat's "20 order lists a minute" holds over every
window, not just aligned ones. Limiters are shared through a registry keyed by vendor and a
fingerprint of the credentials, because the vendors count per key (or per project), not per client.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Rate:
    count: int
    period: float

    def __post_init__(self) -> None:
        if self.count < 1 or self.period <= 0:
            raise ValueError("a rate needs count >= 1 and period > 0")


class RateLimiter:
    def __init__(
        self,
        rates: Sequence[Rate],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._rates = tuple(rates)
        self._calls: deque[float] = deque()
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._horizon = max((rate.period for rate in self._rates), default=0.0)

    def _wait_needed(self, now: float) -> float:
        while self._calls and self._calls[0] <= now - self._horizon:
            self._calls.popleft()
        wait = 0.0
        for rate in self._rates:
            in_window = [t for t in self._calls if t > now - rate.period]
            if len(in_window) >= rate.count:
                oldest_blocking = in_window[-rate.count]
                wait = max(wait, oldest_blocking + rate.period - now)
        return wait

    def acquire(self) -> float:
        """Block until a call is allowed; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                wait = self._wait_needed(now)
                if wait <= 0:
                    self._calls.append(now)
                    return waited
            self._sleep(wait)
            waited += wait


_registry: dict[tuple[str, str, str], RateLimiter] = {}
_registry_lock = threading.Lock()


def fingerprint(*credentials: str) -> str:
    return hashlib.sha256("\x00".join(credentials).encode()).hexdigest()[:16]


def shared_limiter(vendor: str, scope: str, credentials_fingerprint: str, rates: Sequence[Rate]) -> RateLimiter:
    """The process-wide limiter for this vendor, limit scope and credential set."""
    key = (vendor, scope, credentials_fingerprint)
    with _registry_lock:
        limiter = _registry.get(key)
        if limiter is None:
            limiter = _registry[key] = RateLimiter(rates)
        return limiter


def forget_all() -> None:
    """Drop every shared limiter (a new process starts with none; tests start each as one)."""
    with _registry_lock:
        _registry.clear()
