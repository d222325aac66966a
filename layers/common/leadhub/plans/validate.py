"""Seed 004's rules applied to raw rows before anything is sent: every violation of every row,
named as Calltouch names it (`items[N].field`) in the seed's Russian wording.

Rows come as JSON objects (the API body) or as what the XLSX parser read; either way they are
checked as given, so a JSON body and the same rows typed into the template get the same answer.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from pydantic import Field

from leadhub.models.base import DeferredModel
from leadhub.plans import rules


class Violation(DeferredModel):
    """One broken rule: where (as Calltouch's `fieldPath`, and the sheet cell for an XLSX) and why."""

    field: str = Field(description="Calltouch's `fieldPath`: `items[N].metric.type`, or `items` for the list.")
    message: str = Field(description="What is wrong, in seed 004's Russian wording.")
    item: int | None = Field(default=None, description="The row's 0-based index in `items` (None: the whole list).")
    row: int | None = Field(default=None, description="XLSX only: the sheet row, as Excel numbers it.")
    cell: str | None = Field(default=None, description="XLSX only: the cell, e.g. `F12`.")


class Checked(DeferredModel):
    """The rows that pass, in the vendor's wire form, and every violation of the others."""

    #: index in the input → the row as `plans-import/add` takes it
    valid: dict[int, dict[str, Any]] = Field(default_factory=dict)
    violations: list[Violation] = Field(default_factory=list)
    total: int = 0

    @property
    def invalid_items(self) -> set[int]:
        return {v.item for v in self.violations if v.item is not None}


def check_items(items: Sequence[Any]) -> Checked:
    checked = Checked(total=len(items))
    if not items:
        checked.violations.append(Violation(field="items", message=rules.MSG_TOO_FEW_ITEMS))
        return checked
    rows = [_RowCheck(index, item) for index, item in enumerate(items)]
    _free_names_unique(rows)
    for row in rows:
        checked.violations.extend(row.violations)
        if not row.violations and row.wire is not None:
            checked.valid[row.index] = row.wire
    return checked


def parse_plan_date(value: Any) -> date | None:
    """A `dd-mm-yyyy` date, strictly (the seed's format, with dashes); None when it is not one."""
    if not isinstance(value, str) or not re.fullmatch(rules.DATE_PATTERN, value):
        return None
    try:
        return datetime.strptime(value, rules.DATE_LAYOUT).date()
    except ValueError:
        return None


class _RowCheck:
    def __init__(self, index: int, item: Any) -> None:
        self.index = index
        self.path = f"items[{index}]"
        self.violations: list[Violation] = []
        self.wire: dict[str, Any] | None = None
        self.free_name: tuple[str, str] | None = None
        if not isinstance(item, dict):
            self._add(self.path, rules.MSG_NOT_AN_OBJECT)
            return
        wire: dict[str, Any] = {}
        self._dates(item, wire)
        self._slice(item, wire)
        self._metric(item, wire)
        self.wire = wire

    def _add(self, path: str, message: str) -> None:
        self.violations.append(Violation(field=path, message=message, item=self.index))

    def _required(self, container: dict[str, Any], name: str, path: str) -> Any:
        value = container.get(name)
        if value is None:
            self._add(path, rules.MSG_MISSING_FIELD.format(field=name))
        return value

    def _dates(self, item: dict[str, Any], wire: dict[str, Any]) -> None:
        found: dict[str, date] = {}
        for name in ("dateFrom", "dateTo"):
            raw = self._required(item, name, f"{self.path}.{name}")
            if raw is None:
                continue
            parsed = parse_plan_date(raw)
            if parsed is None:
                self._add(f"{self.path}.{name}", rules.MSG_BAD_DATE)
                continue
            found[name], wire[name] = parsed, raw
        if len(found) == 2 and found["dateFrom"] > found["dateTo"]:
            self._add(f"{self.path}.dateFrom", rules.MSG_DATE_ORDER)

    def _slice(self, item: dict[str, Any], wire: dict[str, Any]) -> None:
        for name in rules.SLICE_FIELDS:
            value = item.get(name)
            if value is None:
                continue
            if not isinstance(value, str):
                self._add(f"{self.path}.{name}", rules.MSG_WRONG_TYPE.format(type="string"))
            elif value.strip():
                wire[name] = value
        if not any(name in wire for name in rules.SLICE_FIELDS) and not any(
            v.field.split(".")[-1] in rules.SLICE_FIELDS for v in self.violations
        ):
            # Calltouch names the first of the five, as in the seed's example
            self._add(f"{self.path}.source", rules.MSG_SLICE_REQUIRED)

    def _metric(self, item: dict[str, Any], wire: dict[str, Any]) -> None:
        path = f"{self.path}.metric"
        metric = self._required(item, "metric", path)
        if metric is None:
            return
        if not isinstance(metric, dict):
            self._add(path, rules.MSG_NOT_AN_OBJECT)
            return
        metric_type = self._text(metric, "type", f"{path}.type")
        if metric_type is not None and metric_type not in rules.METRIC_NAMES:
            self._add(f"{path}.type", rules.MSG_NOT_ALLOWED)
            metric_type = None
        name = self._text(metric, "name", f"{path}.name")
        if name is not None and metric_type is not None:
            self._name(metric_type, name, f"{path}.name")
        value = self._required(metric, "value", f"{path}.value")
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            self._add(f"{path}.value", rules.MSG_WRONG_TYPE.format(type="integer"))
        wire["metric"] = {"type": metric_type, "name": name, "value": value}

    def _text(self, container: dict[str, Any], name: str, path: str) -> str | None:
        value = self._required(container, name, path)
        if value is None:
            return None
        if not isinstance(value, str):
            self._add(path, rules.MSG_WRONG_TYPE.format(type="string"))
            return None
        if not value.strip():
            self._add(path, rules.MSG_BLANK)
            return None
        return value

    def _name(self, metric_type: str, name: str, path: str) -> None:
        if metric_type not in rules.FREE_NAME_TYPES:
            if name not in rules.METRIC_NAMES[metric_type]:
                self._add(path, rules.MSG_NOT_ALLOWED)
            return
        if name in rules.CALLTOUCH_METRIC_NAMES:
            self._add(path, rules.MSG_CUSTOM_NOT_UNIQUE)
            return
        self.free_name = (metric_type, name)


def _free_names_unique(rows: list[_RowCheck]) -> None:
    """A name given both as a custom column and as a goal cannot tell Calltouch which one is meant."""
    types_of: defaultdict[str, set[str]] = defaultdict(set)
    for row in rows:
        if row.free_name is not None:
            types_of[row.free_name[1]].add(row.free_name[0])
    for row in rows:
        if row.free_name is not None and len(types_of[row.free_name[1]]) > 1:
            row._add(f"{row.path}.metric.name", rules.MSG_CUSTOM_NOT_UNIQUE)
