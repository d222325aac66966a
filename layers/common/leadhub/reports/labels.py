"""The Russian names a marketer reads in place of the codes the API answers (kinds, vendors, streams,
status groups, the mark of "no value")."""

from __future__ import annotations

from leadhub.models.conversion import Kind

KIND_LABELS: dict[str, str] = {
    Kind.CALL.value: "Звонок",
    Kind.FORM.value: "Заявка с сайта",
    Kind.CHAT.value: "Чат",
    Kind.ORDER.value: "Сделка",
    Kind.OFFLINE.value: "Офлайн-обращение",
}
VENDOR_LABELS: dict[str, str] = {
    "roistat": "Roistat",
    "ringostat": "Ringostat",
    "calltouch": "Calltouch",
    "amocrm": "amoCRM",
}
STREAM_LABELS: dict[str, str] = {
    "calls": "Звонки",
    "orders": "Сделки",
    "proxyleads": "Заявки и чаты (прокси-лиды)",
    "clients": "Клиенты",
    "statuses": "Статусы сделок",
}
#: Attribution's mark of a source or traffic type that has none (`attribution.rules.PLACEHOLDER`).
NO_VALUE = "(none)"
NO_VALUE_LABEL = "(не задано)"
BY_DIMENSION: dict[str, dict[str, str]] = {"kind": KIND_LABELS, "vendor": VENDOR_LABELS, "stream": STREAM_LABELS}


def label(dimension: str, code: str, *, connector_names: dict[str, str] | None = None) -> str:
    """What a code of `dimension` reads as in a report; a code without a name stays as it is."""
    if dimension == "connector":
        return (connector_names or {}).get(code) or code
    if code in ("", NO_VALUE):
        return NO_VALUE_LABEL
    return BY_DIMENSION.get(dimension, {}).get(code, code)
