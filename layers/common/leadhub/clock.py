"""The one clock of stored timestamps."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_iso(moment: datetime, timespec: str = "seconds") -> str:
    """A moment as the ISO-8601 UTC string every stored timestamp uses (finer where order matters)."""
    return moment.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def utc_now() -> str:
    """Now, as the ISO-8601 UTC string every stored timestamp uses."""
    return utc_iso(datetime.now(UTC))
