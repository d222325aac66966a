"""Roistat: call tracking, orders, proxy leads (forms and chats) and the client report."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from leadhub.attribution import roistat as attribution
from leadhub.connectors.spec import StreamSpec, VendorSpec
from leadhub.extract.first_contacts import FirstContacts
from leadhub.extract.prefetch import RangePrefetch, iso_moment
from leadhub.extract.streams import ExtractionInputs, StreamReaders
from leadhub.models.conversion import Conversion
from leadhub.models.credentials import Key, VendorAccount, VendorCredentials, Verified, verified
from leadhub.models.settings import KpiSettings, Vendor
from leadhub.settings import Settings, get_settings
from leadhub.vendors.roistat import RoistatClient


class RoistatCredentials(VendorCredentials):
    api_key: Key = Field(
        description="The secret API key («секретный ключ»): Roistat → Профиль → Настройки → API. The «Управление "
        "клиентами» module must be on, with «Просмотр контактных данных клиента» allowed."
    )


class RoistatStreams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    calls: bool = Field(default=True, description="«Звонки»: calls from Roistat call tracking (table calls).")
    orders: bool = Field(
        default=True, description="«Лиды, сделки из CRM»: every lead and deal created in the CRM (table orders)."
    )
    proxyleads: bool = Field(
        default=True,
        description="«Заявки (проксилиды)»: forms, chats and integrations other than calls (table proxyleads).",
    )


class RoistatSettings(KpiSettings):
    vendor: Literal[Vendor.ROISTAT] = Vendor.ROISTAT
    client_report: bool = Field(
        default=True,
        description="«Выгрузка клиентского отчета»: the dashboard needs it, so it is always on (only `true` is "
        "accepted). Needs the «Управление клиентами» module in Roistat.",
        json_schema_extra={"const": True},
    )
    include_not_counted: bool = Field(
        default=True,
        description="«Учитывать в дашборде сделки Roistat со статусом «Не учитывается»»: count the deals Roistat "
        "hides by default (spam, duplicates…).",
    )
    streams: RoistatStreams = Field(
        default_factory=RoistatStreams, description="«Подробные настройки для выгрузки»: which streams load."
    )

    @field_validator("client_report")
    @classmethod
    def _client_report_always_on(cls, value: bool) -> bool:
        if not value:
            raise ValueError(
                "the client report is always on: the dashboard needs it. Make sure the "
                "«Управление клиентами» (client management) module is enabled in Roistat"
            )
        return value


def client(credentials: Mapping[str, Any], settings: Settings | None = None) -> RoistatClient:
    settings = settings or get_settings()
    return RoistatClient(str(credentials["api_key"]), base_url=settings.roistat_base_url)


def check(secret: dict[str, Any]) -> Verified:
    """The key works when it lists projects; the user picks one of them."""
    accounts = [VendorAccount(id=str(p.id), name=p.name) for p in client(secret).list_projects()]
    return verified(Vendor.ROISTAT, secret, accounts)


def readers(inputs: ExtractionInputs) -> StreamReaders:
    """Calls and proxy leads by day; orders by creation day, with a long lookback (status and revenue
    change late) and the status dictionary re-read every run; the client report as a daily snapshot
    (roistat-ringostat.md A7)."""
    roistat = client(inputs.secret)
    connector, rules = inputs.connector, inputs.rules
    project, account = int(connector.vendor_account_id), connector.vendor_account_id
    # Roistat marks no call as unique: when each number first called is kept per connector
    first_contacts = FirstContacts.for_connector(connector.project_id, connector.id, "calls")
    statuses = inputs.statuses if inputs.statuses is not None else []

    def calls(day: date, start: datetime, end: datetime) -> Iterable[dict[str, Any]]:
        return roistat.iter_calls(project, start, end)

    def status_dictionary(day: date, start: datetime, end: datetime) -> Iterable[dict[str, Any]]:
        # small and changing: read whole on every run, kept raw so orders can be re-attributed
        statuses[:] = roistat.list_statuses(project)
        return statuses

    # with the visit: its marks are the order's source (at Roistat's stricter rate for it)
    order_range = RangePrefetch(
        lambda start, end: roistat.iter_orders(project, start, end, extend_visit=True), iso_moment("creation_date")
    )

    def orders(day: date, start: datetime, end: datetime) -> Iterable[dict[str, Any]]:
        return order_range.read(start, end)

    def proxy_leads(day: date, start: datetime, end: datetime) -> Iterable[dict[str, Any]]:
        # a lead carries only its visit's id: the visit (its marks) is kept with the raw lead
        leads = roistat.proxy_leads(project, day)
        visits = roistat.visits(project, (str(lead["roistat"]) for lead in leads if lead.get("roistat")))
        return [{**lead, "visit": visits.get(str(lead.get("roistat")))} for lead in leads]

    def clients(day: date, start: datetime, end: datetime) -> Iterable[dict[str, Any]]:
        return roistat.iter_clients(project)

    def normalise_calls(rows: list[dict[str, Any]], day: date) -> Iterable[Conversion]:
        seen = first_contacts.seen_before(day)
        conversions = list(attribution.normalise_calls(rows, rules, account, seen_callers=seen))
        first_contacts.record(rows, day)
        return conversions

    def normalise_orders(rows: list[dict[str, Any]], day: date) -> Iterable[Conversion]:
        return attribution.normalise_orders(rows, statuses, rules, account)

    def normalise_leads(rows: list[dict[str, Any]], day: date) -> Iterable[Conversion]:
        return attribution.normalise_proxy_leads(rows, rules, account)

    return {
        "calls": (calls, normalise_calls),
        "statuses": (status_dictionary, None),
        "orders": (orders, normalise_orders),
        "proxyleads": (proxy_leads, normalise_leads),
        "clients": (clients, None),
    }


#: The settings Swagger UI offers for a Roistat connector's "Try it out".
SETTINGS_EXAMPLE: dict[str, Any] = {
    "kpi_mode": "tagged",
    "tags": ["квал"],
    "include_not_counted": False,
    "streams": {"calls": True, "orders": True, "proxyleads": False},
    "static_channels": [
        {
            "parameter": "roistat",
            "value": "avito",
            "source": "Авито",
            "traffic_type": "Классифайды",
            "campaign": "Авито — объявления",
        }
    ],
    "lookback_days": {"calls": 3, "orders": 30},
}

SPEC = VendorSpec(
    settings_example=SETTINGS_EXAMPLE,
    vendor=Vendor.ROISTAT,
    title="Roistat",
    check_sees="its projects, by name",
    credentials=RoistatCredentials,
    settings=RoistatSettings,
    streams=(
        StreamSpec("calls", lookback_days=3, kpi_kind="calls", switch="calls"),
        StreamSpec("statuses", snapshot=True, switch="orders", shown=False),
        StreamSpec("orders", lookback_days=30, kpi_kind="orders", switch="orders"),
        StreamSpec("proxyleads", lookback_days=3, kpi_kind="forms", switch="proxyleads"),
        StreamSpec("clients", snapshot=True),
    ),
    check=check,
    readers=readers,
    channel_value_label="Значение",
)
