"""Accounts and their API tokens. A token is stored only as its SHA-256 hash, next to a public id
(for listing and revoking), its account, a label and when it was created or revoked: the token
itself is shown once, when it is issued, and can never be read back."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

from leadhub.clock import utc_now
from leadhub.settings import get_settings
from leadhub.store import errors
from leadhub.store.tables import VersionedTable

#: The tokens table's index by account (template.yaml), for listing and revoking.
BY_ACCOUNT = "by_account"
#: Account names go into keys and logs: keep them to a plain slug.
ACCOUNT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return f"lh_{secrets.token_urlsafe(32)}"


def _now() -> str:
    return utc_now()


@dataclass(frozen=True)
class TokenInfo:
    """What may be shown of a token after it was issued: never the token."""

    token_id: str
    account_id: str
    label: str
    created_at: str
    revoked_at: str | None


class AccountStore:
    def __init__(self, table_name: str | None = None) -> None:
        self.table = VersionedTable(table_name or get_settings().accounts_table, ("account_id",))

    def create(self, account_id: str) -> None:
        """AlreadyExists when the account is there; ValueError when the name is not a slug."""
        if not ACCOUNT_NAME.match(account_id):
            raise ValueError(
                f"account name {account_id!r}: 2-63 lowercase letters, digits and dashes, not starting with a dash"
            )
        self.table.create({"account_id": account_id, "created_at": _now()})

    def exists(self, account_id: str) -> bool:
        return self.table.get({"account_id": account_id}) is not None

    def ensure(self, account_id: str) -> None:
        try:
            self.create(account_id)
        except errors.AlreadyExists:
            return


class TokenStore:
    def __init__(self, table_name: str | None = None) -> None:
        self.table = VersionedTable(table_name or get_settings().tokens_table, ("token_hash",))

    def register(self, token: str, account_id: str, *, label: str = "") -> TokenInfo:
        """Map a token to an account; the same token again keeps its first record."""
        info = TokenInfo(f"tok_{secrets.token_hex(6)}", account_id, label, _now(), None)
        item = {"token_hash": hash_token(token), **_without_none(info)}
        try:
            self.table.create(item)
        except errors.AlreadyExists:
            return self._info(self.table.require({"token_hash": item["token_hash"]}))
        return info

    def issue(self, account_id: str, *, label: str = "") -> tuple[str, TokenInfo]:
        """A new token for the account: the token (to show once) and its record."""
        token = new_token()
        return token, self.register(token, account_id, label=label)

    def account_for(self, token: str) -> str | None:
        """The token's account; None for an unknown or revoked token."""
        item = self.table.get({"token_hash": hash_token(token)}, consistent=False)
        if item is None or item.get("revoked_at"):
            return None
        return str(item["account_id"])

    def list(self, account_id: str) -> list[TokenInfo]:
        """Every token of the account, revoked ones included, oldest first."""
        return sorted((self._info(item) for item in self._items(account_id)), key=lambda info: info.created_at)

    def revoke(self, account_id: str, token_id: str) -> TokenInfo:
        """Refuse the token from now on (kept, so the list shows it revoked); NotFound when the
        account has no token of that id."""
        for item in self._items(account_id):
            if item.get("token_id") == token_id:
                stored = self.table.require({"token_hash": item["token_hash"]})
                if not stored.get("revoked_at"):
                    stored = self.table.update({**stored, "revoked_at": _now()})
                return self._info(stored)
        raise errors.NotFound(f"account {account_id} has no token {token_id}")

    def _items(self, account_id: str) -> Iterator[dict[str, object]]:
        return self.table.query("account_id", account_id, index=BY_ACCOUNT)

    @staticmethod
    def _info(item: dict[str, object]) -> TokenInfo:
        revoked = item.get("revoked_at")
        return TokenInfo(
            token_id=str(item.get("token_id", "")),
            account_id=str(item["account_id"]),
            label=str(item.get("label", "")),
            created_at=str(item.get("created_at", "")),
            revoked_at=str(revoked) if revoked else None,
        )


def _without_none(info: TokenInfo) -> dict[str, str]:
    return {key: value for key, value in vars(info).items() if value is not None}
