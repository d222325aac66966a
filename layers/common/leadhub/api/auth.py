"""Bearer-token authentication: every route but the public ones needs `Authorization: Bearer <token>`.

Tokens are stored hashed and map to an account; the account id goes into the resolver context
for the routes. In AWS the API function checks the token itself (no separate authorizer), so the
local stack and the deployment authenticate with exactly the same code.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from leadhub.api.problems import problem
from leadhub.observability import logger
from leadhub.store.tokens import TokenStore

PUBLIC_PATHS = frozenset({"/health", "/openapi.json", "/swagger"})
ACCOUNT = "account_id"


def _unauthorized(message: str) -> Response[Any]:
    return problem(HTTPStatus.UNAUTHORIZED, message, headers={"WWW-Authenticate": 'Bearer realm="leadhub"'})


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate(app: APIGatewayHttpResolver) -> Response[Any] | None:
    """None when the request may go on (its account now in the context), else the 401 answer.

    It runs before anything else, request validation included (leadhub.api.edge): Powertools runs
    its validation ahead of every middleware, and a caller without a token must learn nothing,
    not even which fields a route wants."""
    if app.current_event.path in PUBLIC_PATHS:
        return None
    token = bearer_token(app.current_event.headers.get("authorization"))
    if token is None:
        return _unauthorized("missing or malformed Authorization header: send 'Authorization: Bearer <token>'")
    account_id = TokenStore().account_for(token)
    if account_id is None:
        return _unauthorized("unknown or revoked token")
    app.append_context(**{ACCOUNT: account_id})
    logger.append_keys(account_id=account_id)
    return None


def current_account(router: Router) -> str:
    return str(router.context[ACCOUNT])
