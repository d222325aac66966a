"""What can go wrong when Leadhub talks to a vendor, in classes a connector status can show.

ConfigError  — the user must act: a bad key, no access to the project, a feature that is off.
TransientError — try again later: 429, 5xx, a timeout, a dropped connection.
MalformedResponse — the vendor answered something we cannot read.
RequestRejected — the vendor refused our request as malformed: a bug on our side.

Every message is redacted when the error is built, so an error can be logged or shown as is.
"""

from __future__ import annotations

from enum import StrEnum

from leadhub.redaction import redact


class ErrorClass(StrEnum):
    CONFIG = "config"
    TRANSIENT = "transient"
    MALFORMED = "malformed"
    BUG = "bug"


class VendorError(Exception):
    error_class: ErrorClass = ErrorClass.BUG
    retryable = False
    #: What a marketer reads in the connector status.
    explanation = "The vendor rejected the request."

    def __init__(
        self,
        vendor: str,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        self.vendor = vendor
        self.message = redact(message)
        self.status = status
        self.code = code
        super().__init__(self.__str__())

    def __str__(self) -> str:
        parts = [f"{self.vendor}: {self.message}"]
        if self.code:
            # not "code=": redaction masks that as an OAuth authorization code
            parts.append(f"vendor_error={self.code}")
        if self.status is not None:
            parts.append(f"http={self.status}")
        return " ".join(parts)

    def to_dict(self) -> dict[str, object]:
        return {
            "vendor": self.vendor,
            "class": self.error_class.value,
            "type": type(self).__name__,
            "code": self.code,
            "status": self.status,
            "message": self.message,
            "explanation": self.explanation,
        }


class ConfigError(VendorError):
    error_class = ErrorClass.CONFIG
    explanation = "The connection settings need attention."


class InvalidCredentials(ConfigError):
    explanation = "The vendor does not accept the key: check it or reconnect the connector."


class AccessDenied(ConfigError):
    explanation = "The key has no access to this project or account."


class FeatureDisabled(ConfigError):
    explanation = "The feature is switched off or not paid for in the vendor account."


class TransientError(VendorError):
    error_class = ErrorClass.TRANSIENT
    retryable = True
    explanation = "The vendor is temporarily unavailable; Leadhub will retry."


class RateLimited(TransientError):
    explanation = "The vendor's request limit was reached; Leadhub will retry later."

    def __init__(
        self,
        vendor: str,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(vendor, message, status=status, code=code)


class ServerError(TransientError):
    explanation = "The vendor's server failed; Leadhub will retry."


class VendorTimeout(TransientError):
    explanation = "The vendor did not answer in time; Leadhub will retry."


class ConnectionFailed(TransientError):
    explanation = "Leadhub could not reach the vendor; it will retry."


class MalformedResponse(VendorError):
    error_class = ErrorClass.MALFORMED
    explanation = "The vendor answered with data Leadhub cannot read."


class RequestRejected(VendorError):
    error_class = ErrorClass.BUG
    explanation = "The vendor rejected Leadhub's request; the Leadhub team has been notified."
