"""An amoCRM account as the sync uses it: a client whose tokens live in the connector's secret.

amoCRM refresh tokens are single-use (calltouch-amocrm.md E3), so every pair the client obtains is stored
at once with a compare-and-swap against the version read. When two workers refresh at the same moment
one of them wins at amoCRM; the other's refresh is refused, and it re-reads the secret and carries on
with the winner's pair. A store that lost its swap also re-reads and adopts what is stored. Access is
renewed before it expires, so a batch rarely meets a 401 halfway.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from leadhub.connectors import amocrm
from leadhub.observability import logger
from leadhub.store import errors as store_errors
from leadhub.store.secrets import SecretStore
from leadhub.vendors.amocrm import DEFAULT_POLICY, AmoCrmClient, AmoTokens
from leadhub.vendors.ratelimit import Rate
from leadhub.vendors.transport import RetryPolicy, VendorPolicy

#: Renew the access token when less than this is left of it.
REFRESH_MARGIN_SECONDS = 600
#: A refusal of a spent refresh token may come before the winner has stored its pair: look again this often.
RELOAD_ATTEMPTS = 5
RELOAD_PAUSE_SECONDS = 0.3
#: Few retries and a pause longer than amoCRM's one-second window: each 429 counts toward the IP ban (B3),
#: so a refusal that outlives these ends the run and the sync cools down instead of insisting.
SYNC_POLICY = VendorPolicy(
    vendor=DEFAULT_POLICY.vendor,
    rates=(Rate(7, 1.1),),
    retry=RetryPolicy(max_attempts=3, backoff_base=1.5, backoff_cap=5.0, max_retry_after=10.0),
)


class AmoAccount:
    def __init__(
        self,
        connector_id: str,
        *,
        secrets: SecretStore | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
        batch_size: int = 250,
    ) -> None:
        self.connector_id = connector_id
        self._secrets = secrets or SecretStore()
        self._now = now
        self._credentials, self._version = self._secrets.get_versioned(connector_id)
        self.client: AmoCrmClient = amocrm.client(
            self._credentials,
            on_tokens=self._store,
            reload_tokens=self._reload,
            sleep=sleep,
            policy=SYNC_POLICY,
            batch_size=batch_size,
        )

    def fresh(self) -> AmoCrmClient:
        """The client, its access renewed first when it is about to expire."""
        tokens = self.client.tokens
        renewable = tokens is not None and tokens.refresh_token is not None and tokens.expires_at is not None
        if renewable and tokens is not None and (tokens.expires_at or 0) - self._now() < REFRESH_MARGIN_SECONDS:
            self.client.refresh()
        return self.client

    def _store(self, tokens: AmoTokens) -> None:
        updated: dict[str, Any] = {**self._credentials, "tokens": tokens.stored()}
        try:
            self._version = self._secrets.put_if_current(self.connector_id, updated, self._version)
            self._credentials = updated
        except store_errors.VersionConflict:
            # someone stored a pair after we read ours (their refresh, a reconnect): theirs is current
            logger.info("amoCRM tokens changed while refreshing; adopting the stored pair")
            stored = self._read()
            if stored is not None:
                self.client.use_tokens(stored)

    def _read(self) -> AmoTokens | None:
        self._credentials, self._version = self._secrets.get_versioned(self.connector_id)
        raw = self._credentials.get("tokens")
        return AmoTokens.model_validate(raw) if raw else None

    def _reload(self) -> AmoTokens | None:
        """The stored pair once it differs from the one whose refresh was refused (the winner's)."""
        spent = self.client.tokens.refresh_token if self.client.tokens else None
        stored = None
        for attempt in range(RELOAD_ATTEMPTS):
            stored = self._read()
            if stored is not None and stored.refresh_token != spent:
                return stored
            if attempt + 1 < RELOAD_ATTEMPTS:
                # real time even under a test's clock: the winner is another worker, storing as we wait
                time.sleep(RELOAD_PAUSE_SECONDS)
        return stored
