"""The path parameters that name an object: one constraint for every route, so the schema and
the runtime agree on what an id may look like."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.openapi.params import Path

ID_PATTERN = r"^[A-Za-z0-9_-]+$"


def id_path(description: str) -> Path:
    return Path(min_length=1, max_length=64, pattern=ID_PATTERN, description=description)
