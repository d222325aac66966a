"""botocore errors → store domain errors, in one place."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

from leadhub.store import errors

_THROTTLING = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "SlowDown",
    "ServiceUnavailable",
    "InternalServerError",
}
_ALREADY_EXISTS = {"ResourceExistsException", "BucketAlreadyOwnedByYou", "ResourceInUseException"}
_NOT_FOUND = {"ResourceNotFoundException", "NoSuchKey", "NoSuchBucket", "404"}


@contextmanager
def translated(what: str, *, on_condition: type[errors.StoreError] = errors.VersionConflict) -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("ConditionalCheckFailedException", "TransactionCanceledException"):
            raise on_condition(what) from None
        if code in _ALREADY_EXISTS:
            raise errors.AlreadyExists(what) from None
        if code in _THROTTLING:
            raise errors.StoreUnavailable(f"{what}: {code}") from None
        if code in _NOT_FOUND:
            raise errors.NotFound(f"{what}: {code}") from None
        raise errors.StoreError(f"{what}: {code}") from None
    except BotoCoreError as exc:
        raise errors.StoreUnavailable(f"{what}: {type(exc).__name__}") from None
