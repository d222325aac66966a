"""Settings as a caller sends them, built from the vendor modules so the contract cannot drift
from what the vendors accept.

A settings change cannot name its vendor (the stored connector has it), so it is one model holding
every vendor's settings fields, each optional, each description saying which vendors it applies
to. A field left out keeps its value; `null` puts the default back.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo

from leadhub.connectors.registry import SPECS
from leadhub.models.settings import Vendor


class _SettingsChangesBase(BaseModel):
    model_config = ConfigDict(extra="forbid", title="SettingsChanges")


def _changes_fields() -> dict[str, Any]:
    """Every vendor's settings field, optional, with the vendors it applies to in its description."""
    applies: dict[str, list[Vendor]] = {}
    first: dict[str, FieldInfo] = {}
    for vendor, spec in SPECS.items():
        for name, field in spec.settings.model_fields.items():
            if name == "vendor":
                continue
            applies.setdefault(name, []).append(vendor)
            first.setdefault(name, field)
    fields: dict[str, Any] = {}
    for name, field in first.items():
        vendors = ", ".join(SPECS[vendor].title for vendor in applies[name])
        annotation: Any = field.annotation
        constrained = Annotated[(annotation, *field.metadata)] if field.metadata else annotation
        described = Field(
            default=None,
            description=f"{vendors} only. {field.description or ''}".strip(),
            examples=field.examples,
            json_schema_extra=field.json_schema_extra,
        )
        fields[name] = (constrained | None, described)
    return fields


SettingsChanges: type[BaseModel] = create_model(
    "SettingsChanges",
    __base__=_SettingsChangesBase,
    __doc__="The settings to change; the others keep their value. A field of another vendor than the "
    "connector's is refused (422).",
    **_changes_fields(),
)


def changed(changes: BaseModel) -> dict[str, Any]:
    """The fields sent, as stored settings hold them (`null` kept: it means "back to the default")."""
    return changes.model_dump(mode="json", exclude_unset=True)
