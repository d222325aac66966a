"""API tokens, stored only as SHA-256 hashes that map to an account."""

from __future__ import annotations

import hashlib
import secrets

from leadhub.settings import get_settings
from leadhub.store.tables import VersionedTable


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return f"lh_{secrets.token_urlsafe(32)}"


class TokenStore:
    def __init__(self, table_name: str | None = None) -> None:
        self.table = VersionedTable(table_name or get_settings().tokens_table, ("token_hash",))

    def register(self, token: str, account_id: str, *, label: str = "") -> None:
        """Map a token to an account (idempotent for the same pair)."""
        self.table.put({"token_hash": hash_token(token), "account_id": account_id, "label": label})

    def account_for(self, token: str) -> str | None:
        item = self.table.get({"token_hash": hash_token(token)}, consistent=False)
        return str(item["account_id"]) if item else None
