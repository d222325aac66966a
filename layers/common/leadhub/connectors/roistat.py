"""Roistat: call tracking, orders, proxy leads (forms and chats) and the client report."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import ConfigDict, Field, field_validator

from leadhub.attribution.rules import ROISTAT_PARAMETER_KEYS, roistat_parameter_key, trim_to_window
from leadhub.connectors.spec import StreamSpec, VendorSpec
from leadhub.models.base import DeferredModel
from leadhub.models.conversion import Conversion
from leadhub.models.credentials import Key, VendorAccount, VendorCredentials, Verified, verified
from leadhub.models.settings import ChannelMatch, KpiSettings, StaticChannel, Vendor
from leadhub.settings import Settings, get_settings
from leadhub.vendors.errors import FeatureDisabled

if TYPE_CHECKING:
    # loaded by the functions that use them: the API declares a vendor's settings and checks its key,
    # and never reads a day
    from leadhub.extract.streams import ExtractionInputs, StreamReaders
    from leadhub.vendors.roistat import RoistatClient

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_EPOCH_NEXT_SECOND = _EPOCH + timedelta(seconds=1)


class RoistatCredentials(VendorCredentials):
    api_key: Key = Field(
        description="The secret API key («секретный ключ»): Roistat → Профиль → Настройки → API. The «Управление "
        "клиентами» module must be on, with «Просмотр контактных данных клиента» allowed."
    )


class RoistatStreams(DeferredModel):
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
    #: A6.1, A6.2: the parameter names the `static_source` key the value is compared with.
    channel_match: ClassVar[ChannelMatch] = ChannelMatch.PARAMETER_FIELD
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

    @classmethod
    def channel_match_key(cls, channel: StaticChannel) -> tuple[str, str]:
        """Roistat compares the value with the `static_source` field the parameter names: `roistat` and
        `marker` both name the marker, so they are one key. A parameter Roistat has not is refused."""
        key = roistat_parameter_key(channel.parameter)
        if key is None:
            known = ", ".join(ROISTAT_PARAMETER_KEYS)
            raise ValueError(
                f"parameter {channel.parameter!r} of the channel with value {channel.value!r} is not one Roistat "
                f"sets on a static channel; use one of: {known}"
            )
        return (key, channel.value)

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
    from leadhub.vendors.roistat import RoistatClient

    settings = settings or get_settings()
    return RoistatClient(str(credentials["api_key"]), base_url=settings.roistat_base_url)


#: What a Roistat module being off stops, and how to fix it (its plain name is the client's OPTION_NAMES).
MODULE_OFF = {
    "calltracking": "the calls stream cannot load (switch it off in the settings, or switch call tracking on "
    "in Roistat)",
    "clients": "the client report the dashboard needs cannot load (switch the module on in Roistat; only the "
    "project owner can)",
}


def modules_off(roistat: RoistatClient, project: int) -> list[str]:
    """What Roistat modules the connector needs are off in the project, in plain words (seed 000): call
    tracking for the calls stream, «Управление клиентами» for the client report (always on)."""
    from leadhub.vendors.roistat import OPTION_NAMES

    probes = {
        "calltracking": lambda: next(iter(roistat.iter_calls(project, _EPOCH, _EPOCH_NEXT_SECOND, page_size=1)), None),
        "clients": lambda: next(iter(roistat.iter_clients(project, page_size=1)), None),
    }
    off = []
    for module, probe in probes.items():
        try:
            probe()
        except FeatureDisabled:
            off.append(f"{OPTION_NAMES[module]} is off in this Roistat project: {MODULE_OFF[module]}")
    return off


def check(secret: dict[str, Any]) -> Verified:
    """The key works when it lists projects; the user picks one of them. Each project is asked whether
    the modules the connector needs are on, and the answer says which are off."""
    roistat = client(secret)
    projects = roistat.list_projects()
    notes = [
        f"project {project.id} ({project.name}): {problem}"
        for project in projects
        for problem in modules_off(roistat, project.id)
    ]
    accounts = [VendorAccount(id=str(p.id), name=p.name) for p in projects]
    return verified(Vendor.ROISTAT, secret, accounts, note="; ".join(notes) or None)


#: Proxy leads are read a day either side of the asked one: Roistat does not say in which zone the
#: `period` days are (A6.5), and every row is then trimmed to the asked window by its instant.
LEAD_PERIOD_MARGIN = timedelta(days=1)
#: Deals are read from this long before the first day asked, so a proxy lead finds the deal it was made for.
DEAL_MARGIN = timedelta(days=2)


def readers(inputs: ExtractionInputs) -> StreamReaders:
    """Calls and proxy leads by day; orders by creation day, with a long lookback (status and revenue
    change late) and the status dictionary re-read every run; the client report as a daily snapshot
    (roistat-ringostat.md A7). Every day holds only the rows of its window, whatever the vendor answers.

    First contacts are shared by calls and proxy leads (one index per connector). Streams run one after
    the other, so when the calls of a day are read, that day's proxy leads are read too (kept for the
    proxy-leads stream) and recorded: a form filled before a call makes the call a repeat contact."""
    from leadhub.attribution import roistat as attribution
    from leadhub.extract.first_contacts import FirstContacts
    from leadhub.extract.prefetch import RangePrefetch

    roistat = client(inputs.secret)
    connector, rules = inputs.connector, inputs.rules
    project, account = int(connector.vendor_account_id), connector.vendor_account_id
    first_contacts = FirstContacts.for_connector(connector.project_id, connector.id)
    statuses = inputs.statuses if inputs.statuses is not None else []
    streams_on = RoistatStreams.model_validate(connector.settings.get("streams") or {})
    clock = rules.clock

    def status_dictionary(day: date, start: datetime, end: datetime) -> Iterable[dict[str, Any]]:
        # small and changing: read whole on every run, kept raw so orders can be re-attributed
        statuses[:] = roistat.list_statuses(project)
        return statuses

    def created(row: dict[str, Any]) -> datetime | None:
        when = clock.read(row.get("creation_date"))
        return when[0] if when else None

    # with the visit: its marks are the order's source (at Roistat's stricter rate for it)
    order_range = RangePrefetch(lambda start, end: roistat.iter_orders(project, start, end, extend_visit=True), created)

    def orders(day: date, start: datetime, end: datetime) -> Iterable[dict[str, Any]]:
        return order_range.read(start, end)

    leads_by_day: dict[date, list[dict[str, Any]]] = {}

    def proxy_leads(day: date, start: datetime, end: datetime) -> list[dict[str, Any]]:
        # a lead carries only its visit's id: the visit (its marks) and its deal are kept with the raw lead
        if day in leads_by_day:
            return leads_by_day.pop(day)
        answered = roistat.proxy_leads_between(project, day - LEAD_PERIOD_MARGIN, day + LEAD_PERIOD_MARGIN)
        leads = trim_to_window(answered, "creation_date", start, end, clock)
        visits = roistat.visits(project, (str(lead["roistat"]) for lead in leads if lead.get("roistat")))
        # read even with the orders stream off: without its deal an artificial lead passes for an inquiry
        deals = _deals_by_id(order_range.read(start - DEAL_MARGIN, end))
        kept = [
            {**lead, "visit": visits.get(str(lead.get("roistat"))), "order": deals.get(str(lead.get("order_id")))}
            for lead in leads
        ]
        return kept

    def calls_and_their_days_leads(day: date, start: datetime, end: datetime) -> Iterable[dict[str, Any]]:
        rows = trim_to_window(roistat.iter_calls(project, start, end), "date", start, end, clock)
        if streams_on.proxyleads:
            leads_by_day[day] = proxy_leads(day, start, end)
            list(attribution.normalise_proxy_leads(leads_by_day[day], rules, account, contacts=first_contacts.index))
        return rows

    def clients(day: date, start: datetime, end: datetime) -> Iterable[dict[str, Any]]:
        return roistat.iter_clients(project)

    def normalise_calls(rows: list[dict[str, Any]], day: date) -> Iterable[Conversion]:
        conversions = list(attribution.normalise_calls(rows, rules, account, contacts=first_contacts.index))
        first_contacts.save()
        return conversions

    def normalise_orders(rows: list[dict[str, Any]], day: date) -> Iterable[Conversion]:
        return attribution.normalise_orders(rows, statuses, rules, account)

    def normalise_leads(rows: list[dict[str, Any]], day: date) -> Iterable[Conversion]:
        conversions = list(attribution.normalise_proxy_leads(rows, rules, account, contacts=first_contacts.index))
        first_contacts.save()
        return conversions

    return {
        "calls": (calls_and_their_days_leads, normalise_calls),
        "statuses": (status_dictionary, None),
        "orders": (orders, normalise_orders),
        "proxyleads": (proxy_leads, normalise_leads),
        "clients": (clients, None),
    }


def _deals_by_id(rows: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What a proxy lead keeps of its deal: enough to tell an artificial lead from a genuine one."""
    return {
        str(row["id"]): {
            "id": str(row["id"]),
            "creation_date": row.get("creation_date"),
            "source_type": row.get("source_type"),
        }
        for row in rows
        if row.get("id") is not None
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
