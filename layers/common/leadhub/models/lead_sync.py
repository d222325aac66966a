"""What the amoCRM lead sync works with (seed 002): the inquiry, the 18 parameters and the sync settings."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, model_validator

from leadhub.models.base import DeferredModel

#: Seed 002: «в течении трёх часов» — how long after Leadhub learns of an inquiry it keeps updating
#: (mode 1) or looking for the deal (mode 2).
WINDOW_HOURS = 3


class InquiryType(StrEnum):
    """«Тип обращения»: форма, телефон, чат, оффлайн."""

    FORM = "form"
    PHONE = "phone"
    CHAT = "chat"
    OFFLINE = "offline"


#: A conversion's kind → the inquiry type it is (orders are deals, not inquiries).
KIND_TYPES = {
    "call": InquiryType.PHONE,
    "form": InquiryType.FORM,
    "chat": InquiryType.CHAT,
    "offline": InquiryType.OFFLINE,
}
TYPE_TITLES = {
    InquiryType.FORM: "Заявка с сайта",
    InquiryType.PHONE: "Звонок",
    InquiryType.CHAT: "Чат",
    InquiryType.OFFLINE: "Оффлайн-обращение",
}


class Entity(StrEnum):
    DEAL = "deal"
    CONTACT = "contact"
    COMPANY = "company"

    @property
    def amo(self) -> str:
        """amoCRM's name of the entity in paths and custom fields."""
        return {"deal": "leads", "contact": "contacts", "company": "companies"}[self.value]


class Param(StrEnum):
    """The 18 parameters seed 002 lets a user map into amoCRM fields."""

    SENT_AT = "sent_at"
    SOURCE = "source"
    TRAFFIC_TYPE = "traffic_type"
    CAMPAIGN = "campaign"
    CONTENT = "content"
    KEYWORD = "keyword"
    SOCIAL_NETWORK = "social_network"
    FULL_PATH = "full_path"
    CITY = "city"
    IP = "ip"
    GA_CLIENT_ID = "ga_client_id"
    YM_CLIENT_ID = "ym_client_id"
    AT_CLIENT_ID = "at_client_id"
    PAGE_PATH = "page_path"
    BROWSER = "browser"
    COUNTRY = "country"
    DEVICE_CATEGORY = "device_category"
    MAILBOX = "mailbox"


PARAM_TITLES = {
    Param.SENT_AT: "Дата отправки",
    Param.SOURCE: "Источник",
    Param.TRAFFIC_TYPE: "Тип трафика",
    Param.CAMPAIGN: "Кампания",
    Param.CONTENT: "Содержимое объявления",
    Param.KEYWORD: "Ключевое слово",
    Param.SOCIAL_NETWORK: "Социальная сеть",
    Param.FULL_PATH: "Полный путь перехода",
    Param.CITY: "Город",
    Param.IP: "IP адрес",
    Param.GA_CLIENT_ID: "Идентификатор клиента GA",
    Param.YM_CLIENT_ID: "Идентификатор клиента YM",
    Param.AT_CLIENT_ID: "Идентификатор клиента AT",
    Param.PAGE_PATH: "Путь к странице",
    Param.BROWSER: "Браузер",
    Param.COUNTRY: "Страна",
    Param.DEVICE_CATEGORY: "Категория устройства",
    Param.MAILBOX: "Адрес почтового ящика",
}
#: Fields Leadhub makes on deals for what seed 002 always sends and for its idempotency key.
MESSAGE_FIELD = "Текст сообщения"
#: What an inquiry id may hold: characters a URL path carries unencoded.
INQUIRY_ID_PATTERN = r"^[A-Za-z0-9_.-]+$"
INQUIRY_ID_FIELD = "ID обращения"


class Inquiry(DeferredModel):
    """One inquiry as extraction knows it: who, what, and what attribution found so far."""

    model_config = ConfigDict(frozen=True)

    #: Unique across Leadhub: `<source connector>.<stream>.<vendor id>`.
    id: str = Field(pattern=INQUIRY_ID_PATTERN, max_length=200)
    source_connector_id: str
    type: InquiryType
    occurred_at: datetime
    phone: str | None = None
    email: str | None = None
    name: str | None = None
    subject: str | None = None
    message: str | None = None
    company: str | None = None
    params: dict[Param, str] = Field(default_factory=dict)

    def fingerprint(self) -> str:
        """Changes when anything sent to amoCRM would change: a re-delivery with the same one is a no-op."""
        data = self.model_dump(mode="json", exclude={"occurred_at"})
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


class FieldTarget(DeferredModel):
    """Where a parameter goes: an existing field (`field_id`), a field Leadhub creates, or nowhere."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["existing", "new", "off"] = Field(
        "off", description="`existing`: the amoCRM field `field_id`; `new`: a field Leadhub creates; `off`: not sent."
    )
    field_id: int | None = Field(None, ge=1, description="The amoCRM field's id (mode `existing`).")

    @model_validator(mode="after")
    def _existing_needs_id(self) -> FieldTarget:
        if self.mode == "existing" and self.field_id is None:
            raise ValueError("mode `existing` needs the amoCRM `field_id`")
        return self


ALL_TYPES = [InquiryType.FORM, InquiryType.PHONE, InquiryType.CHAT, InquiryType.OFFLINE]


class LeadSync(DeferredModel):
    """Seed 002's integration settings."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(False, description="Send the project's inquiries to this amoCRM account.")
    inquiry_types: list[InquiryType] = Field(
        default_factory=lambda: list(ALL_TYPES),
        description="«Тип обращения»: which inquiries are sent — form (форма), phone (телефон), chat (чат), "
        "offline (оффлайн).",
    )
    source_connector_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list,
        max_length=50,
        description="The project's connectors whose inquiries are sent; empty: every one of them.",
    )
    create: dict[Entity, bool] = Field(
        default_factory=lambda: {Entity.DEAL: True, Entity.CONTACT: True, Entity.COMPANY: False},
        description="Per entity, «Создавать»: on — mode 1 (create at once, then update for three hours); off — "
        "mode 2 (create nothing; for three hours look for the newest deal of the contact with the inquiry's "
        "e-mail and update it).",
    )
    responsible_user_id: int | None = Field(
        None, ge=1, description="«Ответственный»: the user new deals go to (from `GET …/crm-sync/options`)."
    )
    pipeline_id: int | None = Field(None, ge=1, description="The pipeline new deals go to.")
    status_id: int | None = Field(None, ge=1, description="«Статус воронки» of new deals, in `pipeline_id`.")
    fields: dict[Entity, dict[Param, FieldTarget]] = Field(
        default_factory=dict,
        description="Per entity, each of the 18 parameters (Дата отправки, Источник, Тип трафика, Кампания, …) "
        "mapped to an existing amoCRM field, a new field Leadhub creates, or not sent (left out: not sent). "
        "E-mail / phone, client name, subject and message are always sent.",
    )

    def creates(self, entity: Entity) -> bool:
        return bool(self.create.get(entity, False))

    def targets(self, entity: Entity) -> dict[Param, FieldTarget]:
        return {param: target for param, target in self.fields.get(entity, {}).items() if target.mode != "off"}


def lead_sync_of(settings: dict[str, Any]) -> LeadSync:
    return LeadSync.model_validate(settings.get("lead_sync") or {})


#: An inquiry's sync states, as the status counts them.
PENDING, WAITING, SYNCED, EXPIRED, FAILED, SKIPPED = "pending", "waiting", "synced", "expired", "failed", "skipped"
