"""Limits a vendor counts per source IP, kept across every process that sends from it: Calltouch's
5 requests a second, shared by plan imports and the extraction of its calls and requests.

A per-process limiter cannot see the other Lambda sending another import at the same moment, so each
request first reserves a slot in the shared store (store.rate_slots) and then waits for that slot's
start: the waiting is for a slot nobody else holds, not a guess that things have calmed down.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from leadhub.settings import Settings, get_settings
from leadhub.store.rate_slots import RateSlots
from leadhub.vendors.ratelimit import LimitWaitTooLong, Rate, RateLimiter, Slot

#: A sender that wakes this much after its slot began moves every later slot by its lateness: a
#: request sent late would otherwise arrive bunched with the on-time requests after it, and Calltouch
#: would count six in a second.
LATE_SECONDS = 0.005


class SharedSlots(RateLimiter):
    def __init__(
        self,
        scope: str,
        *,
        requests_per_second: int,
        period: float = 1.0,
        slots: RateSlots | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__((), clock=clock, sleep=sleep)
        self.scope = scope
        self.spacing = period / requests_per_second
        self._slots = slots or RateSlots()
        self._wall = clock
        self._pause = sleep

    def reserve(self, max_wait: float | None = None) -> Slot:
        """Reserve the next free slot in the shared store and wait for its start (a slot further off
        than `max_wait` raises LimitWaitTooLong: it stays reserved, a gap the others step over)."""
        start = self._slots.reserve(self.scope, spacing=self.spacing, now=self._wall())
        wait = start - self._wall()
        if max_wait is not None and wait > max_wait:
            raise LimitWaitTooLong(wait, Rate(1, self.spacing))
        if wait > 0:
            self._pause(wait)
        late = self._wall() - start
        if late > LATE_SECONDS:
            self._slots.delay(self.scope, seconds=late)
        return Slot()

    def settle(self, slot: Slot) -> None:
        """Nothing to stamp: slots are spaced by their starts in the shared store, which every sender sees."""


def calltouch_slots(settings: Settings | None = None) -> SharedSlots:
    settings = settings or get_settings()
    return SharedSlots(
        settings.calltouch_rate_scope,
        requests_per_second=settings.calltouch_requests_per_second,
        period=settings.calltouch_rate_period_seconds,
    )


def shared_limiter_for(vendor: str, settings: Settings | None = None) -> RateLimiter | None:
    """The cross-process limiter of a vendor that counts requests per source IP; None for the others
    (their limits are per key or project, kept by each client's own limiter)."""
    return calltouch_slots(settings) if vendor == "calltouch" else None
