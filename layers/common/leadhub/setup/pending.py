"""Credentials that passed a check, held until the user picks an account and saves the connector.

The user types a key once: the check stores what it verified (for amoCRM, the tokens the
single-use authorization code was exchanged for) and answers an opaque reference that the
create call passes back. Held in Secrets Manager like every credential, scoped to the account.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from leadhub.clock import utc_now
from leadhub.errors import InvalidRequest
from leadhub.models.settings import Vendor
from leadhub.settings import get_settings
from leadhub.store import errors
from leadhub.store.secrets import SecretStore

#: How long a checked key waits for the user to pick an account and save the connector.
HOLD_FOR = timedelta(hours=1)


class UnknownCredentialsRef(InvalidRequest):
    def __init__(self) -> None:
        super().__init__(
            "credentials_ref is unknown, used already, expired or for another vendor: check again",
            field="credentials_ref",
        )


class PendingCredentials:
    def __init__(self, store: SecretStore | None = None) -> None:
        self.store = store or SecretStore(prefix=f"{get_settings().secrets_prefix}/pending")

    def hold(self, account_id: str, vendor: Vendor, secret: dict[str, Any], accounts: list[dict[str, Any]]) -> str:
        self.sweep(account_id)
        ref = secrets.token_urlsafe(18)
        self.store.put(
            f"{account_id}/{ref}",
            {"vendor": vendor.value, "secret": secret, "accounts": accounts, "checked_at": utc_now()},
        )
        return ref

    def sweep(self, account_id: str) -> int:
        """Forget the account's checked credentials that were never used to save a connector."""
        expired = self.store.created_before(account_id, datetime.now(UTC) - HOLD_FOR)
        for name in expired:
            self.store.delete(name)
        return len(expired)

    def peek(self, account_id: str, vendor: Vendor, ref: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The held secret and the vendor accounts it sees; the reference stays usable until `spend`,
        so a create refused for any reason (a wrong account id, a bad setting) can be sent again."""
        if not ref.replace("-", "").replace("_", "").isalnum():
            raise UnknownCredentialsRef()
        try:
            held = self.store.get(f"{account_id}/{ref}")
        except errors.NotFound:
            raise UnknownCredentialsRef() from None
        checked_at = datetime.fromisoformat(str(held.get("checked_at", "")).replace("Z", "+00:00") or "1970-01-01")
        if held.get("vendor") != vendor.value or datetime.now(UTC) - checked_at > HOLD_FOR:
            raise UnknownCredentialsRef()
        return dict(held["secret"]), list(held.get("accounts", []))

    def spend(self, account_id: str, ref: str) -> None:
        """The reference is used: a connector holds its credentials now."""
        self.store.delete(f"{account_id}/{ref}")
