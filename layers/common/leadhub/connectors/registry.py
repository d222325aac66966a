"""The one place that looks a vendor up: adding a vendor adds its module here, nothing else.

A vendor's module (its models, client and readers) is imported when that vendor is first looked up:
an extraction or a backfill works on one connector, and importing all four vendors' clients was a
fifth of its cold start. `SPECS` (every vendor: the API's typed routes) imports them all when used.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING, Any

from leadhub.models.settings import Vendor

if TYPE_CHECKING:
    from leadhub.connectors.spec import VendorSpec

    SPECS: dict[Vendor, VendorSpec]

#: The vendors' modules (leadhub.connectors.<name>), in the order the API lists them.
MODULES = ("roistat", "ringostat", "calltouch", "amocrm")


@cache
def spec_for(vendor: Vendor | str) -> VendorSpec:
    spec: VendorSpec = importlib.import_module(f"leadhub.connectors.{Vendor(vendor).value}").SPEC
    return spec


def __getattr__(name: str) -> Any:
    """`SPECS`, made on first use (PEP 562)."""
    if name != "SPECS":
        raise AttributeError(name)
    specs = {spec.vendor: spec for spec in (spec_for(module) for module in MODULES)}
    globals()["SPECS"] = specs
    return specs
