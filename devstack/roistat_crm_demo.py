"""The demo project of `make run` for the Roistat custom-CRM export: statuses, fields, managers,
clients and deals (Cyrillic names, float prices, some optional fields empty), and its export page
with a login and password, so the printed URL answers Roistat's requests at once."""

from __future__ import annotations

import random
import time
from typing import Any

from leadhub.roistat_crm.management import ExportPages, PageSettings
from leadhub.roistat_crm.push import Records
from leadhub.setup.projects import ProjectCreate, Projects

STATUSES = [("new", "Новая"), ("work", "В работе"), ("paid", "Оплачена"), ("rejected", "Отказ")]
FIELDS = [("delivery", "Способ доставки"), ("source", "Источник заявки")]
MANAGERS = [("m1", "Анна Смирнова"), ("m2", "Игорь Петров")]
DEALS = 300
CLIENTS = 120


def demo_records(seed: int, now: int) -> dict[str, list[dict[str, Any]]]:
    rng = random.Random(seed)
    clients = [
        {
            "id": f"c{number}",
            "name": rng.choice(["Иван Иванов", "Мария Кузнецова", "ООО «Ромашка»", "John Doe"]),
            "phone": f"7916{rng.randrange(10**7):07d}",
            "email": f"client{number}@example.ru" if number % 3 else "",
            **({"company": "ООО «Ромашка»"} if number % 4 == 0 else {}),
            **(
                {"birth_date": f"19{rng.randrange(50, 99)}-0{rng.randrange(1, 9)}-1{rng.randrange(0, 9)}"}
                if number % 5 == 0
                else {}
            ),
        }
        for number in range(1, CLIENTS + 1)
    ]
    deals = []
    for number in range(1, DEALS + 1):
        deal: dict[str, Any] = {
            "id": f"d{number}",
            "date_create": now - rng.randrange(60 * 86400),
            "status": rng.choice(STATUSES)[0],
            "price": round(rng.uniform(500, 90000), 2),
            "roistat": str(rng.randrange(100000, 999999)),
            "client_id": f"c{rng.randrange(1, CLIENTS + 1)}",
        }
        if number % 2:
            deal["name"] = f"Заказ №{number}"
            deal["cost"] = round(deal["price"] * 0.6, 2)
            deal["manager_id"] = rng.choice(MANAGERS)[0]
            deal["fields"] = {"Способ доставки": rng.choice(["Курьер", "Самовывоз"]), "Источник заявки": "сайт"}
        deals.append(deal)
    return {
        "statuses": [{"id": key, "name": name} for key, name in STATUSES],
        "fields": [{"id": key, "name": name} for key, name in FIELDS],
        "managers": [{"id": key, "name": name} for key, name in MANAGERS],
        "clients": clients,
        "deals": deals,
    }


def seed_demo(account_id: str, api_url: str, seed: int = 42) -> dict[str, str]:
    """Create the demo project with its records and page; answers what Roistat's settings need."""
    project = Projects().create(account_id, ProjectCreate(name="Roistat CRM demo", timezone="Europe/Moscow"))
    records = Records()
    for kind, items in demo_records(seed, int(time.time())).items():
        records.upsert(kind, project.id, items)
    page = ExportPages().create(account_id, project.id, PageSettings(lead_status="new"), api_url)
    return {"project_id": project.id, "url": page.url, "login": page.login, "password": page.password}
