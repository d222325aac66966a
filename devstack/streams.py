"""The local stand-in for a DynamoDB-stream event-source mapping, read from template.yaml.

It reads the table's stream (moto's), keeps the records the mapping's FilterCriteria let through,
hands them to the same handler as in AWS in batches of BatchSize, retries the records the handler
reports failed (ReportBatchItemFailures) or the halves of a batch whose invocation raised
(BisectBatchOnFunctionError) up to MaximumRetryAttempts, then sends what still fails to the
OnFailure queue — never AWS's retry-until-expiry default.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from devstack import template
from devstack.aws import LOCAL_PREFIX
from devstack.lambda_runtime import LocalContext
from devstack.polling import Poller
from leadhub.observability import logger
from leadhub.store.streams import TableStream, queue_url, send_message

Handler = Callable[[dict[str, Any], Any], Any]


def matches(pattern: dict[str, Any], document: Any) -> bool:
    """Whether an EventBridge-style filter pattern (the subset FilterCriteria here use: values,
    `prefix`, `exists`) matches the document."""
    if not isinstance(document, dict):
        return False
    return all(_field(rule, document.get(name), name in document) for name, rule in pattern.items())


def _field(rule: Any, value: Any, present: bool) -> bool:
    if isinstance(rule, dict):
        return present and matches(rule, value)
    return any(_alternative(alternative, value, present) for alternative in rule)


def _alternative(alternative: Any, value: Any, present: bool) -> bool:
    if isinstance(alternative, dict):
        if "exists" in alternative:
            return present == bool(alternative["exists"])
        if "prefix" in alternative:
            return isinstance(value, str) and value.startswith(alternative["prefix"])
        return False
    return present and value == alternative


def _sequence(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


class StreamPump(Poller):
    def __init__(
        self, handler: Handler, function_id: str, *, prefix: str = LOCAL_PREFIX, every_seconds: float = 0.5
    ) -> None:
        table, mapping = template.stream_mapping(function_id)
        self.handler = handler
        self.function_name = template.local_name(function_id, prefix)
        self.stream = TableStream(template.local_name(table, prefix))
        destination = mapping["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
        self.failure_queue = queue_url(template.local_name(destination, prefix))
        self.patterns = [json.loads(item["Pattern"]) for item in mapping.get("FilterCriteria", {}).get("Filters", [])]
        self.batch_size = int(mapping.get("BatchSize", 100))
        self.retries = int(mapping.get("MaximumRetryAttempts", 0))
        self.bisect = bool(mapping.get("BisectBatchOnFunctionError", False))
        super().__init__(every_seconds, "local-stream-pump")

    def poll(self) -> None:
        self.pump_once()

    def pump_once(self) -> int:
        """Deliver what the stream holds now; answers how many records passed the filter."""
        records = self.read()
        for start in range(0, len(records), self.batch_size):
            self.deliver(records[start : start + self.batch_size])
        return len(records)

    def read(self) -> list[dict[str, Any]]:
        """The records written since the last read that the mapping's filter lets through."""
        return [record for record in self.stream.read() if self._wanted(record)]

    def _wanted(self, record: dict[str, Any]) -> bool:
        return not self.patterns or any(matches(pattern, record) for pattern in self.patterns)

    def deliver(self, batch: list[dict[str, Any]], attempt: int = 0) -> None:
        failed = self._invoke(batch)
        if failed is None and self.bisect and len(batch) > 1:
            half = len(batch) // 2
            self.deliver(batch[:half], attempt)
            self.deliver(batch[half:], attempt)
            return
        pending = batch if failed is None else [record for record in batch if _sequence(record) in failed]
        if not pending:
            return
        if attempt >= self.retries:
            self._park(pending)
            return
        self.deliver(pending, attempt + 1)

    def _invoke(self, batch: list[dict[str, Any]]) -> set[str] | None:
        """The sequence numbers the handler reported failed; None when the invocation itself failed."""
        try:
            answer = self.handler({"Records": batch}, LocalContext(function_name=self.function_name))
        except Exception:
            logger.exception("the stream handler failed a batch", extra={"function": self.function_name})
            return None
        return {str(item["itemIdentifier"]) for item in (answer or {}).get("batchItemFailures", [])}

    def _park(self, records: list[dict[str, Any]]) -> None:
        """What the mapping's OnFailure destination receives: where the records are, not the records."""
        for record in records:
            send_message(
                self.failure_queue,
                {
                    "requestContext": {"condition": "RetryAttemptsExhausted", "functionArn": self.function_name},
                    "DDBStreamBatchInfo": {
                        "streamArn": record.get("eventSourceARN"),
                        "startSequenceNumber": _sequence(record),
                        "endSequenceNumber": _sequence(record),
                        "batchSize": 1,
                    },
                },
            )
