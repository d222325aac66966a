"""The one place Logger, Tracer and Metrics are built.

Every log line passes through `RedactingFormatter`, which masks secrets in the final JSON (message,
extra keys, exception text alike), so no code path can log a credential by accident.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from leadhub.redaction import redact

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "leadhub")
METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Leadhub")


class RedactingFormatter(LambdaPowertoolsFormatter):
    def format(self, record: Any) -> str:
        return redact(super().format(record))


logger = Logger(service=SERVICE, logger_formatter=RedactingFormatter())
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)
