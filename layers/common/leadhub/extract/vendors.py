"""The streams of each vendor, built from a connector: its client, its settings, its rules.

Roistat (roistat-ringostat.md A7): calls and proxy leads by day; orders by creation day with a
long lookback (status and revenue change late) and the status dictionary re-read every run;
the client report as a daily snapshot. Ringostat (B5): calls by day, the client splitting
windows under the 6500-row cap.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from leadhub.attribution import ringostat as ringostat_attribution
from leadhub.attribution import roistat as roistat_attribution
from leadhub.attribution.rules import AttributionRules
from leadhub.extract.first_contacts import FirstContacts
from leadhub.extract.prefetch import RangePrefetch, iso_moment
from leadhub.extract.streams import DEFAULT_LOOKBACK, StreamReader
from leadhub.models.conversion import Conversion
from leadhub.vendors.ringostat import RingostatClient
from leadhub.vendors.roistat import RoistatClient


def _lookback(settings: dict[str, Any], stream: str) -> int:
    return int(settings.get("lookback_days", {}).get(stream, DEFAULT_LOOKBACK[stream]))


def roistat_streams(
    client: RoistatClient,
    settings: dict[str, Any],
    rules: AttributionRules,
    account: str,
    *,
    first_contacts: FirstContacts,
    statuses: list[dict[str, Any]] | None = None,
) -> list[StreamReader]:
    """`first_contacts`: when each number first called (Roistat marks no call as unique).
    `statuses`: the order-status dictionary when it is known already (re-attribution)."""
    project = int(account)
    enabled = settings.get("streams", {})
    statuses = statuses if statuses is not None else []

    def calls(day: date, start: datetime, end: datetime) -> Iterable[dict[str, Any]]:
        return client.iter_calls(project, start, end)

    def status_dictionary(day: date, start: datetime, end: datetime) -> Iterable[dict[str, Any]]:
        # small and changing: read whole on every run, kept raw so orders can be re-attributed
        statuses[:] = client.list_statuses(project)
        return statuses

    # with the visit: its marks are the order's source (at Roistat's stricter rate for it)
    order_range = RangePrefetch(
        lambda start, end: client.iter_orders(project, start, end, extend_visit=True), iso_moment("creation_date")
    )

    def orders(day: date, start: datetime, end: datetime) -> Iterable[dict[str, Any]]:
        return order_range.read(start, end)

    def proxy_leads(day: date, start: datetime, end: datetime) -> Iterable[dict[str, Any]]:
        return client.proxy_leads(project, day)

    def clients(day: date, start: datetime, end: datetime) -> Iterable[dict[str, Any]]:
        return client.iter_clients(project)

    def normalise_calls(rows: list[dict[str, Any]], day: date) -> Iterable[Conversion]:
        seen = first_contacts.seen_before(day)
        conversions = list(roistat_attribution.normalise_calls(rows, rules, account, seen_callers=seen))
        first_contacts.record(rows, day)
        return conversions

    def normalise_orders(rows: list[dict[str, Any]], day: date) -> Iterable[Conversion]:
        return roistat_attribution.normalise_orders(rows, statuses, rules, account)

    def normalise_leads(rows: list[dict[str, Any]], day: date) -> Iterable[Conversion]:
        return roistat_attribution.normalise_proxy_leads(rows, rules, account)

    streams = []
    if enabled.get("calls", True):
        streams.append(StreamReader("calls", _lookback(settings, "calls"), calls, normalise_calls))
    if enabled.get("orders", True):
        streams.append(StreamReader("statuses", 0, status_dictionary, None, snapshot=True))
        streams.append(StreamReader("orders", _lookback(settings, "orders"), orders, normalise_orders))
    if enabled.get("proxyleads", True):
        streams.append(StreamReader("proxyleads", _lookback(settings, "proxyleads"), proxy_leads, normalise_leads))
    streams.append(StreamReader("clients", 0, clients, None, snapshot=True))
    return streams


def ringostat_streams(
    client: RingostatClient, settings: dict[str, Any], rules: AttributionRules, account: str
) -> list[StreamReader]:
    def calls(day: date, start: datetime, end: datetime) -> Iterable[dict[str, Any]]:
        return client.iter_calls(start, end)

    def normalise(rows: list[dict[str, Any]], day: date) -> Iterable[Conversion]:
        return ringostat_attribution.normalise_calls(rows, rules, account)

    return [StreamReader("calls", _lookback(settings, "calls"), calls, normalise)]
