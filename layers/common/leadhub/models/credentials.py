"""What every vendor's credentials share: frozen, no unknown fields, secrets kept as SecretStr."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

Key = Annotated[SecretStr, Field(min_length=4, max_length=2000)]


class VendorCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def secret_values(self) -> dict[str, Any]:
        """The fields as stored in Secrets Manager (secrets revealed: never return this to a caller)."""
        return {
            name: value.get_secret_value() if isinstance(value, SecretStr) else value
            for name, value in self
            if value is not None
        }
