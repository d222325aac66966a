"""Create DynamoDB tables and S3 buckets from their CloudFormation definitions.

Used by the local stack and the tests, which take the definitions from template.yaml, so that
what runs locally cannot drift from what is deployed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from leadhub.store import aws, errors
from leadhub.store.translate import translated

_TABLE_FIELDS = (
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "StreamSpecification",
    "BillingMode",
)


def table_request(name: str, properties: Mapping[str, Any]) -> dict[str, Any]:
    """The CreateTable request for a table defined as `properties` in the template."""
    request: dict[str, Any] = {"TableName": name}
    for field in _TABLE_FIELDS:
        if field in properties:
            request[field] = properties[field]
    if "StreamSpecification" in request:
        request["StreamSpecification"] = {"StreamEnabled": True, **request["StreamSpecification"]}
    request.setdefault("BillingMode", "PROVISIONED")
    if request["BillingMode"] == "PROVISIONED":
        request.setdefault("ProvisionedThroughput", {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    return request


def create_table(name: str, properties: Mapping[str, Any]) -> None:
    client = aws.client("dynamodb")
    try:
        with translated(f"create table {name}"):
            client.create_table(**table_request(name, properties))
    except errors.AlreadyExists:
        return
    ttl = properties.get("TimeToLiveSpecification")
    if ttl:
        with translated(f"ttl on {name}"):
            client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)


def create_bucket(name: str, properties: Mapping[str, Any]) -> None:
    client = aws.client("s3")
    try:
        with translated(f"create bucket {name}"):
            client.create_bucket(Bucket=name, **_location(client.meta.region_name))
    except errors.AlreadyExists:
        return
    if "VersioningConfiguration" in properties:
        with translated(f"versioning on {name}"):
            client.put_bucket_versioning(Bucket=name, VersioningConfiguration=properties["VersioningConfiguration"])
    if "LifecycleConfiguration" in properties:
        rules = [_lifecycle_rule(rule) for rule in properties["LifecycleConfiguration"]["Rules"]]
        with translated(f"lifecycle on {name}"):
            client.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})


def create_queue(name: str) -> None:
    with translated(f"create queue {name}"):
        aws.client("sqs").create_queue(QueueName=name)


def _location(region: str) -> dict[str, Any]:
    if region == "us-east-1":
        return {}
    return {"CreateBucketConfiguration": {"LocationConstraint": region}}


def _lifecycle_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle rule as the S3 API spells it."""
    converted: dict[str, Any] = {"ID": rule.get("Id", "rule"), "Status": rule["Status"]}
    converted["Filter"] = {"Prefix": rule.get("Prefix", "")}
    if "ExpirationInDays" in rule:
        converted["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "NoncurrentVersionExpiration" in rule:
        converted["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": int(rule["NoncurrentVersionExpiration"]["NoncurrentDays"])
        }
    return converted
