"""The one clock of stored timestamps."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> str:
    """Now, as the ISO-8601 UTC string every stored timestamp uses."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
