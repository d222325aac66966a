"""Calltouch: call tracking by site — its calls diary and its requests (form leads); the plan-metrics
import is not a stream (it writes to Calltouch, with its own progress)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo

from pydantic import ConfigDict, Field, StringConstraints

from leadhub.connectors.spec import StreamSpec, VendorSpec
from leadhub.models.base import DeferredModel
from leadhub.models.conversion import Conversion
from leadhub.models.credentials import Key, VendorAccount, VendorCredentials, Verified, verified
from leadhub.models.settings import ChannelMatch, KpiSettings, StaticChannel, Vendor
from leadhub.settings import Settings, get_settings

if TYPE_CHECKING:
    # loaded by the functions that use them: the API declares a vendor's settings and checks its key,
    # and never reads a day
    from leadhub.extract.prefetch import RangePrefetch
    from leadhub.extract.streams import ExtractionInputs, StreamReaders
    from leadhub.vendors.calltouch import CalltouchClient
    from leadhub.vendors.ratelimit import RateLimiter


class CalltouchCredentials(VendorCredentials):
    access_token: Key = Field(description="«Access-Token» — API-ключ of the Calltouch account.")
    site_id: Annotated[str, StringConstraints(pattern=r"^\d{1,12}$")] = Field(
        description="«SiteId» — ID ЛК Calltouch: the number of the Calltouch site (account)."
    )


class CalltouchStreams(DeferredModel):
    model_config = ConfigDict(extra="forbid")

    calls: bool = Field(default=True, description="«Звонки»: the calls diary («Журнал звонков»).")
    requests: bool = Field(default=True, description="«Заявки»: requests from site forms («Журнал заявок»).")


class CalltouchSettings(KpiSettings):
    #: The parameter names a field of the call (the tracking number, a mark), compared with the value.
    channel_match: ClassVar[ChannelMatch] = ChannelMatch.PARAMETER_FIELD
    vendor: Literal[Vendor.CALLTOUCH] = Vendor.CALLTOUCH
    streams: CalltouchStreams = Field(
        default_factory=CalltouchStreams, description="Which of Calltouch's journals load."
    )

    @staticmethod
    def channel_parameter_key(parameter: str) -> str | None:
        from leadhub.attribution import calltouch as attribution

        return attribution.parameter_key(parameter)

    @classmethod
    def channel_match_key(cls, channel: StaticChannel) -> tuple[str, str]:
        """A parameter naming the same call field is one key; a parameter no call has is refused."""
        key = cls.channel_parameter_key(channel.parameter)
        if key is None:
            raise ValueError(
                f"parameter {channel.parameter!r} of the channel with value {channel.value!r} is not a field of a "
                "Calltouch call; use phoneNumber (the tracking number dialled), source, medium, utm_source, "
                "utm_medium, utm_campaign, utm_content or utm_term"
            )
        return (key, channel.value)


def client(
    credentials: Mapping[str, Any], settings: Settings | None = None, *, limiter: RateLimiter | None = None
) -> CalltouchClient:
    """`limiter`: Calltouch's per-IP limit shared with other senders (plan imports); by default the
    client's own, per process."""
    from leadhub.vendors.calltouch import CalltouchClient

    settings = settings or get_settings()
    return CalltouchClient(
        str(credentials["access_token"]),
        str(credentials["site_id"]),
        base_url=settings.calltouch_base_url,
        limiter=limiter,
    )


def check(secret: dict[str, Any]) -> Verified:
    """The token works when it opens its site; the site is the account."""
    client(secret).verify_site()
    return verified(Vendor.CALLTOUCH, secret, [VendorAccount(id=str(secret["site_id"]))])


#: Calltouch names its days without a zone [GAP]: a day either side is read too, and rows are kept
#: by their instant, so a Calltouch project keeping another zone loses nothing at the day's edges.
DAY_MARGIN = timedelta(days=1)
#: Days read per request sweep: few requests (5 a second, API points per request), bounded memory.
PREFETCH_SPAN = timedelta(days=7)

DateRangeReader = Callable[[date, date], Iterator[dict[str, Any]]]


def _dated_prefetch(
    read: DateRangeReader, instant: Callable[[dict[str, Any]], datetime | None], zone: ZoneInfo
) -> RangePrefetch:
    """Rows of a Calltouch journal asked for by days of the Calltouch project, served by instant."""
    from leadhub.extract.prefetch import RangePrefetch

    def fetch(start: datetime, end: datetime) -> Iterable[dict[str, Any]]:
        first = (start - DAY_MARGIN).astimezone(zone).date()
        # no day after tomorrow: nothing is there yet, and the vendor need not be asked
        last = min((end + DAY_MARGIN).astimezone(zone).date(), datetime.now(zone).date() + timedelta(days=1))
        return read(first, last) if first <= last else ()

    return RangePrefetch(fetch, instant, span=PREFETCH_SPAN)


def readers(inputs: ExtractionInputs) -> StreamReaders:
    """Calls and requests by day (calltouch-amocrm.md A4, A5), each journal read a week per sweep and
    every day holding only the rows of its window. Tags are always asked for: a later switch to the
    tagged KPI mode re-attributes the stored rows without asking Calltouch again."""
    from leadhub.attribution import calltouch as attribution

    settings = CalltouchSettings.model_validate({**inputs.connector.settings, "vendor": Vendor.CALLTOUCH})
    zone = ZoneInfo(settings.vendor_timezone or inputs.zone)
    calltouch = client(inputs.secret, limiter=inputs.limiter)
    rules, account = inputs.rules, inputs.connector.vendor_account_id

    def call_instant(row: dict[str, Any]) -> datetime | None:
        return attribution.moment(row.get("timestamp"), row.get("date"), milliseconds=False, vendor_zone=zone)

    def request_instant(row: dict[str, Any]) -> datetime | None:
        return attribution.moment(row.get("date"), row.get("dateStr"), milliseconds=True, vendor_zone=zone)

    calls_range = _dated_prefetch(
        lambda first, last: calltouch.iter_calls(first, last, with_tags=True), call_instant, zone
    )
    requests_range = _dated_prefetch(
        lambda first, last: calltouch.iter_requests(first, last, with_tags=True), request_instant, zone
    )

    def calls(day: date, start: datetime, end: datetime) -> Iterable[dict[str, Any]]:
        return calls_range.read(start, end)

    def requests(day: date, start: datetime, end: datetime) -> Iterable[dict[str, Any]]:
        return requests_range.read(start, end)

    def normalise_calls(rows: list[dict[str, Any]], day: date) -> Iterable[Conversion]:
        return attribution.normalise_calls(rows, rules, account, vendor_zone=zone)

    def normalise_requests(rows: list[dict[str, Any]], day: date) -> Iterable[Conversion]:
        return attribution.normalise_requests(rows, rules, account, vendor_zone=zone)

    return {"calls": (calls, normalise_calls), "requests": (requests, normalise_requests)}


#: The settings Swagger UI offers for a Calltouch connector's "Try it out".
SETTINGS_EXAMPLE: dict[str, Any] = {
    "kpi_mode": "unique",
    "static_channels": [
        {
            "parameter": "phoneNumber",
            "value": "74957770001",
            "source": "Наружная реклама",
            "traffic_type": "Оффлайн",
            "campaign": "Билборды — Москва",
        }
    ],
    "streams": {"calls": True, "requests": True},
}

SPEC = VendorSpec(
    settings_example=SETTINGS_EXAMPLE,
    vendor=Vendor.CALLTOUCH,
    title="Calltouch",
    check_sees="the site the token opens",
    credentials=CalltouchCredentials,
    settings=CalltouchSettings,
    streams=(
        StreamSpec("calls", lookback_days=3, kpi_kind="calls", switch="calls"),
        StreamSpec("requests", lookback_days=3, kpi_kind="forms", switch="requests"),
    ),
    check=check,
    readers=readers,
    channel_value_label="Значение",
)
