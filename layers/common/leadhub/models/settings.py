"""Connector settings, as seeds 000 (Roistat) and 001 (Ringostat) describe the "Коннекторы" page.

Validation names the field and, for list rows, the row number a user sees (1-based).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator


class Vendor(StrEnum):
    ROISTAT = "roistat"
    RINGOSTAT = "ringostat"
    CALLTOUCH = "calltouch"
    AMOCRM = "amocrm"


class KpiMode(StrEnum):
    """Performance KPI: which conversions count. «Все обращения» is the default."""

    ALL = "all"
    TAGGED = "tagged"
    UNIQUE = "unique"


Text = Annotated[str, StringConstraints(min_length=1, max_length=500)]


def _not_blank(value: str, field: str) -> str:
    if not value.strip():
        raise ValueError(f"{field} must not be empty")
    return value


class StaticChannel(BaseModel):
    """A static call-tracking channel mapped to how it shows in reports.

    `value` is Roistat's parameter value, or Ringostat's number-pool name; both must be typed
    exactly as in the vendor's account, so they are kept verbatim (no trimming, no case folding).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    parameter: Text
    value: Text
    source: Text
    traffic_type: Text
    campaign: Text

    @model_validator(mode="after")
    def _no_blank_fields(self) -> StaticChannel:
        for name in ("parameter", "value", "source", "traffic_type", "campaign"):
            _not_blank(getattr(self, name), name)
        return self

    @property
    def key(self) -> tuple[str, str]:
        return (self.parameter, self.value)


def duplicate_channel_errors(channels: list[StaticChannel]) -> list[str]:
    """One message per row that repeats an earlier row's parameter and value."""
    seen: dict[tuple[str, str], int] = {}
    problems = []
    for row, channel in enumerate(channels, start=1):
        first = seen.setdefault(channel.key, row)
        if first != row:
            problems.append(
                f"row {row}: parameter {channel.parameter!r} with value {channel.value!r} repeats row {first}"
            )
    return problems


class KpiSettings(BaseModel):
    """What every vendor delivering performance KPI (calls, forms) is configured with."""

    model_config = ConfigDict(extra="forbid")

    #: Narrowed to one vendor by each vendor's settings.
    vendor: Vendor
    kpi_mode: KpiMode = KpiMode.ALL
    #: Kept exactly as typed (they must match the vendor's tags); ignored when kpi_mode is "all".
    tags: list[Text] = Field(default_factory=list, max_length=200)
    static_channels: list[StaticChannel] = Field(default_factory=list, max_length=5000)
    #: The vendor account's time zone, when it differs from the project's: day slices are cut in it.
    vendor_timezone: str | None = None
    #: Days re-read on every run, by stream (defaults: calls 3, orders 30 — deals change late).
    lookback_days: dict[str, Annotated[int, Field(ge=0, le=365)]] = Field(default_factory=dict)

    @field_validator("vendor_timezone")
    @classmethod
    def _known_zone(cls, name: str | None) -> str | None:
        if name is not None and name not in available_timezones():
            raise ValueError(f"unknown time zone {name!r}: use an IANA name such as Europe/Moscow")
        return name

    @field_validator("tags")
    @classmethod
    def _tags_distinct(cls, tags: list[str]) -> list[str]:
        for position, tag in enumerate(tags, start=1):
            _not_blank(tag, f"tag {position}")
        if len(set(tags)) != len(tags):
            repeated = sorted({tag for tag in tags if tags.count(tag) > 1})
            raise ValueError(f"tags repeat: {repeated}")
        return tags

    @field_validator("static_channels")
    @classmethod
    def _channels_distinct(cls, channels: list[StaticChannel]) -> list[StaticChannel]:
        problems = duplicate_channel_errors(channels)
        if problems:
            raise ValueError("; ".join(problems))
        return channels

    @model_validator(mode="after")
    def _tagged_needs_tags(self) -> KpiSettings:
        if self.kpi_mode is KpiMode.TAGGED and not self.tags:
            raise ValueError("kpi_mode 'tagged' needs at least one tag")
        return self

    def effective_tags(self) -> list[str]:
        """The tags that filter conversions: none unless the KPI mode is "tagged"."""
        return list(self.tags) if self.kpi_mode is KpiMode.TAGGED else []
