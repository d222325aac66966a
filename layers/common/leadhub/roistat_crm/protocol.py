"""The request side of the protocol: which parameters Roistat sends, how they are checked, and the
token (`md5(user . password)`, seed 003) compared in constant time.

Every refusal is a `PageError` with a status and a message that names the parameter, never its
value (a refused value may be a token).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus

from leadhub.roistat_crm.shapes import FORMATS

#: The SDK's actions: Roistat pulls with the first three, pushes with the others.
PULLS = ("import_scheme", "export", "export_clients")
PUSHES = ("lead", "message", "task", "call")
ACTIONS = PULLS + PUSHES
PAGED = ("export", "export_clients")


class PageError(Exception):
    def __init__(self, status: HTTPStatus, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


@dataclass(frozen=True)
class PageRequest:
    action: str
    format: str | None
    #: Unix seconds: records updated after it are exported.
    date: int
    offset: int
    #: Absent on the first request of an export.
    limit: int | None


def expected_token(user: str, password: str) -> str:
    return hashlib.md5(f"{user}{password}".encode(), usedforsecurity=False).hexdigest()


def authentic(params: Mapping[str, str], login: str, password: str) -> bool:
    """Both compared in constant time, and both always compared, so timing tells nothing."""
    user = params.get("user", "").encode()
    token = params.get("token", "").strip().lower().encode()
    user_ok = hmac.compare_digest(user, login.encode())
    token_ok = hmac.compare_digest(token, expected_token(login, password).encode())
    return user_ok and token_ok


def _integer(params: Mapping[str, str], name: str, *, minimum: int, required: bool = False) -> int | None:
    text = params.get(name, "").strip()
    if not text:
        if required:
            raise PageError(HTTPStatus.BAD_REQUEST, f"`{name}` is required: unix time, e.g. date=1700000000")
        return None
    digits = text.removeprefix("-")
    if not digits.isdigit() or len(digits) > 12:
        raise PageError(HTTPStatus.BAD_REQUEST, f"`{name}` must be a whole number")
    value = int(text)
    if value < minimum:
        raise PageError(HTTPStatus.BAD_REQUEST, f"`{name}` must be {minimum} or more")
    return value


def parse(params: Mapping[str, str]) -> PageRequest:
    action = params.get("action", "").strip()
    if not action:
        raise PageError(HTTPStatus.BAD_REQUEST, f"`action` is required: one of {', '.join(ACTIONS)}")
    if action not in ACTIONS:
        raise PageError(HTTPStatus.BAD_REQUEST, f"unknown `action`: expected one of {', '.join(ACTIONS)}")
    fmt = params.get("format", "").strip().lower() or None
    if fmt is not None and fmt not in FORMATS:
        raise PageError(HTTPStatus.BAD_REQUEST, f"unknown `format`: expected one of {', '.join(FORMATS)}")
    paged = action in PAGED
    date = _integer(params, "date", minimum=1, required=paged) or 1
    offset = _integer(params, "offset", minimum=0) or 0
    limit = _integer(params, "limit", minimum=1)
    return PageRequest(action=action, format=fmt, date=date, offset=offset, limit=limit)
