"""boto3 clients, built lazily and cached, pointed at AWS_ENDPOINT_URL when it is set
(moto's server in the local stack and in tests)."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from leadhub.settings import get_settings

_CONFIG = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=30)


@cache
def client(service: str) -> Any:
    settings = get_settings()
    return boto3.client(
        service, region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url, config=_CONFIG
    )


@cache
def dynamodb() -> Any:
    settings = get_settings()
    return boto3.resource(
        "dynamodb", region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url, config=_CONFIG
    )


def reset() -> None:
    """Forget cached clients and settings (after the environment changed, e.g. in tests)."""
    client.cache_clear()
    dynamodb.cache_clear()
    get_settings.cache_clear()
