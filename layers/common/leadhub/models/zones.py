"""Time zones by their IANA names, as the pinned `tzdata` package lists them.

The list comes from `tzdata` rather than the machine's zoneinfo so the published OpenAPI enum is
the same wherever it is generated, and every name in it loads (zoneinfo falls back to `tzdata`).
"""

from __future__ import annotations

from importlib.resources import files
from typing import Annotated

from pydantic import AfterValidator, Field

ZONES: tuple[str, ...] = tuple(sorted(files("tzdata").joinpath("zones").read_text(encoding="utf-8").split()))
_KNOWN = frozenset(ZONES)


def _known_zone(name: str) -> str:
    if name not in _KNOWN:
        raise ValueError(f"unknown time zone {name!r}: use an IANA name such as Europe/Moscow")
    return name


TimeZoneName = Annotated[
    str,
    AfterValidator(_known_zone),
    Field(json_schema_extra={"enum": list(ZONES)}, examples=["Europe/Moscow"]),
]
