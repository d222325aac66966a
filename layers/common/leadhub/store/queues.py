"""An SQS queue by name or URL: what the amoCRM sync's feed sends and the local stack's pump reads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from leadhub.store import aws, errors
from leadhub.store.translate import translated

#: SQS takes at most ten messages a batch call.
SEND_BATCH = 10


@dataclass(frozen=True)
class Received:
    message_id: str
    receipt: str
    body: str


class Queue:
    def __init__(self, name_or_url: str) -> None:
        self._name_or_url = name_or_url
        self._url: str | None = name_or_url if name_or_url.startswith(("http://", "https://")) else None

    @property
    def url(self) -> str:
        if self._url is None:
            with translated(f"queue {self._name_or_url}"):
                self._url = str(aws.client("sqs").get_queue_url(QueueName=self._name_or_url)["QueueUrl"])
        return self._url

    def send(self, bodies: list[dict[str, Any]]) -> None:
        client = aws.client("sqs")
        for start in range(0, len(bodies), SEND_BATCH):
            entries = [
                {"Id": str(index), "MessageBody": json.dumps(body)}
                for index, body in enumerate(bodies[start : start + SEND_BATCH])
            ]
            with translated(f"send to {self._name_or_url}"):
                answer = client.send_message_batch(QueueUrl=self.url, Entries=entries)
            if answer.get("Failed"):
                raise errors.StoreUnavailable(f"{len(answer['Failed'])} messages not queued to {self._name_or_url}")

    def receive(self, *, limit: int = 10, wait_seconds: int = 0) -> list[Received]:
        with translated(f"receive from {self._name_or_url}"):
            answer = aws.client("sqs").receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=limit, WaitTimeSeconds=wait_seconds
            )
        return [
            Received(message["MessageId"], message["ReceiptHandle"], message["Body"])
            for message in answer.get("Messages", [])
        ]

    def delete(self, receipt: str) -> None:
        with translated(f"delete from {self._name_or_url}"):
            aws.client("sqs").delete_message(QueueUrl=self.url, ReceiptHandle=receipt)
