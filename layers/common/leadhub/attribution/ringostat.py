"""Ringostat call-log rows → conversions (roistat-ringostat.md B2.2 fields, B3 enumerations; seed 001).
Pure: rows in, conversions out.

- Marks: `utm_source` / `utm_medium` / `utm_campaign` / `utm_content` / `utm_term` of the visit. A call
  whose `pool_name` is a configured static channel takes that channel's marks instead. Static pools
  carry no UTM, so an unconfigured one lands in «Неизвестная кампания (Undefined)» with the rest of
  the calls that have no campaign. GA-style direct marks ("(direct)", "(none)") are kept as sent.
- Time: `calldate` carries the project's offset in Ringostat (B2.2); it is stored in UTC, and dated in
  the project's zone of the connector settings.
- Numerics are ints or numeric strings (B2.2); both are read.
- First contact (KPI «Уникальные», B3 [UNCERTAIN]): `call_counter == 1`, the caller's first call ever;
  when the counter is missing, `repeated_flag == 0` (not a repeat within the sale cycle); with neither,
  the call counts as first.
- Tags: none documented (B2.2), so the connector refuses the tagged KPI mode; a `tags` field is still
  read if an install sends one.
- Directions (`call_type`, B3): only the connector's `call_directions` count (inbound by default:
  outgoing, callback and transit calls are no inquiry of a visitor unless the user says so). A call with
  no `call_type` is read as inbound, Ringostat's usual direction.
- `disposition` is upper-cased with `+` / `_` read as spaces (the spellings vary, D6).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from leadhub.attribution.rules import (
    AttributionRules,
    Marks,
    Rejected,
    as_conversions,
    conversion_values,
    lenient_int,
    reject,
    row_tags,
    text_id,
)
from leadhub.models.conversion import Kind

VENDOR = "ringostat"
CALL = Kind.CALL
#: Distinct UTM sets remembered per batch (a bound, should a batch hold an unusual variety).
KNOWN_MARKS_LIMIT = 50_000
INBOUND = "in"
#: The fields of a call row a conversion is made of, in the order `normalise_calls` unpacks them (tags:
#: none documented, B2.2, usually absent).
_READ = (
    "uniqueid", "calldate", "call_type", "tags", "call_counter", "pool_name",
    "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term",
    "disposition", "proper_flag", "duration", "billsec", "client_id",
)  # fmt: skip


def is_first_contact(row: Mapping[str, Any]) -> bool:
    counter = lenient_int(row.get("call_counter"))
    if counter is not None:
        return counter == 1
    repeated = lenient_int(row.get("repeated_flag"))
    return repeated != 1


def _remember(known: dict[tuple[Any, ...], Marks], utm: tuple[Any, ...], rules: AttributionRules) -> Marks:
    if len(known) >= KNOWN_MARKS_LIMIT:
        known.clear()
    marks = known[utm] = rules.utm_marks(*utm)
    return marks


def call_conversion_values(
    rows: Iterable[Mapping[str, Any]],
    rules: AttributionRules,
    vendor_account_id: str,
    *,
    directions: frozenset[str] = frozenset({INBOUND}),
    rejected: Rejected | None = None,
) -> Iterator[dict[str, Any]]:
    """One conversion's fields (`conversion_values`) per call of the counted `directions` that the KPI
    mode keeps; rows with no `uniqueid` or `calldate` go to `rejected`. The engine stores these as they
    are, without a model per call."""
    account = str(vendor_account_id)
    read_time = rules.clock.read
    filtering = rules.filters_contacts
    keeps = rules.keeps
    pool_marks = rules.pool_marks
    dispositions: dict[str, str] = {}
    #: call_type as sent → its direction (trimmed, lower case); a batch holds a handful of spellings.
    spellings: dict[str, str] = {}
    #: A batch holds few distinct UTM sets: each one's marks are worked out once.
    known_marks: dict[tuple[Any, ...], Marks] = {}
    for row in rows:
        # every field the call needs, read in one C loop (a Python call per field was a third of this loop)
        (
            call_id, calldate, call_type, raw_tags, counter, pool, *utm_fields,
            disposition, proper, duration, billsec, client_id,
        ) = map(row.get, _READ)  # fmt: skip
        if call_id.__class__ is not str or not call_id:
            call_id = text_id(call_id)
        when = read_time(calldate)
        if call_id is None or when is None:
            reject(rejected, row, "a call needs a uniqueid and a calldate")
            continue
        direction = spellings.get(call_type) if call_type.__class__ is str else INBOUND
        if direction is None:
            direction = spellings[str(call_type)] = str(call_type).strip().lower() or INBOUND
        if direction not in directions:
            continue
        tags = row_tags(raw_tags) if raw_tags else ()
        unique = counter == 1 if counter.__class__ is int else is_first_contact(row)
        if filtering and not keeps(tags, unique):
            continue
        marks = pool_marks.get(pool) if pool.__class__ is str else None
        if marks is None:
            utm = tuple(utm_fields)
            try:
                marks = known_marks.get(utm)
            except TypeError:  # a mark that is not text: unusual, not worth remembering
                marks = rules.utm_marks(*utm)
            if marks is None:
                marks = _remember(known_marks, utm, rules)
        if disposition.__class__ is str:
            status = dispositions.get(disposition)
            if status is None:
                status = dispositions[disposition] = disposition.replace("+", " ").replace("_", " ").upper()
        else:
            status = None
        # ints as Ringostat mostly sends them; anything else read leniently (B2.2)
        proper = proper if proper.__class__ is int else lenient_int(proper)
        yield conversion_values(
            VENDOR,
            "calls",
            call_id,
            account,
            CALL,
            when,
            marks,
            {
                "duration": duration if duration.__class__ is int else lenient_int(duration),
                "billsec": billsec if billsec.__class__ is int else lenient_int(billsec),
                "proper": None if proper is None else proper == 1,
                "call_type": direction,
                "pool_name": pool if pool.__class__ is str else None,
            },
            tags=tags,
            unique=unique,
            status=status,
            ga_client_id=client_id if client_id.__class__ is str and client_id else text_id(client_id),
        )


#: `call_conversion_values` as `Conversion` models.
normalise_calls = as_conversions(call_conversion_values)
