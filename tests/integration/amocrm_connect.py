"""An amoCRM connector made the way a user makes one: the OAuth code of the simulator's consent screen."""

from __future__ import annotations

from typing import Any

from leadhub.models.settings import Vendor
from leadhub.setup.connectors import ConnectorCreate, Connectors
from simulators.amocrm import AmoCrmSimulator

#: The integration's fields a user copies from amoCRM; the code comes with the consent redirect.
INTEGRATION_FIELDS = ("subdomain", "client_id", "client_secret", "redirect_uri")


def connect_amocrm(account: str, project_id: str, sim: AmoCrmSimulator, settings: dict[str, Any] | None = None) -> str:
    credentials = {name: getattr(sim.knobs, name) for name in INTEGRATION_FIELDS}
    request = ConnectorCreate(
        vendor=Vendor.AMOCRM,
        name="amoCRM",
        vendor_account_id=str(sim.crm.account_id),
        credentials={**credentials, "code": sim.issue_code()},
        settings=settings or {},
    )
    return Connectors().create(account, project_id, request).id
