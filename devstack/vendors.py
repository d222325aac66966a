"""The four vendors of the local stack: a seeded simulator each, unless its base URL is given
in the environment (then the stack uses that vendor, real or another fake, as is)."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
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
    describe: Callable[[Any], str]

    def start(self, *, seed: int) -> DemoVendor:
        override = os.environ.get(self.env)
        if override:
            return DemoVendor(self.name, override, "your own", external=True)
        simulator = getattr(importlib.import_module(self.module), self.factory)(seed=seed)
        base_url = simulator.start() + self.path
        os.environ[self.env] = base_url
        return DemoVendor(self.name, base_url, self.describe(simulator), external=False, simulator=simulator)


def _describe(simulator: Any) -> str:
    demo = getattr(simulator, "demo_credentials", None)
    return demo() if callable(demo) else "see simulators/"


VENDORS = (
    VendorSpec("roistat", "ROISTAT_BASE_URL", "simulators.roistat", "RoistatSimulator", "/api/v1", _describe),
    VendorSpec("ringostat", "RINGOSTAT_BASE_URL", "simulators.ringostat", "RingostatSimulator", "", _describe),
    VendorSpec("calltouch", "CALLTOUCH_BASE_URL", "simulators.calltouch", "CalltouchSimulator", "", _describe),
    VendorSpec("amocrm", "AMOCRM_BASE_URL", "simulators.amocrm", "AmoCrmSimulator", "", _describe),
)
