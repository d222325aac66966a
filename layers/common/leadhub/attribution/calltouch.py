"""Calltouch rows → conversions (calltouch-amocrm.md A4 calls diary, A5 requests). Pure: rows in,
conversions out.

- Calls (A4) are calls, requests (A5, form leads) are forms; both are inquiries.
- Marks: Calltouch attributes every lead itself: `source` / `medium` are its source and traffic type
  (present without UTM too: organic, direct), falling back to the UTM marks when it sends none; the
  campaign and content are `utmCampaign` / `utmContent`; the keyword is Calltouch's `keyword`, else
  `utmTerm`. A request carries them in its `session` (none: Undefined). GA-style direct marks
  ("(direct)", "(none)") are kept as sent; "(not set)" is no value.
- Static channels: the parameter names a field of the call — the tracking number dialled
  (`phoneNumber`, a static number's one key) or a mark (`source`, `medium`, `utm_source` …) — whose
  text is compared with the value exactly; the first matching row of the settings wins. A request is
  matched by its session's marks.
- Time: `timestamp` (Unix seconds) of a call, `date` (Unix milliseconds) of a request; without them
  the text `date` / `dateStr` (`dd/mm/yyyy H:MM:SS`, the hour maybe unpadded, no offset [GAP]) is read
  in the zone the caller names (the Calltouch project's).
- First contact (KPI «Уникальные обращения»): Calltouch's own `uniqueCall` / `uniqueRequest`. Flags
  come as JSON booleans or as strings ("true", "True") [UNCERTAIN]; a row without the flag counts as
  a first contact.
- Tags (KPI «Тегированные лиды»): the `names` of each `callTags` / `RequestTags` entry (capital R, A5).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from leadhub.attribution.rules import (
    AttributionRules,
    Marks,
    Rejected,
    build_conversion,
    lenient_int,
    reject,
    row_tags,
    text_id,
)
from leadhub.models.conversion import Conversion, Kind

VENDOR = "calltouch"
CALLS, REQUESTS = "calls", "requests"
TEXT_DATE_FORMAT = "%d/%m/%Y %H:%M:%S"
TRUE_TEXTS = frozenset({"true", "1", "yes"})

#: A static channel's parameter (trimmed, case-folded, without `_`, `-` or spaces) → the field it names.
PARAMETER_KEYS = {
    "phonenumber": "phoneNumber",
    "trackingnumber": "phoneNumber",
    "номер": "phoneNumber",
    "номертелефона": "phoneNumber",
    "source": "source",
    "источник": "source",
    "medium": "medium",
    "канал": "medium",
    "utmsource": "utmSource",
    "utmmedium": "utmMedium",
    "utmcampaign": "utmCampaign",
    "utmcontent": "utmContent",
    "utmterm": "utmTerm",
}


def parameter_key(parameter: str) -> str | None:
    """The call field a static-channel parameter names; None for one a Calltouch call has not."""
    folded = parameter.strip().casefold()
    return PARAMETER_KEYS.get("".join(char for char in folded if char not in "_- "))


def flag(value: Any) -> bool | None:
    """A Calltouch boolean: JSON true/false, or a string ("true", "True", "false") [UNCERTAIN]."""
    if value is None or value.__class__ is bool:
        return value
    if isinstance(value, str):
        return value.strip().casefold() in TRUE_TEXTS
    if isinstance(value, int | float):
        return bool(value)
    return None


def tag_names(entries: Any) -> tuple[str, ...]:
    """Tags of `callTags` / `RequestTags`: each entry's `names` list (A4, A5); plain strings too."""
    if not isinstance(entries, list):
        return ()
    names: list[Any] = []
    for entry in entries:
        named = entry.get("names") if isinstance(entry, Mapping) else entry
        names.extend(named if isinstance(named, list) else (named,))
    return row_tags([name for name in names if isinstance(name, str)])


def moment(epoch: Any, text: Any, *, milliseconds: bool, vendor_zone: ZoneInfo) -> datetime | None:
    """The instant of a row: its Unix time, else its offset-less text read in the Calltouch zone."""
    number = lenient_int(epoch)
    if number is not None:
        return datetime.fromtimestamp(number / 1000 if milliseconds else number, UTC)
    if not isinstance(text, str):
        return None
    try:
        local = datetime.strptime(text.strip(), TEXT_DATE_FORMAT)
    except ValueError:
        return None
    return local.replace(tzinfo=vendor_zone).astimezone(UTC)


def marks(rules: AttributionRules, fields: Mapping[str, Any] | None) -> Marks:
    """A call's (or a request's session's) marks: a matching static channel's, else Calltouch's own."""
    if not fields:
        return rules.undefined_marks
    static = rules.static_marks(fields)
    if static is not None:
        return static
    get = fields.get
    return rules.utm_marks(
        get("source") or get("utmSource"),
        get("medium") or get("utmMedium"),
        get("utmCampaign"),
        get("utmContent"),
        get("keyword") or get("keywords") or get("utmTerm"),
    )


def _when(rules: AttributionRules, instant: datetime | None) -> tuple[datetime, date] | None:
    return None if instant is None else (instant, instant.astimezone(rules.zone).date())


@dataclass(frozen=True)
class Journal:
    """Where a Calltouch journal keeps what a conversion is made of (A4 calls, A5 requests)."""

    stream: str
    kind: Kind
    id_field: str
    #: The Unix time (seconds, or milliseconds when `milliseconds`) and its offset-less text.
    epoch_field: str
    text_field: str
    milliseconds: bool
    tags_field: str
    unique_field: str
    #: The fields marks and static channels are read from (the row, or a request's session).
    attributed: Callable[[Mapping[str, Any]], Mapping[str, Any] | None]
    extras_of: Callable[[Mapping[str, Any]], dict[str, Any]]
    visit_id: Callable[[Mapping[str, Any], Mapping[str, Any] | None], Any]
    ga_client_id: Callable[[Mapping[str, Any], Mapping[str, Any] | None], Any]


def _session(row: Mapping[str, Any]) -> Mapping[str, Any] | None:
    session = row.get("session")
    return session if isinstance(session, Mapping) else None


CALL_JOURNAL = Journal(
    stream=CALLS,
    kind=Kind.CALL,
    id_field="callId",
    epoch_field="timestamp",
    text_field="date",
    milliseconds=False,
    tags_field="callTags",
    unique_field="uniqueCall",
    attributed=lambda row: row,
    extras_of=lambda row: {
        "duration": lenient_int(row.get("duration")),
        "successful": flag(row.get("successful")),
        "target": flag(row.get("targetCall")),
        "callback": flag(row.get("callbackCall")),
        "phone_number": text_id(row.get("phoneNumber")),
    },
    visit_id=lambda row, _: row.get("sessionId"),
    ga_client_id=lambda row, _: row.get("clientId"),
)
REQUEST_JOURNAL = Journal(
    stream=REQUESTS,
    kind=Kind.FORM,
    id_field="requestId",
    epoch_field="date",
    text_field="dateStr",
    milliseconds=True,
    tags_field="RequestTags",
    unique_field="uniqueRequest",
    attributed=_session,
    extras_of=lambda row: {
        "subject": row["subject"] if isinstance(row.get("subject"), str) else None,
        "target": flag(row.get("targetRequest")),
    },
    visit_id=lambda _, session: session.get("sessionId") if session else None,
    ga_client_id=lambda _, session: session.get("guaClientId") if session else None,
)


def normalise(
    journal: Journal,
    rows: Iterable[Mapping[str, Any]],
    rules: AttributionRules,
    vendor_account_id: str,
    *,
    vendor_zone: ZoneInfo,
    rejected: Rejected | None = None,
) -> Iterator[Conversion]:
    """One conversion per row of the journal the KPI mode keeps; rows without an id or a time go to
    `rejected`."""
    account = str(vendor_account_id)
    for row in rows:
        row_id = text_id(row.get(journal.id_field))
        instant = moment(
            row.get(journal.epoch_field),
            row.get(journal.text_field),
            milliseconds=journal.milliseconds,
            vendor_zone=vendor_zone,
        )
        when = _when(rules, instant)
        if row_id is None or when is None:
            reject(rejected, row, f"a {journal.kind.value} needs its {journal.id_field} and a time")
            continue
        tags = tag_names(row.get(journal.tags_field))
        unique = flag(row.get(journal.unique_field)) is not False
        if rules.filters_contacts and not rules.keeps(tags, unique):
            continue
        attributed = journal.attributed(row)
        visit = journal.visit_id(row, attributed)
        yield build_conversion(
            VENDOR,
            journal.stream,
            row_id,
            account,
            journal.kind,
            when,
            marks(rules, attributed),
            journal.extras_of(row),
            tags=tags,
            unique=unique,
            visit_id=text_id(visit) if visit else None,
            ga_client_id=text_id(journal.ga_client_id(row, attributed)),
        )


#: The calls diary's conversions, and the requests journal's form conversions (see `normalise`).
normalise_calls = partial(normalise, CALL_JOURNAL)
normalise_requests = partial(normalise, REQUEST_JOURNAL)
