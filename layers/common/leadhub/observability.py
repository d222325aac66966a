"""The one place Logger, Tracer and Metrics are built.

Secrets are masked twice over: a filter rewrites every record (message, arguments, extra keys,
exception text) before any handler sees it — pytest's capture and other root handlers included —
and the JSON formatter redacts the final line, so no code path can log a credential by accident.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
import warnings
from typing import Any, TextIO

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from leadhub.redaction import redact

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "leadhub")
METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Leadhub")

_STANDARD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_value(inner) for key, inner in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(inner) for inner in value]
    if isinstance(value, BaseException):
        return redact(f"{type(value).__name__}: {value}")
    return value


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, dict):
            record.msg = redact_value(record.msg)
        else:
            record.msg = redact(record.getMessage())
        record.args = None
        for name, value in list(vars(record).items()):
            if name not in _STANDARD_ATTRIBUTES:
                setattr(record, name, redact_value(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
        return True


class RedactingFormatter(LambdaPowertoolsFormatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class StdoutHandler(logging.StreamHandler):
    """Writes to whatever sys.stdout is at the time (so test capture and redirection see it)."""

    @property
    def stream(self) -> TextIO:
        return sys.stdout

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        return


_handler = StdoutHandler()
_handler.addFilter(RedactingFilter())
logger = Logger(service=SERVICE, logger_formatter=RedactingFormatter(), logger_handler=_handler)
logger.addFilter(RedactingFilter())
# Patched: what Leadhub calls. botocore (every AWS call) now; requests when the first vendor client is made
# (vendors/transport.py), so a handler that calls no vendor never imports it.
tracer = Tracer(service=SERVICE, patch_modules=("botocore",))
# A request that records no business metric is normal (health checks, 4xx); not worth a warning.
warnings.filterwarnings("ignore", message="No application metrics to publish")
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)
