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


def is_secret_name(name: str) -> bool:
    """True for a field that holds a secret: `api_key`, `client_secret`, also `calls_api_token`;
    not `client_id`, `site_id`, `token_type` or `checked_at`."""
    lowered = name.lower()
    return lowered in SECRET_NAMES or lowered.endswith(tuple(f"_{secret}" for secret in SECRET_NAMES))


def secret_fields(document: object) -> list[str]:
    """The values of the secret-named fields of a JSON-like document, at any depth: what to register,
    so the vendor name, ids and dates stored beside a key stay readable in logs."""
    if isinstance(document, Mapping):
        found = []
        for name, value in document.items():
            if isinstance(value, str | int) and not isinstance(value, bool) and is_secret_name(str(name)):
                found.append(str(value))
            else:
                found.extend(secret_fields(value))
        return found
    if isinstance(document, list | tuple):
        return [value for inner in document for value in secret_fields(inner)]
    return []


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


#: Longer than any secret Leadhub holds (keys are at most 2000 characters): a secret that starts inside an
#: excerpt ends inside the text masked before the cut. Bounds the work on a vendor's megabyte error page.
_EXCERPT_MASKED_BEYOND = 64 * 1024


def excerpt(text: str, limit: int) -> str:
    """At most `limit` characters of vendor text, secrets masked. Masks first, then cuts: the head of a
    secret cut in two no longer matches the secret nor its pattern, so cutting first would leak it."""
    return redact(text[: limit + _EXCERPT_MASKED_BEYOND])[:limit]


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
