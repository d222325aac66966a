"""Backfill on a settings change: the connectors table's stream, record by record.

A record that fails is reported alone (ReportBatchItemFailures): the mapping retries it a bounded
number of times, then sends it to the failure queue; the other records of its batch are done.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from leadhub.jobs.backfill import on_connector_change
from leadhub.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record: DynamoDBRecord) -> list[str]:
    change = record.dynamodb
    assert change is not None
    return on_connector_change(change.old_image, change.new_image)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )
