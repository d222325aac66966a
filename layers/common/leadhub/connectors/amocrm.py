"""amoCRM: the CRM, connected by an OAuth authorization code."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from leadhub.models.credentials import Key, VendorCredentials
from leadhub.models.settings import Vendor


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


class AmoCrmSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vendor: Literal[Vendor.AMOCRM] = Vendor.AMOCRM
