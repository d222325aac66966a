"""Settings as a caller sends them, built from the vendor modules so the contract cannot drift
from what the vendors accept.

A settings change cannot name its vendor (the stored connector has it), so it is one model holding
every vendor's settings fields, each optional, each description saying which vendors it applies
to. A field left out keeps its value; `null` puts the default back. A new connector names its
vendor, so its settings are that vendor's fields only (`NEW_SETTINGS`).
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from functools import reduce
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo

from leadhub.connectors.registry import SPECS
from leadhub.connectors.spec import VendorSpec
from leadhub.models.base import DeferredModel
from leadhub.models.settings import Vendor


def _changes_fields(specs: Iterable[VendorSpec]) -> dict[str, Any]:
    """Every settings field of these vendors, optional, with the vendors it applies to in its description."""
    applies: dict[str, list[Vendor]] = {}
    first: dict[str, FieldInfo] = {}
    #: Per field, each vendor's nested model (Roistat's and Calltouch's `streams` hold different switches).
    models: dict[str, list[type[BaseModel]]] = {}
    for spec in specs:
        vendor = spec.vendor
        for name, field in spec.settings.model_fields.items():
            if name == "vendor":
                continue
            applies.setdefault(name, []).append(vendor)
            first.setdefault(name, field)
            if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
                models.setdefault(name, [])
                if field.annotation not in models[name]:
                    models[name].append(field.annotation)
    fields: dict[str, Any] = {}
    for name, field in first.items():
        vendors = ", ".join(SPECS[vendor].title for vendor in applies[name])
        annotation: Any = reduce(operator.or_, models[name]) if len(models.get(name, ())) > 1 else field.annotation
        constrained = Annotated[(annotation, *field.metadata)] if field.metadata else annotation
        described = Field(
            default=None,
            description=f"{vendors} only. {field.description or ''}".strip(),
            examples=field.examples,
            json_schema_extra=field.json_schema_extra,
        )
        fields[name] = (constrained | None, described)
    return fields


def _changes_model(name: str, doc: str, specs: Iterable[VendorSpec]) -> type[BaseModel]:
    base = type(f"_{name}Base", (DeferredModel,), {"model_config": ConfigDict(extra="forbid", title=name)})
    return create_model(name, __base__=base, __doc__=doc, **_changes_fields(specs))


if TYPE_CHECKING:
    SettingsChanges = BaseModel
else:
    SettingsChanges = _changes_model(
        "SettingsChanges",
        "The settings to change; the others keep their value. A field of another vendor than the connector's "
        "is refused (422).",
        SPECS.values(),
    )

#: A new connector's settings, per vendor: only that vendor's fields; those left out take their defaults.
NEW_SETTINGS: dict[Vendor, type[BaseModel]] = {
    vendor: _changes_model(
        f"{spec.credentials.__name__.removesuffix('Credentials')}NewSettings",
        f"The settings of a new {spec.title} connector; those left out take their defaults.",
        [spec],
    )
    for vendor, spec in SPECS.items()
}


def changed(changes: BaseModel) -> dict[str, Any]:
    """The fields sent, as stored settings hold them (`null` kept: it means "back to the default")."""
    return changes.model_dump(mode="json", exclude_unset=True)
