"""Connector settings, as seeds 000 (Roistat) and 001 (Ringostat) describe the "Коннекторы" page.

Validation names the field and, for list rows, the row number a user sees (1-based).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import ConfigDict, Field, StringConstraints, field_validator, model_validator

from leadhub.models.base import DeferredModel
from leadhub.models.zones import TimeZoneName


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


class ChannelMatch(StrEnum):
    """How a vendor's static-channel row («Параметр», «Значение») is matched to a conversion; each
    vendor's settings declare theirs."""

    #: The parameter names a field of the row's marker (Roistat's `static_source`: `system_name`,
    #: `utm_source`…) whose text is compared with the value.
    PARAMETER_FIELD = "parameter_field"
    #: The value is a number pool's name, compared with the call's pool; the parameter is not consulted.
    POOL_NAME = "pool_name"


#: Typed text: at least one character that is not a space (the pattern is searched, not anchored).
Text = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"\S")]


def normalise_tag(tag: str) -> str:
    """A tag as both sides compare it: trimmed (the vendors' tags come trimmed; a typed one may not)."""
    return tag.strip()


def _not_blank(value: str, field: str) -> str:
    if not value.strip():
        raise ValueError(f"{field} must not be empty")
    return value


class StaticChannel(DeferredModel):
    """A static call-tracking channel mapped to how it shows in reports.

    `value` is Roistat's parameter value, or Ringostat's number-pool name; both must be typed
    exactly as in the vendor's account, so they are kept verbatim (no trimming, no case folding).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    parameter: Text = Field(description="«Параметр»: the parameter the static channel sets in the vendor's account.")
    value: Text = Field(
        description="«Значение» (Roistat) or «Название пула номеров» (Ringostat): exactly as set in the vendor's "
        "account. A row's parameter and value are unique among the connector's channels."
    )
    source: Text = Field(description="«Источник трафика»: the source its conversions show under in reports.")
    traffic_type: Text = Field(description="«Тип трафика»: how the traffic is classified.")
    campaign: Text = Field(description="«Кампания»: the advertising campaign or group.")

    @model_validator(mode="after")
    def _no_blank_fields(self) -> StaticChannel:
        for name in ("parameter", "value", "source", "traffic_type", "campaign"):
            _not_blank(getattr(self, name), name)
        return self

    @property
    def key(self) -> tuple[str, str]:
        return (self.parameter, self.value)


def channel_match_key(channel: StaticChannel) -> tuple[str, str]:
    """What a static channel is matched by, unless a vendor says otherwise: its parameter (a field
    name: trimmed, case-folded) and its value (exactly as typed)."""
    return (channel.parameter.strip().casefold(), channel.value)


def duplicate_channel_errors(
    channels: list[StaticChannel], match_key: Callable[[StaticChannel], tuple[str, str]] = channel_match_key
) -> list[str]:
    """One message per row that matches what an earlier row matches (so it could never apply)."""
    seen: dict[tuple[str, str], int] = {}
    problems = []
    for row, channel in enumerate(channels, start=1):
        first = seen.setdefault(match_key(channel), row)
        if first != row:
            problems.append(
                f"row {row}: parameter {channel.parameter!r} with value {channel.value!r} repeats row {first}"
            )
    return problems


class KpiSettings(DeferredModel):
    """What every vendor delivering performance KPI (calls, forms) is configured with."""

    model_config = ConfigDict(extra="forbid")

    #: How the vendor matches a static channel: attribution builds its lookup by it, and it must agree
    #: with `channel_match_key`, the settings' duplicate check. Declared by each vendor's settings.
    channel_match: ClassVar[ChannelMatch] = ChannelMatch.PARAMETER_FIELD
    #: Narrowed to one vendor by each vendor's settings.
    vendor: Vendor
    kpi_mode: KpiMode = Field(
        default=KpiMode.ALL,
        description="«Performance KPI»: which conversions count — `all` «Все обращения» (the default), "
        "`tagged` «Тегированные лиды» (only those carrying one of `tags`), `unique` first contacts only.",
    )
    tags: list[Text] = Field(
        default_factory=list,
        max_length=200,
        description="«Теги»: as typed, trimmed (as the vendor trims its own: tags differing only by spaces are "
        "one); they must match the tags in the vendor's account. Used only when `kpi_mode` is `tagged`, which "
        "needs at least one.",
        json_schema_extra={"uniqueItems": True},
    )
    static_channels: list[StaticChannel] = Field(
        default_factory=list,
        max_length=5000,
        description="«Статические каналы»: static tracking channels and how their conversions show in reports; "
        "conversions of a channel not listed land in the vendor's unknown campaign (Roistat «Неизвестная "
        "кампания (Undefined)», Ringostat «Неизвестная кампания»).",
    )
    vendor_timezone: TimeZoneName | None = Field(
        default=None,
        description="The vendor account's time zone, when it differs from the project's: days are cut in it.",
    )
    history_days: int = Field(
        default=30,
        ge=1,
        le=1830,
        description="How far back the connector loads, in days up to today (default 30, up to five years). "
        "Moving it earlier loads the added days in the background; the schedule's cursor is untouched.",
        examples=[1096],
    )
    lookback_days: dict[str, Annotated[int, Field(ge=0, le=365)]] = Field(
        default_factory=dict,
        description="Days re-read on every run, by stream name (defaults: calls 3, orders 30 — deals change late).",
        examples=[{"calls": 3}],
    )

    @field_validator("tags")
    @classmethod
    def _tags_distinct(cls, tags: list[str]) -> list[str]:
        """Kept trimmed, as the vendor's are: tags that differ only by spaces are one tag."""
        for position, tag in enumerate(tags, start=1):
            _not_blank(tag, f"tag {position}")
        tags = [normalise_tag(tag) for tag in tags]
        if len(set(tags)) != len(tags):
            repeated = sorted({tag for tag in tags if tags.count(tag) > 1})
            raise ValueError(f"tags repeat (spaces around a tag do not count): {repeated}")
        return tags

    @classmethod
    def channel_match_key(cls, channel: StaticChannel) -> tuple[str, str]:
        """What the vendor's static channels are matched by; a vendor refines it. A pool is matched by
        its name alone, so two rows naming one pool repeat each other whatever their parameter."""
        if cls.channel_match is ChannelMatch.POOL_NAME:
            return ("", channel.value)
        return channel_match_key(channel)

    @field_validator("static_channels")
    @classmethod
    def _channels_distinct(cls, channels: list[StaticChannel]) -> list[StaticChannel]:
        problems = duplicate_channel_errors(channels, cls.channel_match_key)
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
