"""What a project keeps for Roistat, as the push API accepts it (seed 003's tables: `orders`,
`clients`, `statuses`, `fields`; the SDK's `managers`).

Stored form: `date_create` as unix seconds, `birth_date` as `Y-m-d`, absent optionals left out.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    WithJsonSchema,
    create_model,
)

from leadhub.models.base import DeferredModel

MAX_ITEMS = 1000

RecordId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64),
    Field(description="The id in your CRM (1-64 characters)."),
]
Text = Annotated[str, StringConstraints(max_length=1000)]
CustomFields = Annotated[
    dict[Annotated[str, StringConstraints(min_length=1, max_length=200)], Text],
    Field(max_length=100, description="Additional fields, by field name or id, as text."),
]


def unix_seconds(text: str) -> int:
    """Unix time from digits or a date-time (the SDK's lead `createdDate`, `Y-m-d H:i:s` in UTC)."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    moment = datetime.fromisoformat(text)
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


# Strict: what the schema says is a number must be one (no `true`, no `"5"`), so the contract holds.
def _whole_number(value: Any) -> Any:
    """JSON's 5.0 is an integer too."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


UnixTime = Annotated[int, Field(ge=1, le=32503680000), Strict(), BeforeValidator(_whole_number)]
#: Money to a millionth: below that a price means nothing, and DynamoDB's numbers stop at 1e-130.
_millionths = AfterValidator(lambda value: round(value, 6))
# (constraints before the validator: after it, pydantic leaves them out of the JSON schema)
Price = Annotated[float, Field(ge=0, le=1e12), Strict(), _millionths]
Cost = Annotated[float, Field(ge=0.01, le=1e12), Strict(), _millionths]


def _calendar_date(text: str) -> str:
    date.fromisoformat(text)
    return text


CalendarDate = Annotated[
    str,
    StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$"),
    AfterValidator(_calendar_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}),
]


class Status(DeferredModel):
    model_config = ConfigDict(extra="forbid")

    id: RecordId
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="The status name Roistat shows (and groups in «Распределение статусов»)."
    )


class CustomField(DeferredModel):
    model_config = ConfigDict(extra="forbid")

    id: RecordId
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Manager(DeferredModel):
    model_config = ConfigDict(extra="forbid")

    id: RecordId
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    email: Text | None = None
    phone: Text | None = None


class Deal(DeferredModel):
    """One order of seed 003's `orders`."""

    model_config = ConfigDict(extra="forbid")

    id: RecordId
    name: Text | None = Field(None, description="The deal's title.")
    date_create: UnixTime = Field(description="When the deal was created, unix time (seconds).")
    status: RecordId = Field(description="A status id of `/crm/statuses`.")
    price: Price | None = Field(None, description="Revenue.")
    cost: Cost | None = Field(None, description="First cost (0.01 or more).")
    roistat: Text | None = Field(None, description="The visit number (the `roistat_visit` cookie).")
    client_id: RecordId | None = None
    manager_id: RecordId | None = None
    fields: CustomFields = Field(default_factory=dict)


class Client(DeferredModel):
    """One client of seed 003's `clients`."""

    model_config = ConfigDict(extra="forbid")

    id: RecordId
    name: Text
    phone: Text = Field("", description="One or several numbers, comma-separated.")
    email: Text = Field("", description="One or several addresses, comma-separated.")
    company: Text | None = None
    birth_date: CalendarDate | None = Field(None, description="`Y-m-d`.")
    fields: CustomFields = Field(default_factory=dict)


#: The push API's kinds: route segment → (store kind, model).
KINDS: dict[str, tuple[str, type[BaseModel]]] = {
    "deals": ("DEAL", Deal),
    "clients": ("CLIENT", Client),
    "statuses": ("STATUS", Status),
    "fields": ("FIELD", CustomField),
    "managers": ("MANAGER", Manager),
}


class _Batch(DeferredModel):
    model_config = ConfigDict(extra="forbid")


def _batch(name: str, model: type[BaseModel]) -> type[BaseModel]:
    items = (
        list[model],  # type: ignore[valid-type]
        Field(min_length=1, max_length=MAX_ITEMS, description=f"1 to {MAX_ITEMS} records, upserted by id."),
    )
    return create_model(f"{name}Batch", __base__=_Batch, items=items)


#: The push API's bodies, per route segment.
BATCHES = {segment: _batch(model.__name__, model) for segment, (_, model) in KINDS.items()}


def stored(record: BaseModel) -> dict[str, Any]:
    """The stored form: JSON types, absent optionals and empty field maps left out."""
    values = record.model_dump(mode="json", exclude_none=True)
    if not values.get("fields"):
        values.pop("fields", None)
    return values
