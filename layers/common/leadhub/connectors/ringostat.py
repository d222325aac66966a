"""Ringostat: call tracking by number pools."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, field_validator

from leadhub.connectors.spec import StreamSpec, VendorSpec
from leadhub.models.credentials import Key, VendorAccount, VendorCredentials, Verified, verified
from leadhub.models.settings import ChannelMatch, KpiMode, KpiSettings, Vendor
from leadhub.settings import Settings, get_settings

if TYPE_CHECKING:
    # loaded by the functions that use them: the API declares a vendor's settings and checks its key,
    # and never reads a day
    from leadhub.extract.streams import ExtractionInputs, StreamReaders
    from leadhub.vendors.ringostat import RingostatClient, ZoneMismatch


class RingostatCredentials(VendorCredentials):
    auth_key: Key = Field(description="«Auth-key» (the token): Ringostat → any project → Интеграция → Ringostat API.")


#: The finding the calls stream records when the account's zone is not the expected one.
VENDOR_ZONE = "vendor_timezone"
#: Ringostat's call directions (`call_type`, roistat-ringostat.md B3).
CallDirection = Literal["in", "out", "callback", "transitin", "transitout"]
INBOUND_ONLY: tuple[CallDirection, ...] = ("in",)
NO_TAGS = (
    "Ringostat sends no tags with its calls (its call log has no tag field), so «Тегированные лиды» would "
    "count no call: choose `all` «Все обращения» or `unique` «Уникальные обращения»"
)


class RingostatSettings(KpiSettings):
    #: B2.2, seed 001: the value is the number pool's name, the only key a Ringostat call carries.
    channel_match: ClassVar[ChannelMatch] = ChannelMatch.POOL_NAME
    vendor: Literal[Vendor.RINGOSTAT] = Vendor.RINGOSTAT
    kpi_mode: Literal[KpiMode.ALL, KpiMode.UNIQUE] = Field(
        default=KpiMode.ALL,
        description="«Performance KPI»: which calls count — `all` «Все обращения» (the default), `unique` first "
        "contacts only (Ringostat's `call_counter` is 1). «Тегированные лиды» (`tagged`) is refused: Ringostat "
        "sends no tags with its calls.",
    )
    call_directions: list[CallDirection] = Field(
        default_factory=lambda: list(INBOUND_ONLY),
        min_length=1,
        max_length=5,
        description="Which call directions (Ringostat's `call_type`) are inquiries: `in` incoming (the default), "
        "`callback` a callback a visitor ordered, `out` outgoing, `transitin` / `transitout` transit. Calls of "
        "the other directions are kept raw but not counted; a call with no direction is read as incoming.",
        json_schema_extra={"uniqueItems": True},
    )

    @field_validator("kpi_mode", mode="before")
    @classmethod
    def _tagged_is_refused(cls, value: Any) -> Any:
        if value == KpiMode.TAGGED:
            raise ValueError(NO_TAGS)
        return value

    @field_validator("call_directions")
    @classmethod
    def _directions_once(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError(f"call directions repeat: {sorted({d for d in value if value.count(d) > 1})}")
        return value


def client(
    credentials: Mapping[str, Any], settings: Settings | None = None, *, project_tz: str = "Europe/Kyiv"
) -> RingostatClient:
    from leadhub.vendors.ringostat import RingostatClient

    settings = settings or get_settings()
    return RingostatClient(str(credentials["auth_key"]), base_url=settings.ringostat_base_url, project_tz=project_tz)


def check(secret: dict[str, Any]) -> Verified:
    ringostat = client(secret)
    ringostat.check()
    accounts = [VendorAccount(id=str(a.id)) for a in ringostat.discover_projects()]
    note = "Ringostat passes project numbers only, not names: make sure you connect the right project."
    return verified(Vendor.RINGOSTAT, secret, accounts, note)


def zone_warning(mismatch: ZoneMismatch | None) -> str | None:
    """The status's words for calls dated in another zone than the one Leadhub expects."""
    if mismatch is None:
        return None
    maybe = f" (perhaps {', '.join(mismatch.candidates)})" if mismatch.candidates else ""
    return (
        f"Ringostat dates this account's calls at UTC{'/'.join(mismatch.offsets)}, which is not "
        f"{mismatch.configured}: the Ringostat account keeps another time zone{maybe}. No call is lost; set "
        "`vendor_timezone` in the connector's settings to the account's zone so its days are cut as Ringostat "
        "shows them."
    )


def readers(inputs: ExtractionInputs) -> StreamReaders:
    """Calls by day, the client splitting windows under the 6500-row cap (roistat-ringostat.md B5)."""
    from leadhub.attribution import ringostat as attribution
    from leadhub.extract.findings import StreamFindings

    settings = RingostatSettings.model_validate({**inputs.connector.settings, "vendor": Vendor.RINGOSTAT})
    expected_zone = settings.vendor_timezone or inputs.zone
    ringostat = client(inputs.secret, project_tz=expected_zone)
    rules, account = inputs.rules, inputs.connector.vendor_account_id
    directions = frozenset(settings.call_directions)
    connector = inputs.connector
    findings = StreamFindings.for_stream(connector.project_id, connector.id, "calls")

    def calls(day: date, start: datetime, end: datetime) -> Iterable[dict[str, Any]]:
        rows = ringostat.calls_between(start, end)  # with the JSON each call came as, stored as it came
        if rows:
            # what the account's own times say of its zone, where the status can show it
            findings.record(VENDOR_ZONE, zone_warning(ringostat.zone_mismatch))
        return rows

    def normalise(rows: list[dict[str, Any]], day: date) -> Iterable[dict[str, Any]]:
        # the fields, not models: what the engine stores (`stored_rows`), a day's 50 000 calls a model each
        return attribution.call_conversion_values(rows, rules, account, directions=directions)

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
    "call_directions": ["in", "callback"],
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
