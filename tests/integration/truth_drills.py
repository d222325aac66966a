"""What every call tracker's truth harness checks the same way: a repeated run, and faults mid-run after a
run stopped half way, leave the report equal to the simulator's truth."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any, Protocol


class Harness(Protocol):
    simulator: Any

    def run(self, remaining_ms: Callable[[], int] = ...) -> str: ...

    def inquiries(self) -> Counter[tuple[str, ...]]: ...

    def truth(self) -> Counter[tuple[str, ...]]: ...


def a_repeated_run_counts_nothing_twice(project: Harness) -> None:
    project.run()
    assert project.run() == "done"
    assert project.inquiries() == project.truth()


def faults_and_a_stop_half_way_lose_and_double_nothing(project: Harness) -> None:
    budget = iter([10**9, 10**9, 0])
    assert project.run(remaining_ms=lambda: next(budget, 0)) == "partial"
    project.simulator.set_faults(retry_after=0)
    project.simulator.inject("429", "500", "timeout", "malformed")
    assert project.run() == "done"
    assert project.inquiries() == project.truth()
