"""Roistat rows → conversions (roistat-ringostat.md A6.1 calls, A6.3 orders, A6.4 statuses, A6.5 proxy
leads, A6.6 clients; seed 000). Pure: rows in, conversions out.

- Calls (A6.1): a static call (`static_source` non-null) takes the marks of the matching static channel
  (see `rules`), or lands in the Undefined campaign with the source / medium of its `static_source`. A
  dynamic call takes the UTM of its visit (`visit.source.utm_*`, the client asks for `extend:["visit"]`);
  with no visit UTM source, the level-1 marker names the source. No visit: Undefined.
- Markers on deals and proxy leads: their `roistat` field holds the visit number, or — for a deal made
  from a static call, and the proxy lead Roistat makes for it — the channel's marker (any text that is
  not a number). A marker is matched against the static channels as a static call's is.
- First contact (KPI «Уникальные обращения»): Roistat sends no such flag. A call or a genuine proxy lead
  is a first contact when no earlier call or proxy lead of the same person (phone, else e-mail) is in the
  `FirstContactIndex` the caller carries across days and streams (each batch is recorded into it first).
- Orders (A6.3, A6.4): status name and group come from the status dictionary (`status/list`), falling
  back to the status object on the deal. A type other than progress / paid / canceled — null, absent,
  or a status missing from the dictionary — is «Не учитывается» (`NOT_COUNTED`): such deals are left out
  when `include_not_counted` is off. Revenue is the amount of a paid deal, forecast revenue that of a
  deal in progress or paid. Deals are not inquiries: the KPI filter does not apply.
- Proxy leads (A6.5): forms, chats and other non-call contacts. Kind: chat when the lead's `title`
  names a chat or messenger (a word starting with чат / chat, or jivo, whatsapp, telegram, viber,
  мессенджер, messenger), else form. Seed 000: Roistat also creates proxy leads "artificially" for CRM
  deals that had no inquiry. Such a lead comes after its deal, while a genuine one creates its deal, so
  a lead whose deal (`order`, attached at extraction) was created at or before it is artificial: kept,
  but not an inquiry and never a first contact. Marks come from its `visit` (attached at extraction),
  or `visits` when given, or its marker, else Undefined. Proxy leads carry no tags: the tagged mode
  keeps none.
- Clients (A6.6) are not conversions: `normalise_clients` gives plain JSON-ready rows for the client
  report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from leadhub.attribution.rules import (
    COUNTED_STATUS_TYPES,
    PLACEHOLDER,
    AttributionRules,
    FirstContactIndex,
    Marks,
    ProjectClock,
    Rejected,
    build_conversion,
    clean_mark,
    contact_key,
    lenient_float,
    lenient_int,
    reject,
    row_tags,
    text_id,
)
from leadhub.models.conversion import NOT_COUNTED, UNDEFINED_CAMPAIGN, Conversion, Kind, deal_revenues

VENDOR = "roistat"
CALL = Kind.CALL
ORDER = Kind.ORDER

CHAT_TITLE = re.compile(r"(?i)\b(?:чат|chat)|jivo|whatsapp|telegram|viber|мессенджер|messenger")

Visits = Mapping[str, Mapping[str, Any]]
#: Distinct visit sources remembered per batch (a bound, should a batch hold an unusual variety).
KNOWN_SOURCES_LIMIT = 50_000


# --- marks -----------------------------------------------------------------------------------------


def source_marks(source: Mapping[str, Any], undefined: str = UNDEFINED_CAMPAIGN) -> Marks:
    """Marks of a visit's `source` object: its UTM, the level-1 marker standing in for a missing utm_source."""
    campaign = clean_mark(source.get("utm_campaign"))
    return (
        clean_mark(source.get("utm_source")) or _level_1_marker(source) or PLACEHOLDER,
        clean_mark(source.get("utm_medium")) or PLACEHOLDER,
        campaign or undefined,
        clean_mark(source.get("utm_content")),
        clean_mark(source.get("utm_term")),
        False,
    )


def _level_1_marker(source: Mapping[str, Any]) -> str | None:
    levels = source.get("system_name_by_level")
    if isinstance(levels, list) and levels:
        return clean_mark(levels[0])
    return clean_mark(source.get("system_name"))


def unmatched_static_marks(static_source: Mapping[str, Any], undefined: str = UNDEFINED_CAMPAIGN) -> Marks:
    """A static channel nobody configured: Undefined (seed 000), keeping what source it names."""
    source, medium, _, content, keyword, _ = source_marks(static_source)
    return (source, medium, undefined, content, keyword, False)


def marker_in(value: Any) -> str | None:
    """The marker a deal's or proxy lead's `roistat` field holds instead of a visit number, if any."""
    text = text_id(value)
    if text is None or text.isdigit():
        return None
    return clean_mark(text.strip())


class Attribution:
    """Marks of calls, deals and leads under one connector's rules. A batch holds few distinct sources
    (visit sources, static channels), so each one's marks are worked out once."""

    __slots__ = ("_known", "rules")

    def __init__(self, rules: AttributionRules) -> None:
        self.rules = rules
        self._known: dict[tuple[Any, ...], Marks] = {}

    def call(self, static_source: Any, visit: Mapping[str, Any] | None) -> Marks:
        """Static channel first: `static_source` is filled only for static call tracking (A6.1)."""
        if static_source:
            if static_source.__class__ is dict:
                return self._remembered(static_source, static=True)
            if isinstance(static_source, str):  # a bare marker, should a payload ever send one
                return self._work_out({"system_name": static_source}, static=True)
            if isinstance(static_source, Mapping):
                return self._work_out(static_source, static=True)
            return self.rules.undefined_marks
        return self.visit(visit)

    def visit(self, visit: Mapping[str, Any] | None, roistat: Any = None) -> Marks:
        """A deal's or proxy lead's marks: its visit's source, else the marker its `roistat` field holds."""
        source = visit.get("source") if visit else None
        if source.__class__ is dict:
            return self._remembered(source, static=False)
        if source and isinstance(source, Mapping):
            return self._work_out(source, static=False)
        marker = marker_in(roistat) if roistat is not None else None
        if marker is not None:
            return self._remembered({"system_name": marker, "system_name_by_level": [marker]}, static=True)
        return self.rules.undefined_marks

    def _remembered(self, source: dict[str, Any], *, static: bool) -> Marks:
        get = source.get
        key = (
            static,
            get("system_name"),
            get("utm_source"),
            get("utm_medium"),
            get("utm_campaign"),
            get("utm_content"),
            get("utm_term"),
            get("openstat"),
        )
        try:
            marks = self._known.get(key)
        except TypeError:  # a mark that is not text: unusual, not worth remembering
            return self._work_out(source, static=static)
        if marks is None:
            if len(self._known) >= KNOWN_SOURCES_LIMIT:
                self._known.clear()
            marks = self._known[key] = self._work_out(source, static=static)
        return marks

    def _work_out(self, source: Mapping[str, Any], *, static: bool) -> Marks:
        undefined = self.rules.undefined_campaign
        if static:
            return self.rules.static_marks(source) or unmatched_static_marks(source, undefined)
        return source_marks(source, undefined)


def visit_index(rows: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Visit id → visit, from rows read with `extend:["visit"]` (calls, orders): lets proxy leads and
    orders without their own visit be attributed."""
    visits: dict[str, Mapping[str, Any]] = {}
    for row in rows:
        visit = row.get("visit")
        visit_id = text_id(visit.get("id")) if isinstance(visit, Mapping) else None
        if visit_id is not None:
            visits[visit_id] = visit  # type: ignore[assignment]
    return visits


# --- calls -----------------------------------------------------------------------------------------


def normalise_calls(
    rows: Iterable[Mapping[str, Any]],
    rules: AttributionRules,
    vendor_account_id: str,
    *,
    contacts: FirstContactIndex | None = None,
    rejected: Rejected | None = None,
) -> Iterator[Conversion]:
    """One conversion per call the KPI mode keeps (A6.1); rows with no id or date go to `rejected`."""
    index = FirstContactIndex() if contacts is None else contacts
    account = str(vendor_account_id)
    read_time = rules.clock.read
    filtering = rules.filters_contacts
    keeps = rules.keeps
    marks_of = Attribution(rules).call
    readable = []
    for row in rows:
        call_id = text_id(row.get("id"))
        when = read_time(row.get("date"))
        if call_id is None or when is None:
            reject(rejected, row, "a call needs an id and a date")
            continue
        person = contact_key(row.get("caller"))
        index.record(person, when[0], call_id)
        readable.append((row, call_id, when, person))
    for row, call_id, when, person in readable:
        raw_tags = row.get("tags")
        tags = row_tags(raw_tags) if raw_tags else ()
        unique = index.is_first(person, when[0], call_id)
        if filtering and not keeps(tags, unique):
            continue
        visit = row.get("visit")
        if visit is not None and visit.__class__ is not dict and not isinstance(visit, Mapping):
            visit = None
        marks = marks_of(row.get("static_source"), visit)
        visit_id = row.get("visit_id") or (visit.get("id") if visit else None)
        status = row.get("status")
        yield build_conversion(
            VENDOR,
            "calls",
            call_id,
            account,
            CALL,
            when,
            marks,
            {
                "duration": lenient_int(row.get("duration")),
                "answer_duration": lenient_int(row.get("answer_duration")),
                "order_id": text_id(row.get("order_id")),
            },
            tags=tags,
            unique=unique,
            status=status if status.__class__ is str else None,
            visit_id=text_id(visit_id),
            ga_client_id=text_id(visit.get("google_client_id")) if visit else None,
        )


# --- orders ----------------------------------------------------------------------------------------


def status_dictionary(statuses: Iterable[Mapping[str, Any]]) -> dict[str, tuple[str | None, str]]:
    """Status id → (name, type) from `status/list` (A6.4); a type outside the three groups is NOT_COUNTED."""
    dictionary: dict[str, tuple[str | None, str]] = {}
    for status in statuses:
        status_id = text_id(status.get("id"))
        if status_id is not None:
            dictionary[status_id] = (text_id(status.get("name")), _status_type(status.get("type")))
    return dictionary


def _status_type(value: Any) -> str:
    return value if value in COUNTED_STATUS_TYPES else NOT_COUNTED


def order_status(order: Mapping[str, Any], dictionary: Mapping[str, tuple[str | None, str]]) -> tuple[str | None, str]:
    """(name, type) of a deal's status. With a dictionary, a status left out of it is «Не учитывается»:
    that is what Roistat does with deals whose status the dictionary no longer lists (A6.4)."""
    status = order.get("status")
    if not isinstance(status, Mapping):
        status = {"id": status} if status is not None else {}
    status_id = text_id(status.get("id"))
    known = dictionary.get(status_id) if status_id is not None else None
    if known is not None:
        return known[0] or text_id(status.get("name")), known[1]
    if dictionary:
        return text_id(status.get("name")), NOT_COUNTED
    return text_id(status.get("name")), _status_type(status.get("type"))


def normalise_orders(
    rows: Iterable[Mapping[str, Any]],
    statuses: Iterable[Mapping[str, Any]],
    rules: AttributionRules,
    vendor_account_id: str,
    *,
    visits: Visits | None = None,
    rejected: Rejected | None = None,
) -> Iterator[Conversion]:
    """One conversion per deal (A6.3), dated by its creation; «Не учитывается» deals only when counted."""
    dictionary = status_dictionary(statuses)
    account = str(vendor_account_id)
    visit_marks = Attribution(rules).visit
    for row in rows:
        order_id = text_id(row.get("id"))
        when = rules.clock.read(row.get("creation_date"))
        if order_id is None or when is None:
            reject(rejected, row, "a deal needs an id and a creation date")
            continue
        status_name, status_type = order_status(row, dictionary)
        if not rules.counts_status(status_type):
            continue
        roistat = row.get("roistat") or row.get("visit_id")
        visit_id = text_id(roistat) if marker_in(roistat) is None else None
        visit = row.get("visit")
        if not isinstance(visit, Mapping):
            visit = visits.get(visit_id) if visits is not None and visit_id is not None else None
        amount = lenient_float(row.get("revenue"))
        revenue, forecast = deal_revenues(amount, status_type)
        yield build_conversion(
            VENDOR,
            "orders",
            order_id,
            account,
            ORDER,
            when,
            visit_marks(visit, roistat),
            {
                "source_type": text_id(row.get("source_type")),
                "client_id": text_id(row.get("client_id")),
                "amount": amount,
                "cost": lenient_float(row.get("cost")),
                "profit": lenient_float(row.get("profit")),
            },
            inquiry=False,
            status=status_name,
            status_type=status_type,
            revenue=revenue,
            forecast_revenue=forecast,
            visit_id=visit_id,
            ga_client_id=text_id(visit.get("google_client_id")) if visit else None,
        )


# --- proxy leads -----------------------------------------------------------------------------------


def lead_kind(lead: Mapping[str, Any]) -> Kind:
    title = lead.get("title")
    return Kind.CHAT if isinstance(title, str) and CHAT_TITLE.search(title) else Kind.FORM


def is_artificial(lead: Mapping[str, Any], created: datetime, clock: ProjectClock) -> bool:
    """A proxy lead Roistat made for a CRM deal without an inquiry (seed 000): its deal (`order`,
    attached at extraction) was created at or before it. A lead whose deal is unknown is taken as genuine."""
    order = lead.get("order")
    if not isinstance(order, Mapping):
        return False
    deal_created = clock.read(order.get("creation_date"))
    return deal_created is not None and deal_created[0] <= created


def normalise_proxy_leads(
    rows: Iterable[Mapping[str, Any]],
    rules: AttributionRules,
    vendor_account_id: str,
    *,
    visits: Visits | None = None,
    contacts: FirstContactIndex | None = None,
    rejected: Rejected | None = None,
) -> Iterator[Conversion]:
    """One conversion per proxy lead the KPI mode keeps (A6.5): a form or a chat; artificial leads are
    marked as no inquiry."""
    index = FirstContactIndex() if contacts is None else contacts
    account = str(vendor_account_id)
    visit_marks = Attribution(rules).visit
    readable = []
    for row in rows:
        lead_id = text_id(row.get("id"))
        when = rules.clock.read(row.get("creation_date"))
        if lead_id is None or when is None:
            reject(rejected, row, "a proxy lead needs an id and a creation date")
            continue
        artificial = is_artificial(row, when[0], rules.clock)
        person = None if artificial else contact_key(row.get("phone"), row.get("email"))
        index.record(person, when[0], lead_id)
        readable.append((row, lead_id, when, person, artificial))
    for row, lead_id, when, person, artificial in readable:
        unique = not artificial and index.is_first(person, when[0], lead_id)
        if not rules.keeps((), unique):
            continue
        roistat = row.get("roistat")
        visit_id = text_id(roistat) if marker_in(roistat) is None else None
        visit = row.get("visit")
        if not isinstance(visit, Mapping):
            visit = visits.get(visit_id) if visits is not None and visit_id is not None else None
        yield build_conversion(
            VENDOR,
            "proxyleads",
            lead_id,
            account,
            lead_kind(row),
            when,
            visit_marks(visit, roistat),
            {
                "title": text_id(row.get("title")),
                "order_id": text_id(row.get("order_id")),
                "artificial": artificial,
            },
            unique=unique,
            inquiry=not artificial,
            visit_id=visit_id,
            ga_client_id=text_id(visit.get("google_client_id")) if visit else None,
        )


# --- clients ---------------------------------------------------------------------------------------


def normalise_clients(
    rows: Iterable[Mapping[str, Any]], rules: AttributionRules, vendor_account_id: str
) -> Iterator[dict[str, Any]]:
    """The client report (A6.6), JSON-ready: dates as ISO text in UTC, first visit's project-local date.
    Contact details stay: seed 000 asks for «Просмотр контактных данных клиента» for this report."""
    account = str(vendor_account_id)
    for row in rows:
        first_visit = rules.clock.read(row.get("first_visit_date"))
        first_order = rules.clock.read(row.get("first_order_date"))
        last_order = rules.clock.read(row.get("last_order_date"))
        yield {
            "vendor": VENDOR,
            "vendor_account_id": account,
            "client_id": text_id(row.get("id")),
            "external_id": text_id(row.get("external_id")),
            "name": text_id(row.get("name")),
            "phone": text_id(row.get("phone")),
            "email": text_id(row.get("email")),
            "company": text_id(row.get("company")),
            "first_visit_at": first_visit[0].isoformat() if first_visit else None,
            "first_visit_local_date": first_visit[1].isoformat() if first_visit else None,
            "first_order_at": first_order[0].isoformat() if first_order else None,
            "last_order_at": last_order[0].isoformat() if last_order else None,
            "order_count": lenient_int(row.get("order_count")) or 0,
            "revenue": lenient_float(row.get("revenue")),
            "profit": lenient_float(row.get("profit")),
            "first_visit_source": clean_mark(row.get("first_visit_marker_alias_level_1"))
            or clean_mark(row.get("first_visit_marker_alias")),
            "first_visit_marker": clean_mark(row.get("first_visit_marker_alias")),
            "first_visit_marker_name": clean_mark(row.get("first_visit_marker")),
        }
