"""Domain errors of the store, so callers never catch botocore exceptions."""

from __future__ import annotations


class StoreError(Exception):
    """Storage failed for a reason the caller cannot fix by changing its request."""


class NotFound(StoreError):
    pass


class AlreadyExists(StoreError):
    pass


class VersionConflict(StoreError):
    """Someone else changed the item since it was read: re-read and try again."""


class LeaseHeld(StoreError):
    """Another worker holds the lease on this item."""


class StoreUnavailable(StoreError):
    """Throttled or unreachable: a retry later will likely succeed."""
