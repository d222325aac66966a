"""What a vendor module declares: the shape every vendor's facts take, so wiring never asks which vendor."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from leadhub.models.conversion import UNDEFINED_CAMPAIGN
from leadhub.models.credentials import VendorCredentials, Verified
from leadhub.models.settings import Vendor

if TYPE_CHECKING:
    # the readers' types only: a function that plans or lists (the API, the backfill) never reads a day
    from leadhub.extract.streams import StreamBuilder


@dataclass(frozen=True)
class StreamSpec:
    name: str
    #: Days re-read before the cursor on every run, unless the settings' `lookback_days` say otherwise.
    lookback_days: int = 0
    #: The kind of performance KPI it delivers ("calls", "forms", "orders"): what the duplication
    #: warning compares across a project's connectors. None: no KPI.
    kpi_kind: str | None = None
    #: Read as one snapshot dated today (dictionaries, reports), not day by day.
    snapshot: bool = False
    #: The `streams` setting that switches it on and off; None: always on.
    switch: str | None = None
    #: Shown in the connector's status (a dictionary read along with another stream is not).
    shown: bool = True

    def enabled(self, settings: Mapping[str, Any]) -> bool:
        return self.switch is None or bool(settings.get("streams", {}).get(self.switch, True))

    def lookback(self, settings: Mapping[str, Any]) -> int:
        return int(settings.get("lookback_days", {}).get(self.name, self.lookback_days))


@dataclass(frozen=True)
class VendorSpec:
    vendor: Vendor
    #: The vendor's name as a marketer writes it.
    title: str
    #: What a successful credentials check answers, in the check operation's description.
    check_sees: str
    credentials: type[VendorCredentials]
    settings: type[BaseModel]
    streams: tuple[StreamSpec, ...]
    #: Asks the vendor whether the credentials (as stored) work; raises the vendor's ConfigError if not.
    check: Callable[[dict[str, Any]], Verified]
    #: How each stream reads a day and normalises it; None while nothing of the vendor is extracted.
    readers: StreamBuilder | None = None
    #: What the static-channel value column is called (seed 000 / 001); None: no static channels.
    channel_value_label: str | None = None
    #: The campaign conversions with none show under (seed 000 Roistat; seed 001 Ringostat has its own).
    undefined_campaign: str = UNDEFINED_CAMPAIGN
    #: The zone a vendor timestamp without an offset is read in; None: UTC.
    naive_timezone: str | None = None
    #: Settings a user of this vendor would send: the example Swagger UI offers.
    settings_example: dict[str, Any] = field(default_factory=dict)

    def validate_settings(self, raw: Mapping[str, Any] | None) -> BaseModel:
        """Raw settings validated for the vendor (defaults fill what is missing)."""
        return self.settings.model_validate({**(raw or {}), "vendor": self.vendor})

    def kpi_kinds(self, settings: Mapping[str, Any]) -> set[str]:
        """The kinds of conversion the connector delivers as performance KPI."""
        return {stream.kpi_kind for stream in self.streams if stream.kpi_kind and stream.enabled(settings)}
