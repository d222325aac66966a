"""How a connector's settings turn vendor rows into report conversions: static channels, the
Performance KPI filter, the project's calendar. Built once per connector run; no I/O.

Seeds 000 (Roistat) and 001 (Ringostat), "Коннекторы" page:
- Performance KPI: «Все обращения» keeps every contact; «Тегированные лиды» keeps contacts carrying
  one of the tags, "typed exactly as in the vendor's account" (exact, case-sensitive match);
  «Уникальные обращения» keeps first contacts only.
- Static channels: a static call-tracking channel shows in reports under the source / traffic type /
  campaign the user typed. A static call with no matching channel lands in «Неизвестная кампания
  (Undefined)», and so does anything else with no campaign: nothing is ever dropped for lacking one.

Static-channel matching (the "Параметр" column): each vendor's settings declare their rule
(`ChannelMatch`), `from_settings` passes it on.
- `PARAMETER_FIELD`, Roistat's (roistat-ringostat.md A6.1, A6.2): a static call carries `static_source`, the channel's
  marker (`system_name`, the `options.static_source` of its script) and the UTM marks set on the
  script. The parameter names which of these the value is compared with: `roistat` / `marker` /
  `маркер` / `system_name` → `system_name`; `utm_source` … `utm_content`, `openstat` → that key. Any
  other parameter is refused by the settings (it could never match). Parameter names are compared
  trimmed and case-folded (they name a field); values exactly. Rules apply to every row carrying a
  marker: a static call's `static_source`, and a deal's or proxy lead's `roistat` field when it holds
  a marker instead of a visit number (a deal made from a static call). When several match, the
  first row of the settings wins.
- `POOL_NAME`, Ringostat's (B2.2, seed 001): the value is the number pool's name, compared with the call's
  `pool_name` exactly; the parameter column is not consulted (the pool is the only key seed 001 has).

Marks: a value that is absent, empty, blank or GA's "(not set)" counts as no value; no source or
traffic type reads as `PLACEHOLDER` "(none)"; no campaign reads as the vendor's Undefined label
(`undefined_campaign`, declared by each vendor's spec).

Tags: one normalisation on both sides (`normalise_tag`: trimmed).

The hot path is plain: marks are tuples, static lookups are dicts prepared here, and conversions
are built without validation by `new_conversion` (the callers check the types themselves).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from leadhub.models.conversion import NOT_COUNTED, STATUS_GROUPS, UNDEFINED_CAMPAIGN, Conversion, Kind
from leadhub.models.settings import ChannelMatch, KpiMode, KpiSettings, StaticChannel, Vendor, normalise_tag

#: Source / traffic type of a conversion that has none.
PLACEHOLDER = "(none)"
#: GA's "no value" mark (Ringostat B2.2 sends GA-style marks).
NOT_SET = "(not set)"
COUNTED_STATUS_TYPES = frozenset(STATUS_GROUPS)

#: (source, traffic type, campaign, content, keyword, set by a static channel)
Marks = tuple[str, str, str, str | None, str | None, bool]

MARKER = "system_name"
#: Roistat static-channel parameter → the `static_source` key its value is compared with.
ROISTAT_PARAMETER_KEYS = {
    "roistat": MARKER,
    "marker": MARKER,
    "маркер": MARKER,
    "system_name": MARKER,
    "utm_source": "utm_source",
    "utm_medium": "utm_medium",
    "utm_campaign": "utm_campaign",
    "utm_term": "utm_term",
    "utm_content": "utm_content",
    "openstat": "openstat",
}

#: Hours of vendor time whose project date is remembered (a bound, so a long run cannot grow it).
_CACHE_LIMIT = 100_000
_UNKNOWN: Any = object()
_LAST_INSTANT_OF_HOUR = timedelta(hours=1, microseconds=-1)
_SECONDS = tuple(timedelta(seconds=second) for second in range(60))


def roistat_parameter_key(parameter: str) -> str | None:
    """The `static_source` key a Roistat static-channel parameter names; None for one Roistat has not."""
    return ROISTAT_PARAMETER_KEYS.get(parameter.strip().casefold())


def clean_mark(value: Any) -> str | None:
    """A UTM mark, or None when it carries nothing."""
    if value.__class__ is str:
        return value if value and value != NOT_SET and not value.isspace() else None
    if value is None or isinstance(value, bool | dict | list):
        return None
    return clean_mark(str(value))


def utm_marks(
    source: Any, medium: Any, campaign: Any, content: Any, term: Any, *, undefined: str = UNDEFINED_CAMPAIGN
) -> Marks:
    """Marks from a visit's UTM; no campaign means the vendor's Undefined campaign."""
    return (
        clean_mark(source) or PLACEHOLDER,
        clean_mark(medium) or PLACEHOLDER,
        clean_mark(campaign) or undefined,
        clean_mark(content),
        clean_mark(term),
        False,
    )


def channel_marks(channel: StaticChannel) -> Marks:
    return (channel.source, channel.traffic_type, channel.campaign, None, None, True)


def lenient_int(value: Any) -> int | None:
    """Ringostat mixes ints and numeric strings (B2.2): 36, "36", " 36 ", "36.0" → 36."""
    if value.__class__ is int:
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            number = lenient_float(text)
            return int(number) if number is not None and number.is_integer() else None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def lenient_float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip().replace(",", "."))
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def text_id(value: Any) -> str | None:
    """A vendor id as text: ids come as strings or numbers (fixtures: navessan tz variants)."""
    if value.__class__ is str:
        return value if value else None
    if value is None or isinstance(value, bool | dict | list):
        return None
    return str(value)


def row_tags(raw: Any) -> tuple[str, ...]:
    """Tags as strings from any shape seen or suspected (A6.1 [UNCERTAIN]): strings, {"name"|"title"},
    null, "a, b". Same reading as `leadhub.vendors.roistat.call_tags`, with a fast path for the usual
    list of clean strings."""
    if not raw:
        return ()
    if raw.__class__ is list:
        for item in raw:
            if item.__class__ is not str or not item or item[0].isspace() or item[-1].isspace():
                break
        else:
            return tuple(raw)
    elif isinstance(raw, str):
        raw = raw.split(",")
    else:
        return ()
    tags = []
    for item in raw:
        name = (item.get("name") or item.get("title")) if isinstance(item, Mapping) else item
        if isinstance(name, str | int) and str(name).strip():
            tags.append(normalise_tag(str(name)))
    return tuple(tags)


class ProjectClock:
    """Vendor timestamps → (UTC instant, date in the project's zone).

    A naive timestamp is read in `naive_zone`: UTC for Roistat (A5: "a value without an offset is
    read as UTC"; proxy leads and clients are documented UTC0). The project's date is remembered per
    hour of the vendor's text, so most rows pay for one ISO parse and one dict lookup.
    """

    __slots__ = ("_dates", "_minutes", "naive_zone", "zone")

    def __init__(self, zone: ZoneInfo, naive_zone: ZoneInfo | None = None) -> None:
        self.zone = zone
        self.naive_zone = naive_zone
        #: "YYYY-MM-DDTHH" + the text after the seconds (its offset) → the project date of that whole
        #: hour, or None when midnight or a clock change falls inside it (then each row is worked out).
        self._dates: dict[str, date | None] = {}
        #: "YYYY-MM-DDTHH:MM" + offset (the vendors' fixed `…T10:00:00+0300` text) → (the UTC instant
        #: the minute starts, its project date): a row then costs a slice, a lookup and an addition,
        #: no parse (a busy day holds 1 440 minutes and 50 000 calls).
        self._minutes: dict[str, tuple[datetime, date] | None] = {}

    def read(self, text: Any) -> tuple[datetime, date] | None:
        """None when the text is not an ISO-8601 timestamp."""
        if text.__class__ is str and len(text) == 24 and text[16] == ":" and text[19] in "+-":
            key = text[:16] + text[19:]
            minute = self._minutes.get(key, _UNKNOWN)
            if minute is _UNKNOWN:
                minute = self._remember_minute(key, text)
            if minute is not None:
                try:
                    return minute[0] + _SECONDS[int(text[17:19])], minute[1]
                except (ValueError, IndexError):
                    pass  # not seconds: read as any other text
        return self._read_any(text)

    def _remember_minute(self, key: str, text: str) -> tuple[datetime, date] | None:
        when = self._read_any(text[:17] + "00" + text[19:])
        if len(self._minutes) >= _CACHE_LIMIT:
            self._minutes.clear()
        self._minutes[key] = when
        return when

    def _read_any(self, text: Any) -> tuple[datetime, date] | None:
        try:
            moment = datetime.fromisoformat(text)
        except (TypeError, ValueError):
            return None
        original = moment
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.naive_zone or UTC)
            if self.naive_zone is not None:
                moment = moment.astimezone(UTC)
        elif moment.tzinfo is not UTC:
            moment = moment.astimezone(UTC)
        if 19 <= len(text) <= 25 and text[13] == ":" == text[16]:  # "YYYY-MM-DDTHH:MM:SS" + offset
            key = text[:13] + text[19:]
            local = self._dates.get(key, _UNKNOWN)
            if local is _UNKNOWN:
                local = self._remember_hour(key, moment, original)
            if local is not None:
                return moment, local
        return moment, moment.astimezone(self.zone).date()

    def _remember_hour(self, key: str, moment: datetime, original: datetime) -> date | None:
        start = moment - timedelta(minutes=original.minute, seconds=original.second, microseconds=original.microsecond)
        first = start.astimezone(self.zone)
        last = (start + _LAST_INSTANT_OF_HOUR).astimezone(self.zone)
        same = first.date() == last.date() and first.utcoffset() == last.utcoffset()
        if len(self._dates) >= _CACHE_LIMIT:
            self._dates.clear()
        local = self._dates[key] = first.date() if same else None
        return local


class AttributionRules:
    """One connector's attribution rules (see the module docstring)."""

    __slots__ = (
        "channel_match",
        "clock",
        "filters_contacts",
        "include_not_counted",
        "kpi_mode",
        "pool_marks",
        "roistat_channels",
        "tags",
        "undefined_campaign",
        "undefined_marks",
        "vendor",
        "zone",
    )

    def __init__(
        self,
        *,
        vendor: Vendor | str,
        kpi_mode: KpiMode | str = KpiMode.ALL,
        tags: Iterable[str] = (),
        static_channels: Iterable[StaticChannel] = (),
        channel_match: ChannelMatch | str = ChannelMatch.PARAMETER_FIELD,
        include_not_counted: bool = True,
        project_timezone: str | ZoneInfo = "UTC",
        undefined_campaign: str = UNDEFINED_CAMPAIGN,
        naive_timezone: str | None = None,
        parameter_key: Callable[[str], str | None] = roistat_parameter_key,
    ) -> None:
        """`parameter_key`: the row field a `PARAMETER_FIELD` channel's parameter names (None: none),
        the vendor's vocabulary (Roistat's `static_source` keys by default)."""
        self.vendor = Vendor(vendor)
        #: The vendor's label for no campaign (seed 000: «Неизвестная кампания (Undefined)»; 001: without it).
        self.undefined_campaign = undefined_campaign
        self.undefined_marks: Marks = (PLACEHOLDER, PLACEHOLDER, undefined_campaign, None, None, False)
        self.kpi_mode = KpiMode(kpi_mode)
        #: False in «Все обращения»: the hot loops then skip the filter altogether.
        self.filters_contacts = self.kpi_mode is not KpiMode.ALL
        #: Only the tagged mode filters by tags (settings' `effective_tags`).
        self.tags = frozenset(map(normalise_tag, tags)) if self.kpi_mode is KpiMode.TAGGED else frozenset()
        self.include_not_counted = include_not_counted
        self.zone = project_timezone if isinstance(project_timezone, ZoneInfo) else ZoneInfo(project_timezone)
        self.clock = ProjectClock(self.zone, ZoneInfo(naive_timezone) if naive_timezone else None)
        channels = list(static_channels)
        #: The vendor's matching rule (its settings' `channel_match`).
        self.channel_match = ChannelMatch(channel_match)
        #: `POOL_NAME`: pool name → marks; the first row of the settings wins.
        self.pool_marks: dict[str, Marks] = {}
        #: `PARAMETER_FIELD`: (`static_source` key, {value: (settings row, marks)}), keys in first-use order.
        self.roistat_channels: tuple[tuple[str, dict[str, tuple[int, Marks]]], ...] = ()
        if self.channel_match is ChannelMatch.POOL_NAME:
            for channel in channels:
                self.pool_marks.setdefault(channel.value, channel_marks(channel))
        else:
            by_key: dict[str, dict[str, tuple[int, Marks]]] = {}
            for row, channel in enumerate(channels):
                key = parameter_key(channel.parameter)
                if key is not None:  # the settings refuse any other parameter
                    by_key.setdefault(key, {}).setdefault(channel.value, (row, channel_marks(channel)))
            self.roistat_channels = tuple(by_key.items())

    @classmethod
    def from_settings(
        cls,
        settings: BaseModel,
        *,
        project_timezone: str | ZoneInfo,
        undefined_campaign: str = UNDEFINED_CAMPAIGN,
        naive_timezone: str | None = None,
    ) -> AttributionRules:
        """Rules from validated Roistat or Ringostat settings (they declare how their static channels
        match), with the vendor's facts (its spec)."""
        if not isinstance(settings, KpiSettings):
            raise TypeError(f"no attribution rules for {type(settings).__name__}")
        return cls(
            vendor=settings.vendor,
            kpi_mode=settings.kpi_mode,
            tags=settings.effective_tags(),
            static_channels=settings.static_channels,
            channel_match=settings.channel_match,
            include_not_counted=getattr(settings, "include_not_counted", True),
            project_timezone=project_timezone,
            undefined_campaign=undefined_campaign,
            naive_timezone=naive_timezone,
            parameter_key=getattr(settings, "channel_parameter_key", roistat_parameter_key),
        )

    def utm_marks(self, source: Any, medium: Any, campaign: Any, content: Any, term: Any) -> Marks:
        return utm_marks(source, medium, campaign, content, term, undefined=self.undefined_campaign)

    def keeps(self, tags: tuple[str, ...], unique: bool) -> bool:
        """The Performance KPI filter for a contact (call, form, chat)."""
        mode = self.kpi_mode
        if mode is KpiMode.ALL:
            return True
        if mode is KpiMode.UNIQUE:
            return unique
        return not self.tags.isdisjoint(tags)

    def counts_status(self, status_type: str) -> bool:
        """Deals in «Не учитывается» count only when the setting says so (seed 000)."""
        return self.include_not_counted or status_type != NOT_COUNTED

    def static_marks(self, static_source: Mapping[str, Any]) -> Marks | None:
        """The marks of the first settings row matching a Roistat `static_source`, if any."""
        found: tuple[int, Marks] | None = None
        for key, values in self.roistat_channels:
            value = static_source.get(key)
            hit = values.get(value) if value.__class__ is str else None
            if hit is not None and (found is None or hit[0] < found[0]):
                found = hit
        return found[1] if found is not None else None


# --- windows --------------------------------------------------------------------------------------


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def trim_to_window(
    rows: Iterable[dict[str, Any]], field: str, start: datetime, end: datetime, clock: ProjectClock
) -> list[dict[str, Any]]:
    """The rows whose `field` falls in [start, end): a vendor may answer more than it was asked (or
    ignore a filter), and a day must hold only its own rows. Roistat's usual `…+0000` text is compared
    as text; anything else is read by the clock. A row whose time cannot be read belongs to no day."""
    low, high = _utc_text(start), _utc_text(end)
    exact = start.microsecond == 0 == end.microsecond
    kept = []
    for row in rows:
        text = row.get(field)
        if exact and text.__class__ is str and len(text) == 24 and text.endswith("+0000") and text[10] == "T":
            if low <= text[:19] < high:
                kept.append(row)
            continue
        when = clock.read(text)
        if when is not None and start <= when[0] < end:
            kept.append(row)
    return kept


# --- first contacts -------------------------------------------------------------------------------

#: (UTC instant as ISO text, contact id): orders contacts in time, ties by id, so any reading order agrees.
FirstSeen = tuple[str, str]


def contact_key(phone: Any, email: Any = None) -> str | None:
    """Who made a contact: the phone's digits (a Russian 8… number read as 7…), else the e-mail
    (trimmed, case-folded); None when neither is known."""
    text = phone if phone.__class__ is str else (text_id(phone) or "")
    digits = text if text.isdigit() else "".join(char for char in text if char.isdigit())
    if digits:
        return "7" + digits[1:] if len(digits) == 11 and digits[0] == "8" else digits
    if isinstance(email, str) and email.strip():
        return "email:" + email.strip().casefold()
    return None


class FirstContactIndex:
    """When each person first contacted a connector, across days and streams (calls, forms, chats).
    A contact is a first contact (KPI «Уникальные обращения») when no contact of the same person came
    earlier. Recording keeps the earliest, so recording days again, in any order, changes nothing."""

    __slots__ = ("changed", "first")

    def __init__(self, first: dict[str, list[str]] | None = None) -> None:
        #: person → [instant, contact id] of their earliest contact (lists: what JSON gives back).
        self.first: dict[str, list[str]] = first if first is not None else {}
        self.changed = False

    def record(self, key: str | None, instant: datetime, contact_id: str) -> None:
        if key is None:
            return
        seen = (instant.isoformat(), contact_id)
        known = self.first.get(key)
        if known is None or seen < (known[0], known[1]):
            self.first[key] = list(seen)
            self.changed = True

    def is_first(self, key: str | None, instant: datetime, contact_id: str) -> bool:
        """True unless an earlier contact of the same person is recorded (record this one first)."""
        if key is None:
            return True
        known = self.first.get(key)
        return known is None or (instant.isoformat(), contact_id) <= (known[0], known[1])


# --- building conversions without validation ---------------------------------------------------

_new_object = Conversion.__new__
# The slots every pydantic model carries, set through their descriptors: cheaper than setattr by name.
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def _fast_constructor() -> Callable[[dict[str, Any]], Conversion]:
    # What `model_construct` does, minus its per-field default handling: ~10× cheaper (it is even
    # slower than validating). `values` must hold every field, already of its declared type.
    fields_set = frozenset(Conversion.model_fields)

    def construct(values: dict[str, Any]) -> Conversion:
        model = _new_object(Conversion)
        _set_dict(model, values)
        _set_fields_set(model, fields_set)
        _set_extra(model, None)
        _set_private(model, None)
        return model

    return construct


def _construct_safe(values: dict[str, Any]) -> Conversion:
    return Conversion.model_construct(**values)


def _fast_path_agrees(construct: Callable[[dict[str, Any]], Conversion]) -> bool:
    """Guards against a pydantic upgrade changing model internals: the fast path must build the very
    model validation builds."""
    sample: dict[str, Any] = {
        "vendor": "v",
        "stream": "calls",
        "vendor_id": "1",
        "vendor_account_id": "1",
        "kind": Kind.CALL,
        "occurred_at": datetime(2024, 1, 1, tzinfo=UTC),
        "local_date": date(2024, 1, 1),
        "source": "s",
        "traffic_type": "t",
        "campaign": "c",
        "content": None,
        "keyword": None,
        "tags": ("a",),
        "unique": True,
        "static_channel": False,
        "inquiry": True,
        "status": None,
        "status_type": None,
        "revenue": None,
        "forecast_revenue": None,
        "visit_id": None,
        "ga_client_id": None,
        "extra": {"n": 1},
    }
    try:
        fast = construct(dict(sample))
        validated = Conversion(**sample)
        return list(sample) == list(Conversion.model_fields) and fast == validated and fast.model_dump() == sample
    except Exception:
        return False


@cache
def _constructor() -> Callable[[dict[str, Any]], Conversion]:
    # decided on first use, not at import: the check builds the Conversion model, which a function
    # that never makes one (the API, the backfill) should not pay for at its cold start
    fast = _fast_constructor()
    return fast if _fast_path_agrees(fast) else _construct_safe


def new_conversion(values: dict[str, Any]) -> Conversion:
    """A Conversion from a dict holding every field in declaration order, values already typed."""
    return _constructor()(values)


Rejected = Callable[[Mapping[str, Any], str], None]


def conversion_values(  # noqa: PLR0917  (every conversion has these eight; positional reads like the row)
    vendor: str,
    stream: str,
    vendor_id: str,
    vendor_account_id: str,
    kind: Kind,
    when: tuple[datetime, date],
    marks: Marks,
    extra: dict[str, Any],
    *,
    tags: tuple[str, ...] = (),
    unique: bool = True,
    inquiry: bool = True,
    status: str | None = None,
    status_type: str | None = None,
    revenue: float | None = None,
    forecast_revenue: float | None = None,
    visit_id: str | None = None,
    ga_client_id: str | None = None,
) -> dict[str, Any]:
    """The one place a conversion's fields are laid out, as the dict a `Conversion` is made of (and a
    partition stores, `models.conversion.stored_rows`): `when` is (UTC instant, project-local date) as
    the clock reads it, `marks` what attribution decided. Values must already be of their declared type."""
    return {
        "vendor": vendor,
        "stream": stream,
        "vendor_id": vendor_id,
        "vendor_account_id": vendor_account_id,
        "kind": kind,
        "occurred_at": when[0],
        "local_date": when[1],
        "source": marks[0],
        "traffic_type": marks[1],
        "campaign": marks[2],
        "content": marks[3],
        "keyword": marks[4],
        "tags": tags,
        "unique": unique,
        "static_channel": marks[5],
        "inquiry": inquiry,
        "status": status,
        "status_type": status_type,
        "revenue": revenue,
        "forecast_revenue": forecast_revenue,
        "visit_id": visit_id,
        "ga_client_id": ga_client_id,
        "extra": extra,
    }


def _as_conversion[**Fields](values: Callable[Fields, dict[str, Any]]) -> Callable[Fields, Conversion]:
    def build(*args: Fields.args, **fields: Fields.kwargs) -> Conversion:
        return new_conversion(values(*args, **fields))

    build.__doc__ = "A `Conversion` of `conversion_values`' arguments."
    return build


build_conversion = _as_conversion(conversion_values)


def as_conversions[**Args](values: Callable[Args, Iterable[dict[str, Any]]]) -> Callable[Args, Iterator[Conversion]]:
    """A normaliser of conversions' fields (what the engine stores) as one of `Conversion` models."""

    def conversions(*args: Args.args, **kwargs: Args.kwargs) -> Iterator[Conversion]:
        return map(_constructor(), values(*args, **kwargs))

    return conversions


def reject(rejected: Rejected | None, row: Mapping[str, Any], reason: str) -> None:
    """Tell the caller (who may log or count it) about a row that cannot become a conversion."""
    if rejected is not None:
        rejected(row, reason)
