"""Ringostat: call tracking by number pools."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field

from leadhub.attribution import ringostat as attribution
from leadhub.connectors.spec import StreamSpec, VendorSpec
from leadhub.extract.streams import ExtractionInputs, StreamReaders
from leadhub.models.conversion import Conversion
from leadhub.models.credentials import Key, VendorAccount, VendorCredentials, Verified, verified
from leadhub.models.settings import KpiSettings, Vendor
from leadhub.settings import Settings, get_settings
from leadhub.vendors.ringostat import RingostatClient


class RingostatCredentials(VendorCredentials):
    auth_key: Key = Field(description="«Auth-key» (the token): Ringostat → any project → Интеграция → Ringostat API.")


class RingostatSettings(KpiSettings):
    vendor: Literal[Vendor.RINGOSTAT] = Vendor.RINGOSTAT


def client(
    credentials: Mapping[str, Any], settings: Settings | None = None, *, project_tz: str = "Europe/Kyiv"
) -> RingostatClient:
    settings = settings or get_settings()
    return RingostatClient(str(credentials["auth_key"]), base_url=settings.ringostat_base_url, project_tz=project_tz)


def check(secret: dict[str, Any]) -> Verified:
    ringostat = client(secret)
    ringostat.check()
    accounts = [VendorAccount(id=str(a.id)) for a in ringostat.discover_projects()]
    note = "Ringostat passes project numbers only, not names: make sure you connect the right project."
    return verified(Vendor.RINGOSTAT, secret, accounts, note)


def readers(inputs: ExtractionInputs) -> StreamReaders:
    """Calls by day, the client splitting windows under the 6500-row cap (roistat-ringostat.md B5)."""
    settings = inputs.connector.settings
    ringostat = client(inputs.secret, project_tz=settings.get("vendor_timezone") or inputs.zone)
    rules, account = inputs.rules, inputs.connector.vendor_account_id

    def calls(day: date, start: datetime, end: datetime) -> Iterable[dict[str, Any]]:
        return ringostat.iter_calls(start, end)

    def normalise(rows: list[dict[str, Any]], day: date) -> Iterable[Conversion]:
        return attribution.normalise_calls(rows, rules, account)

    return {"calls": (calls, normalise)}


#: The settings Swagger UI offers for a Ringostat connector's "Try it out".
SETTINGS_EXAMPLE: dict[str, Any] = {
    "kpi_mode": "unique",
    "static_channels": [
        {
            "parameter": "utm_source",
            "value": "Пул Авито",
            "source": "Авито",
            "traffic_type": "Классифайды",
            "campaign": "Авито — объявления",
        }
    ],
    "vendor_timezone": "Europe/Kyiv",
}

SPEC = VendorSpec(
    settings_example=SETTINGS_EXAMPLE,
    vendor=Vendor.RINGOSTAT,
    title="Ringostat",
    undefined_campaign="Неизвестная кампания",  # seed 001's label
    check_sees="its projects, by number only: Ringostat does not pass names",
    credentials=RingostatCredentials,
    settings=RingostatSettings,
    streams=(StreamSpec("calls", lookback_days=3, kpi_kind="calls"),),
    check=check,
    readers=readers,
    channel_value_label="Название пула номеров",
)
