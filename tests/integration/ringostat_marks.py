"""Where a simulated Ringostat call must show in a report, computed from the simulator's truth
alone: a static pool listed as a channel shows as that channel, another static pool in Undefined,
a dynamic call under its visit's UTM marks."""

from __future__ import annotations

from collections.abc import Mapping

from simulators.ringostat import CallTruth

NONE = "(none)"
#: Seed 001's label for calls with no campaign (Roistat's adds "(Undefined)").
UNDEFINED_CAMPAIGN = "Неизвестная кампания"


def _mark(value: str | None) -> str | None:
    return None if value in (None, "", "(not set)") else value


def call_marks(call: CallTruth, channel: Mapping[str, str] | None) -> tuple[str, str, str]:
    """(source, traffic type, campaign) of the call under one static channel (or none)."""
    if call.static:
        if channel and call.pool == channel["value"]:
            return channel["source"], channel["traffic_type"], channel["campaign"]
        return NONE, NONE, UNDEFINED_CAMPAIGN
    return (
        _mark(call.utm_source) or NONE,
        _mark(call.utm_medium) or NONE,
        _mark(call.utm_campaign) or UNDEFINED_CAMPAIGN,
    )
