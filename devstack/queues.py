"""The local stand-in for an SQS event-source mapping, read from template.yaml.

It polls the function's queue, hands batches of BatchSize to the same handler as in AWS as an SQS
event, and deletes the messages the handler did not report failed (ReportBatchItemFailures); a failed
one comes back after the queue's visibility timeout, as in AWS.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from devstack import template
from devstack.aws import LOCAL_PREFIX
from devstack.lambda_runtime import LocalContext
from devstack.polling import Poller
from leadhub.observability import logger
from leadhub.store.queues import Queue

Handler = Callable[[dict[str, Any], Any], Any]


def sqs_mapping(function_id: str, document: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """A function's SQS event: the logical id of its queue and the mapping's properties."""
    document = document if document is not None else template.load()
    for event in document["Resources"][function_id]["Properties"]["Events"].values():
        if event["Type"] == "SQS":
            properties = dict(event["Properties"])
            return properties["Queue"]["Fn::GetAtt"][0], properties
    raise LookupError(f"{function_id} has no SQS event")


class QueuePump(Poller):
    def __init__(
        self, handler: Handler, function_id: str, *, prefix: str = LOCAL_PREFIX, every_seconds: float = 0.5
    ) -> None:
        queue_id, mapping = sqs_mapping(function_id)
        self.handler = handler
        self.function_name = template.local_name(function_id, prefix)
        self.queue = Queue(template.local_name(queue_id, prefix))
        self.batch_size = min(10, int(mapping.get("BatchSize", 10)))
        super().__init__(every_seconds, "local-queue-pump")

    def poll(self) -> None:
        while self.pump_once():
            pass

    def pump_once(self) -> int:
        """Deliver one batch of what the queue holds now; answers how many messages it held."""
        messages = self.queue.receive(limit=self.batch_size)
        if not messages:
            return 0
        records = [
            {
                "messageId": message.message_id,
                "receiptHandle": message.receipt,
                "body": message.body,
                "eventSource": "aws:sqs",
            }
            for message in messages
        ]
        try:
            answer = self.handler(
                {"Records": records}, LocalContext(function_name=self.function_name, timeout_seconds=300)
            )
            failed = {str(item["itemIdentifier"]) for item in (answer or {}).get("batchItemFailures", [])}
        except Exception:
            logger.exception("the queue handler failed a batch", extra={"function": self.function_name})
            return len(messages)
        for message in messages:
            if message.message_id not in failed:
                self.queue.delete(message.receipt)
        return len(messages)
