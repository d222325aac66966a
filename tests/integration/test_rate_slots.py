"""The per-IP request slots every Calltouch sender shares (store.rate_slots, leadhub.egress), in moto."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import pytest

from leadhub.egress import LATE_SECONDS, SharedSlots
from leadhub.store.rate_slots import RateSlots

SPACING = 0.2


@pytest.fixture
def slots(aws: dict[str, str]) -> RateSlots:
    return RateSlots()


def test_a_busy_scope_hands_out_slots_one_spacing_apart_and_an_idle_one_starts_now(slots: RateSlots) -> None:
    taken = [slots.reserve("ip-a", spacing=SPACING, now=100.0) for _ in range(4)]
    assert taken == pytest.approx([100.0, 100.2, 100.4, 100.6])
    assert slots.reserve("ip-a", spacing=SPACING, now=500.0) == pytest.approx(500.0)
    assert slots.reserve("ip-b", spacing=SPACING, now=100.0) == pytest.approx(100.0)  # scopes are apart


def test_senders_racing_never_share_a_slot(slots: RateSlots) -> None:
    def reserve_many(_: int) -> list[float]:
        return [slots.reserve("ip-a", spacing=SPACING, now=1000.0) for _ in range(10)]

    with ThreadPoolExecutor(max_workers=4) as pool:
        starts = sorted(start for batch in pool.map(reserve_many, range(4)) for start in batch)
    assert len(starts) == 40
    gaps = [later - earlier for earlier, later in pairwise(starts)]
    assert min(gaps) == pytest.approx(SPACING)


def test_a_sender_that_woke_late_moves_every_later_slot(slots: RateSlots) -> None:
    moments = iter([10.0, 10.0, 10.3, 10.3])  # reserve at 10.0, wait for the slot, wake 0.3 s late
    slept: list[float] = []
    limiter = SharedSlots(
        "ip-a", requests_per_second=5, period=1.0, slots=slots, clock=lambda: next(moments), sleep=slept.append
    )
    slots.reserve("ip-a", spacing=SPACING, now=10.0)  # someone else holds 10.0: ours is 10.2
    limiter.acquire()
    assert slept == [pytest.approx(0.2)]
    assert LATE_SECONDS < 0.3 - 0.2
    # the next free slot was 10.4; it moved by our 0.1 s of lateness
    assert slots.reserve("ip-a", spacing=SPACING, now=10.3) == pytest.approx(10.5)
