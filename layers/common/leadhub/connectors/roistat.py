"""Roistat: call tracking, orders, proxy leads (forms and chats) and the client report."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from leadhub.models.credentials import Key, VendorCredentials
from leadhub.models.settings import KpiSettings, Vendor


class RoistatCredentials(VendorCredentials):
    api_key: Key = Field(
        description="The secret API key («секретный ключ»): Roistat → Профиль → Настройки → API. The «Управление "
        "клиентами» module must be on, with «Просмотр контактных данных клиента» allowed."
    )


class RoistatStreams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    calls: bool = Field(default=True, description="«Звонки»: calls from Roistat call tracking (table calls).")
    orders: bool = Field(
        default=True, description="«Лиды, сделки из CRM»: every lead and deal created in the CRM (table orders)."
    )
    proxyleads: bool = Field(
        default=True,
        description="«Заявки (проксилиды)»: forms, chats and integrations other than calls (table proxyleads).",
    )


class RoistatSettings(KpiSettings):
    vendor: Literal[Vendor.ROISTAT] = Vendor.ROISTAT
    client_report: bool = Field(
        default=True,
        description="«Выгрузка клиентского отчета»: the dashboard needs it, so it is always on (only `true` is "
        "accepted). Needs the «Управление клиентами» module in Roistat.",
        json_schema_extra={"const": True},
    )
    include_not_counted: bool = Field(
        default=True,
        description="«Учитывать в дашборде сделки Roistat со статусом «Не учитывается»»: count the deals Roistat "
        "hides by default (spam, duplicates…).",
    )
    streams: RoistatStreams = Field(
        default_factory=RoistatStreams, description="«Подробные настройки для выгрузки»: which streams load."
    )

    @field_validator("client_report")
    @classmethod
    def _client_report_always_on(cls, value: bool) -> bool:
        if not value:
            raise ValueError(
                "the client report is always on: the dashboard needs it. Make sure the "
                "«Управление клиентами» (client management) module is enabled in Roistat"
            )
        return value
