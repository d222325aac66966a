"""The four vendors of the local stack: a seeded simulator each, unless its base URL is given
in the environment (then the stack uses that vendor, real or another fake, as is)."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any


@dataclass
class DemoVendor:
    name: str
    base_url: str
    hint: str
    external: bool
    simulator: Any = None

    def stop(self) -> None:
        if self.simulator is not None:
            self.simulator.stop()


@dataclass(frozen=True)
class VendorSpec:
    name: str
    env: str
    module: str
    factory: str
    #: The suffix the client's base URL has beyond the simulator's root.
    path: str
    #: Builds the simulator's demo data for a seed; None: the simulator's own default.
    scenario: Callable[[int], Any] | None = None

    def start(self, *, seed: int) -> DemoVendor:
        override = os.environ.get(self.env)
        if override:
            return DemoVendor(self.name, override, "your own", external=True)
        factory = getattr(importlib.import_module(self.module), self.factory)
        arguments = (self.scenario(seed),) if self.scenario is not None else ()
        simulator = factory(*arguments, seed=seed)
        base_url = simulator.start() + self.path
        os.environ[self.env] = base_url
        return DemoVendor(self.name, base_url, _describe(simulator), external=False, simulator=simulator)


def _describe(simulator: Any) -> str:
    demo = getattr(simulator, "demo_credentials", None)
    return demo() if callable(demo) else "see simulators/"


DEMO_DAYS = 30


def _demo_start() -> date:
    """Demo history ends today, so a connector made now finds its last month of data."""
    return datetime.now(UTC).date() - timedelta(days=DEMO_DAYS - 1)


def _roistat_demo(seed: int) -> Any:
    from simulators.roistat import RoistatScenario

    return RoistatScenario(seed=seed, start=_demo_start(), days=DEMO_DAYS)


def _ringostat_demo(seed: int) -> Any:
    from simulators.ringostat import RingostatScenario

    return RingostatScenario(seed=seed, start_date=_demo_start(), days=DEMO_DAYS)


VENDORS = (
    VendorSpec("roistat", "ROISTAT_BASE_URL", "simulators.roistat", "RoistatSimulator", "/api/v1", _roistat_demo),
    VendorSpec("ringostat", "RINGOSTAT_BASE_URL", "simulators.ringostat", "RingostatSimulator", "", _ringostat_demo),
    VendorSpec("calltouch", "CALLTOUCH_BASE_URL", "simulators.calltouch", "CalltouchSimulator", ""),
    VendorSpec("amocrm", "AMOCRM_BASE_URL", "simulators.amocrm", "AmoCrmSimulator", ""),
)
