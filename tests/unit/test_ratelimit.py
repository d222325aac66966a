"""The client-side limiter keeps to a vendor's documented rate over every window."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadhub.vendors.ratelimit import LimitWaitTooLong, Rate, RateLimiter, fingerprint, shared_limiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@given(count=st.integers(1, 10), period=st.floats(0.1, 60), calls=st.integers(1, 40))
def test_no_window_ever_holds_more_than_the_limit(count: int, period: float, calls: int) -> None:
    clock = FakeClock()
    limiter = RateLimiter([Rate(count, period)], clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(calls):
        limiter.acquire()
        times.append(clock.now)
    for index, start in enumerate(times):
        in_window = [t for t in times[index:] if t < start + period - 1e-9]
        assert len(in_window) <= count


def test_the_strictest_of_several_rates_wins() -> None:
    clock = FakeClock()
    limiter = RateLimiter([Rate(10, 1.0), Rate(20, 60.0)], clock=clock, sleep=clock.sleep)
    for _ in range(21):
        limiter.acquire()
    assert clock.now >= 60.0


def test_limiters_are_shared_per_credential_set() -> None:
    rates = [Rate(5, 1.0)]
    first = shared_limiter("calltouch", "default", fingerprint("token-a"), rates)
    assert shared_limiter("calltouch", "default", fingerprint("token-a"), rates) is first
    assert shared_limiter("calltouch", "default", fingerprint("token-b"), rates) is not first


def test_a_slot_counts_from_when_the_answer_came_back() -> None:
    """The vendor counts a request on arrival, somewhere before its answer: the next request of a full
    window goes a period after the answer, not after the sending."""
    clock = FakeClock()
    limiter = RateLimiter([Rate(2, 60.0)], clock=clock, sleep=clock.sleep)
    first = limiter.reserve()
    clock.now += 5.0  # a slow answer
    limiter.settle(first)
    limiter.acquire()
    limiter.acquire()
    assert clock.now == 65.0


def test_a_request_in_flight_holds_its_slot() -> None:
    clock = FakeClock()
    limiter = RateLimiter([Rate(1, 10.0)], clock=clock, sleep=clock.sleep)
    in_flight = limiter.reserve()
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 1:
            clock.now += 3.0  # the answer arrives while the next request waits
            limiter.settle(in_flight)
        clock.sleep(seconds)

    limiter._sleep = sleep
    limiter.acquire()
    assert clock.now >= 13.0  # a period after the answer came back


def test_a_wait_longer_than_the_caller_can_afford_is_raised_at_once_holding_no_slot() -> None:
    clock = FakeClock()
    limiter = RateLimiter([Rate(10, 1.0), Rate(2, 3600.0)], clock=clock, sleep=clock.sleep)
    limiter.acquire()
    limiter.acquire()
    with pytest.raises(LimitWaitTooLong) as raised:
        limiter.reserve(max_wait=120)
    assert raised.value.rate == Rate(2, 3600.0)
    assert raised.value.seconds == 3600.0
    assert clock.now == 0.0  # nothing slept
    clock.now = 3600.0
    limiter.reserve(max_wait=120)  # the refused request took no slot: the window is free again


def test_a_wait_within_what_the_caller_affords_is_slept() -> None:
    clock = FakeClock()
    limiter = RateLimiter([Rate(1, 60.0)], clock=clock, sleep=clock.sleep)
    limiter.acquire()
    limiter.reserve(max_wait=120)
    assert clock.now == 60.0
