"""DynamoDB wants Decimals, not floats; callers want plain numbers back."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def to_item(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {key: to_item(inner) for key, inner in value.items() if inner is not None}
    if isinstance(value, (list, tuple)):
        return [to_item(inner) for inner in value]
    return value


def from_item(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: from_item(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [from_item(inner) for inner in value]
    if isinstance(value, set):
        return sorted(from_item(inner) for inner in value)
    return value
