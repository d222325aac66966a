"""amoCRM: the CRM, connected by an OAuth authorization code."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from leadhub.models.credentials import Key, VendorCredentials
from leadhub.models.settings import Vendor


class AmoCrmCredentials(VendorCredentials):
    subdomain: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", to_lower=True)]
    client_id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    client_secret: Key
    redirect_uri: Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=2000)]
    #: The authorization code of the OAuth consent; single-use, exchanged for tokens at once.
    code: Key


class AmoCrmSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vendor: Literal[Vendor.AMOCRM] = Vendor.AMOCRM
