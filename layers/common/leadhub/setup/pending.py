"""Credentials that passed a check, held until the user picks an account and saves the connector.

The user types a key once: the check stores what it verified (for amoCRM, the tokens the
single-use authorization code was exchanged for) and answers an opaque reference that the
create call passes back. Held in Secrets Manager like every credential, scoped to the account.
"""

from __future__ import annotations

import secrets
from typing import Any

from leadhub.models.settings import Vendor
from leadhub.settings import get_settings
from leadhub.setup.clock import utc_now
from leadhub.setup.errors import InvalidRequest
from leadhub.store import errors
from leadhub.store.secrets import SecretStore


class UnknownCredentialsRef(InvalidRequest):
    def __init__(self) -> None:
        super().__init__(
            "credentials_ref is unknown, used already, or for another vendor: check again", field="credentials_ref"
        )


class PendingCredentials:
    def __init__(self, store: SecretStore | None = None) -> None:
        self.store = store or SecretStore(prefix=f"{get_settings().secrets_prefix}/pending")

    def hold(self, account_id: str, vendor: Vendor, secret: dict[str, Any], accounts: list[dict[str, Any]]) -> str:
        ref = secrets.token_urlsafe(18)
        self.store.put(
            f"{account_id}/{ref}",
            {"vendor": vendor.value, "secret": secret, "accounts": accounts, "checked_at": utc_now()},
        )
        return ref

    def take(self, account_id: str, vendor: Vendor, ref: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The held secret and the vendor accounts it sees; the reference is spent."""
        if not ref.replace("-", "").replace("_", "").isalnum():
            raise UnknownCredentialsRef()
        try:
            held = self.store.get(f"{account_id}/{ref}")
        except errors.NotFound:
            raise UnknownCredentialsRef() from None
        if held.get("vendor") != vendor.value:
            raise UnknownCredentialsRef()
        self.store.delete(f"{account_id}/{ref}")
        return dict(held["secret"]), list(held.get("accounts", []))
