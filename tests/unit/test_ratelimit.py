"""The client-side limiter keeps to a vendor's documented rate over every window."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from leadhub.vendors.ratelimit import Rate, RateLimiter, fingerprint, shared_limiter


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
