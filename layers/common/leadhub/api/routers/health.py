from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel

from leadhub import __version__

router = Router()


class Health(BaseModel):
    status: str
    service: str
    version: str


@router.get("/health", summary="Liveness check", tags=["health"])
def health() -> Health:
    return Health(status="ok", service="leadhub", version=__version__)
