"""amoCRM: the CRM, connected by an OAuth authorization code."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints

from leadhub.connectors.spec import StreamSpec, VendorSpec
from leadhub.models.base import DeferredModel
from leadhub.models.credentials import Key, VendorAccount, VendorCredentials, Verified, verified
from leadhub.models.lead_sync import LeadSync
from leadhub.models.settings import Vendor
from leadhub.settings import Settings, get_settings

if TYPE_CHECKING:
    # loaded by the client's maker: the API declares the vendor's settings and never syncs a deal
    from leadhub.vendors.amocrm import AmoCrmClient, AmoTokens


class AmoCrmCredentials(VendorCredentials):
    subdomain: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", to_lower=True)] = Field(
        description="The account's subdomain: `shop` for shop.amocrm.ru."
    )
    client_id: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"\S")] = Field(
        description="The integration's ID (amoCRM → Настройки → Интеграции)."
    )
    client_secret: Key = Field(description="The integration's secret key.")
    redirect_uri: Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=2000)] = Field(
        description="The redirect URI registered with the integration, exactly as registered."
    )
    code: Key = Field(
        description="The authorization code of the OAuth consent: single-use, exchanged for tokens at once."
    )


class AmoCrmSettings(DeferredModel):
    model_config = ConfigDict(extra="forbid")

    vendor: Literal[Vendor.AMOCRM] = Vendor.AMOCRM
    lead_sync: LeadSync = Field(
        default_factory=LeadSync,
        description="Seed 002: the project's inquiries into this account's deals, contacts and companies. "
        "Users, pipelines, statuses and fields to choose from: `GET /connectors/{id}/crm-sync/options`.",
    )


def client(
    credentials: Mapping[str, Any],
    settings: Settings | None = None,
    *,
    on_tokens: Callable[[AmoTokens], None] | None = None,
    **options: Any,
) -> AmoCrmClient:
    """`options`: the client's keyword arguments (reload_tokens, sleep, policy, batch_size…)."""
    from leadhub.vendors.amocrm import AmoCrmClient, AmoTokens

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
        **options,
    )


def check(secret: dict[str, Any]) -> Verified:
    """The single-use authorization code is exchanged at once; the tokens are what is stored."""
    amocrm = client(secret)
    tokens = amocrm.exchange_code(str(secret.pop("code")))
    account = amocrm.account()
    secret["tokens"] = tokens.stored()
    return verified(Vendor.AMOCRM, secret, [VendorAccount(id=str(account.id), name=account.name)])


SPEC = VendorSpec(
    vendor=Vendor.AMOCRM,
    title="amoCRM",
    check_sees="the account, after exchanging the OAuth code for tokens",
    credentials=AmoCrmCredentials,
    settings=AmoCrmSettings,
    streams=(StreamSpec("leads"),),
    check=check,
)
