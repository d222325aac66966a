"""Seed 001's warning: performance KPI must not come twice for the same kind of conversion.

Two active connectors in one project that both deliver, say, calls (Roistat call tracking and
Ringostat) would count every call twice in the project's KPI. Which kinds a connector delivers is
its vendor's declaration (`StreamSpec.kpi_kind`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from leadhub.connectors.registry import spec_for
from leadhub.models.connector import Connector

KIND_NAMES = {"calls": "calls", "forms": "form and chat leads", "orders": "CRM leads and deals"}


def duplication_warnings(connectors: Iterable[Connector]) -> dict[str, list[str]]:
    """Warnings per connector id, for every kind delivered by more than one active connector."""
    by_kind: dict[str, list[Connector]] = defaultdict(list)
    for connector in connectors:
        if connector.active:
            for kind in spec_for(connector.vendor).kpi_kinds(connector.settings):
                by_kind[kind].append(connector)
    warnings: dict[str, list[str]] = defaultdict(list)
    for kind, delivering in sorted(by_kind.items()):
        if len(delivering) < 2:
            continue
        names = ", ".join(f"{c.name} ({c.vendor.value})" for c in delivering)
        message = (
            f"Performance KPI may be counted twice: {KIND_NAMES[kind]} come from several connectors "
            f"of this project: {names}. Keep one source of {KIND_NAMES[kind]} for KPI."
        )
        for connector in delivering:
            warnings[connector.id].append(message)
    return dict(warnings)
