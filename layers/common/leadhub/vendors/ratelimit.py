"""Client-side rate limits: at most `count` calls in any `period` seconds, per credential set.

A sliding-window log, so a limit such as Roistat's "20 order lists a minute" holds over every
window, not just aligned ones. Limiters are shared through a registry keyed by vendor and a
fingerprint of the credentials, because the vendors count per key (or per project), not per client.

A vendor counts a request when it arrives, which is after the client sent it and before the answer
came back. So a request holds a slot from the moment it is sent (`reserve`: in flight, it counts as
"now") and the slot is stamped when its answer is back (`settle`): the next request of a full window
is sent a period after the answer, never inside the period the vendor sees. A request taking half a
second costs a 20-a-minute limit under 1 % of its rate; stamping on sending cost 8 of 192 requests a
429 (issue 14).
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


class LimitWaitTooLong(Exception):
    """The next request may go only after longer than the caller can wait (a Lambda must not sleep
    through its time): the caller reschedules the work instead."""

    def __init__(self, seconds: float, rate: Rate) -> None:
        self.seconds, self.rate = seconds, rate
        super().__init__(f"the limit of {rate.count} requests per {rate.period:g} s allows the next in {seconds:.0f} s")


class Slot:
    """One request's place in a limiter's window: its arrival time, None while it is in flight."""

    __slots__ = ("at",)

    def __init__(self) -> None:
        self.at: float | None = None


class RateLimiter:
    def __init__(
        self,
        rates: Sequence[Rate],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._rates = tuple(rates)
        self._calls: deque[Slot] = deque()
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._horizon = max((rate.period for rate in self._rates), default=0.0)

    def _wait_needed(self, now: float) -> tuple[float, Rate | None]:
        """How long until a request may go, and the rate that holds it back."""
        calls = self._calls
        while calls and calls[0].at is not None and calls[0].at <= now - self._horizon:
            calls.popleft()
        # answers come back out of order: the log is sorted by arrival, in-flight requests as "now"
        times = sorted(now if slot.at is None else slot.at for slot in calls)
        wait, blocking = 0.0, None
        for rate in self._rates:
            in_window = [t for t in times if t > now - rate.period]
            if len(in_window) >= rate.count:
                oldest_blocking = in_window[-rate.count]
                if oldest_blocking + rate.period - now > wait:
                    wait, blocking = oldest_blocking + rate.period - now, rate
        return wait, blocking

    def reserve(self, max_wait: float | None = None) -> Slot:
        """Block until a request may be sent; the slot counts as in flight until `settle`. A wait
        longer than `max_wait` raises LimitWaitTooLong at once, holding no slot."""
        while True:
            with self._lock:
                wait, blocking = self._wait_needed(self._clock())
                if wait <= 0:
                    slot = Slot()
                    self._calls.append(slot)
                    return slot
            if max_wait is not None and wait > max_wait and blocking is not None:
                raise LimitWaitTooLong(wait, blocking)
            self._sleep(wait)

    def settle(self, slot: Slot) -> None:
        """The request's answer is back (or it failed): the vendor counted it by now."""
        with self._lock:
            slot.at = self._clock()

    def acquire(self) -> None:
        """Block until a call is allowed, and count it as made now."""
        self.settle(self.reserve())


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
