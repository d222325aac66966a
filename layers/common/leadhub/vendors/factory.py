"""Build a vendor client from the connector's stored credentials and the deployment's settings.

The one place that knows which credential fields each vendor's client takes, so setup and
extraction construct clients the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from leadhub.settings import Settings, get_settings
from leadhub.vendors.amocrm import AmoCrmClient, AmoTokens
from leadhub.vendors.calltouch import CalltouchClient
from leadhub.vendors.ringostat import RingostatClient
from leadhub.vendors.roistat import RoistatClient


def roistat(credentials: Mapping[str, Any], settings: Settings | None = None) -> RoistatClient:
    settings = settings or get_settings()
    return RoistatClient(str(credentials["api_key"]), base_url=settings.roistat_base_url)


def ringostat(
    credentials: Mapping[str, Any], settings: Settings | None = None, *, project_tz: str = "Europe/Kyiv"
) -> RingostatClient:
    settings = settings or get_settings()
    return RingostatClient(str(credentials["auth_key"]), base_url=settings.ringostat_base_url, project_tz=project_tz)


def calltouch(credentials: Mapping[str, Any], settings: Settings | None = None) -> CalltouchClient:
    settings = settings or get_settings()
    return CalltouchClient(
        str(credentials["access_token"]), str(credentials["site_id"]), base_url=settings.calltouch_base_url
    )


def amocrm(
    credentials: Mapping[str, Any],
    settings: Settings | None = None,
    *,
    on_tokens: Callable[[AmoTokens], None] | None = None,
) -> AmoCrmClient:
    settings = settings or get_settings()
    tokens = credentials.get("tokens")
    return AmoCrmClient(
        str(credentials["subdomain"]),
        base_url_template=settings.amocrm_base_url,
        client_id=str(credentials["client_id"]),
        client_secret=str(credentials["client_secret"]),
        redirect_uri=str(credentials["redirect_uri"]),
        tokens=AmoTokens.model_validate(tokens) if tokens else None,
        on_tokens=on_tokens,
    )
