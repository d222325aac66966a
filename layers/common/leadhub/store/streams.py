"""A table's DynamoDB stream and an SQS queue, for the local stack's stand-in of an event-source
mapping (in AWS the Lambda service reads the stream and writes the failure queue itself)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from leadhub.store import aws
from leadhub.store.translate import translated


def _plain(value: Any) -> Any:
    """A record as Lambda's event carries it: JSON only (times as epoch seconds)."""
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, dict):
        return {key: _plain(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_plain(inner) for inner in value]
    return value


class TableStream:
    """Reads a table's stream from where it stood when opened (LATEST), every shard."""

    def __init__(self, table_name: str) -> None:
        with translated(f"describe table {table_name}"):
            self.arn = aws.client("dynamodb").describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        self._iterators: dict[str, str] = {}
        self._open_new_shards()

    def _open_new_shards(self) -> None:
        streams = aws.client("dynamodbstreams")
        with translated(f"describe stream {self.arn}"):
            shards = streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                with translated(f"shard iterator {shard_id}"):
                    answer = streams.get_shard_iterator(
                        StreamArn=self.arn, ShardId=shard_id, ShardIteratorType="LATEST"
                    )
                self._iterators[shard_id] = answer["ShardIterator"]

    def read(self) -> list[dict[str, Any]]:
        """The records written since the last read, as an event-source mapping hands them to Lambda."""
        streams = aws.client("dynamodbstreams")
        self._open_new_shards()
        records = []
        for shard_id, iterator in list(self._iterators.items()):
            with translated(f"read stream shard {shard_id}"):
                answer = streams.get_records(ShardIterator=iterator)
            self._iterators[shard_id] = answer.get("NextShardIterator") or iterator
            for record in answer.get("Records", []):
                records.append({**_plain(record), "eventSourceARN": self.arn})
        return records


def queue_url(name: str) -> str:
    with translated(f"queue {name}"):
        return str(aws.client("sqs").get_queue_url(QueueName=name)["QueueUrl"])


def send_message(url: str, body: dict[str, Any]) -> None:
    with translated(f"send to {url}"):
        aws.client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps(body))


def receive_messages(url: str, *, limit: int = 10) -> list[dict[str, Any]]:
    with translated(f"receive from {url}"):
        answer = aws.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=limit, WaitTimeSeconds=0)
    return [json.loads(message["Body"]) for message in answer.get("Messages", [])]
