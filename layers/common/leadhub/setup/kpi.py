"""Seed 001's warning: performance KPI must not come twice for the same kind of conversion.

Two active connectors in one project that both deliver, say, calls (Roistat call tracking and
Ringostat) would count every call twice in the project's KPI.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from leadhub.models.settings import Vendor

KIND_NAMES = {"calls": "calls", "forms": "form and chat leads", "orders": "CRM leads and deals"}


def kpi_kinds(vendor: str, settings: Mapping[str, Any]) -> set[str]:
    """The kinds of conversion a connector delivers as performance KPI."""
    if vendor == Vendor.ROISTAT:
        streams = settings.get("streams", {})
        wanted = {"calls": "calls", "proxyleads": "forms", "orders": "orders"}
        return {kind for stream, kind in wanted.items() if streams.get(stream, True)}
    if vendor == Vendor.RINGOSTAT:
        return {"calls"}
    return set()


def duplication_warnings(connectors: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Warnings per connector id, for every kind delivered by more than one active connector."""
    by_kind: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for connector in connectors:
        if connector.get("active"):
            for kind in kpi_kinds(connector["vendor"], connector.get("settings", {})):
                by_kind[kind].append(connector)
    warnings: dict[str, list[str]] = defaultdict(list)
    for kind, delivering in sorted(by_kind.items()):
        if len(delivering) < 2:
            continue
        names = ", ".join(f"{c['name']} ({c['vendor']})" for c in delivering)
        message = (
            f"Performance KPI may be counted twice: {KIND_NAMES[kind]} come from several connectors "
            f"of this project: {names}. Keep one source of {KIND_NAMES[kind]} for KPI."
        )
        for connector in delivering:
            warnings[connector["item_id"]].append(message)
    return dict(warnings)
