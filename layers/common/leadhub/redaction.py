"""Keep secrets out of every string that leaves the process: logs, errors, API answers.

Two nets: values registered at run time (every credential the code loads is registered, so it is
masked wherever it appears), and patterns for the places secrets travel (headers, query strings,
JSON fields) for values the process never saw in advance.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
MIN_SECRET_LENGTH = 4

SECRET_NAMES = (
    "api-key",
    "api_key",
    "apikey",
    "auth-key",
    "auth_key",
    "access-token",
    "access_token",
    "refresh_token",
    "client_secret",
    "clientapiid",
    "authorization",
    "password",
    "passwd",
    "secret",
    "token",
    "key",
    "code",
)

_names = "|".join(re.escape(name) for name in sorted(SECRET_NAMES, key=len, reverse=True))
_PATTERNS = (
    # "Authorization: Bearer abc", "Api-key: abc" in header dumps
    re.compile(rf"(?i)\b({_names})(\s*:\s*)(bearer\s+)?([^\s,;'\"}}]+)"),
    # key=abc in query strings and form bodies
    re.compile(rf"(?i)([?&;\s]|^)({_names})(=)([^&\s'\"]+)"),
    # "access_token": "abc" in JSON
    re.compile(rf"(?i)(\"({_names})\"\s*:\s*\")([^\"]*)(\")"),
    # bearer tokens anywhere
    re.compile(r"(?i)\b(bearer\s+)([A-Za-z0-9._~+/=-]{8,})"),
)

_lock = threading.Lock()
_known: set[str] = set()


def register_secret(*values: str | None) -> None:
    """Mask these values wherever they appear from now on (for the life of the process)."""
    with _lock:
        for value in values:
            if value and len(value) >= MIN_SECRET_LENGTH:
                _known.add(value)


def register_secrets(values: Iterable[str | None]) -> None:
    register_secret(*values)


def _mask_known(text: str) -> str:
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, MASK)
    return text


def _mask_patterns(text: str) -> str:
    header, query, json_field, bearer = _PATTERNS
    text = json_field.sub(lambda m: f"{m.group(1)}{MASK}{m.group(4)}", text)
    text = header.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3) or ''}{MASK}", text)
    text = query.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3)}{MASK}", text)
    return bearer.sub(lambda m: f"{m.group(1)}{MASK}", text)


def redact(text: str) -> str:
    """The text with every known secret and every secret-looking field masked."""
    if not text:
        return text
    return _mask_patterns(_mask_known(text))


def redact_url(url: str) -> str:
    """A URL with its credentials (userinfo, secret query parameters) masked."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = urlencode(
        [
            (name, MASK if name.lower() in SECRET_NAMES else value)
            for name, value in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="*",
    )
    return redact(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: MASK if name.lower() in SECRET_NAMES else redact(value) for name, value in headers.items()}
