from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from leadhub import __version__
from leadhub.api.contract import operation
from leadhub.models.base import DeferredModel

router = Router()


class Health(DeferredModel):
    status: str
    service: str
    version: str


@router.get(
    "/health",
    tags=["health"],
    **operation("Liveness check", "Answers while the API runs; needs no token.", public=True),
)
def health() -> Health:
    return Health(status="ok", service="leadhub", version=__version__)
