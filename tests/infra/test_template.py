"""template.yaml is the single source of the infrastructure: checks on it, and proof that the
embedded AWS is built from it."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from devstack import template
from devstack.aws import provision_from_template
from devstack.streams import matches
from leadhub.connectors.registry import SPECS
from leadhub.settings import Settings
from leadhub.store import aws as store_aws

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return template.load()


def resources_of(document: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in document["Resources"].items() if r["Type"] == kind}


def test_cfn_lint_with_serverless_rules_passes() -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(
        [str(cfn_lint), str(ROOT / "template.yaml"), "-a", "cfn_lint_serverless.rules"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_connectors_table_streams_old_and_new_images(document: dict[str, Any]) -> None:
    table = document["Resources"]["ConnectorsTable"]["Properties"]
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"


def test_every_table_is_encrypted_and_on_demand(document: dict[str, Any]) -> None:
    for name, table in resources_of(document, "AWS::DynamoDB::Table").items():
        assert table["Properties"]["SSESpecification"] == {"SSEEnabled": True}, name
        assert table["Properties"]["BillingMode"] == "PAY_PER_REQUEST", name


def test_the_bucket_is_private_and_exports_expire(document: dict[str, Any]) -> None:
    bucket = document["Resources"]["DataBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    rules = {rule["Id"]: rule for rule in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-exports"]["Prefix"] == "exports/"


def test_every_function_has_a_log_group_with_retention(document: dict[str, Any]) -> None:
    functions = resources_of(document, "AWS::Serverless::Function")
    groups = [g["Properties"] for g in resources_of(document, "AWS::Logs::LogGroup").values()]
    for name in functions:
        assert any(
            g.get("LogGroupName") == {"Fn::Sub": f"/aws/lambda/${{{name}}}"} and "RetentionInDays" in g for g in groups
        ), name


def test_functions_and_layer_run_on_python_3_13(document: dict[str, Any]) -> None:
    assert document["Globals"]["Function"]["Runtime"] == "python3.13"
    for name, function in resources_of(document, "AWS::Serverless::Function").items():
        assert function["Properties"].get("Runtime", "python3.13") == "python3.13", name
    layer = document["Resources"]["CommonLayer"]
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Metadata"]["BuildMethod"] == "makefile"  # compiles the bytecode SAM's builder leaves out
    assert "build-CommonLayer:" in (ROOT / layer["Properties"]["ContentUri"] / "Makefile").read_text()
    assert (ROOT / layer["Properties"]["ContentUri"] / "leadhub" / "__init__.py").exists()
    assert (ROOT / layer["Properties"]["ContentUri"] / "requirements.txt").exists()


def test_every_function_env_variable_is_a_setting(document: dict[str, Any]) -> None:
    variables = document["Globals"]["Function"]["Environment"]["Variables"]
    aliases = {field.alias for field in Settings.model_fields.values()}
    resource_refs = [name for name, value in variables.items() if isinstance(value, dict) and "Ref" in value]
    assert resource_refs
    assert set(resource_refs) <= aliases


def describe_tables() -> dict[str, dict[str, Any]]:
    client = store_aws.client("dynamodb")
    return {name: client.describe_table(TableName=name)["Table"] for name in client.list_tables()["TableNames"]}


@pytest.mark.usefixtures("aws")
def test_the_embedded_tables_are_the_templates_tables(document: dict[str, Any]) -> None:
    tables = describe_tables()
    for logical_id, resource in resources_of(document, "AWS::DynamoDB::Table").items():
        live = tables[template.local_name(logical_id, "leadhub-local")]
        assert live["KeySchema"] == resource["Properties"]["KeySchema"]
        declared_indexes = {i["IndexName"] for i in resource["Properties"].get("GlobalSecondaryIndexes", [])}
        assert {i["IndexName"] for i in live.get("GlobalSecondaryIndexes", [])} == declared_indexes
        has_stream = "StreamSpecification" in resource["Properties"]
        assert live.get("StreamSpecification", {}).get("StreamEnabled", False) == has_stream


def test_a_change_to_the_template_changes_the_embedded_tables(
    aws: dict[str, str], document: dict[str, Any], tmp_path: Path
) -> None:
    changed = copy.deepcopy(document)
    table = changed["Resources"]["JobsTable"]["Properties"]
    table["AttributeDefinitions"].append({"AttributeName": "status", "AttributeType": "S"})
    table["GlobalSecondaryIndexes"] = [
        {
            "IndexName": "by_status",
            "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        }
    ]
    changed["Resources"]["ScratchTable"] = copy.deepcopy(document["Resources"]["TokensTable"])
    path = tmp_path / "template.yaml"
    path.write_text(yaml.safe_dump(changed), encoding="utf-8")

    provision_from_template(prefix="changed", path=path)

    tables = describe_tables()
    assert [i["IndexName"] for i in tables["changed-JobsTable"]["GlobalSecondaryIndexes"]] == ["by_status"]
    assert "changed-ScratchTable" in tables
    assert not tables["leadhub-local-JobsTable"].get("GlobalSecondaryIndexes")


def test_the_backfill_reads_the_connectors_stream_through_a_bounded_mapping(document: dict[str, Any]) -> None:
    table, mapping = template.stream_mapping("BackfillFunction", document)
    assert table == "ConnectorsTable"
    assert mapping["Stream"] == {"Fn::GetAtt": ["ConnectorsTable", "StreamArn"]}
    # never AWS's retry-until-expiry default: a bounded retry, bisection, a record age, a failure queue
    assert 0 < mapping["MaximumRetryAttempts"] <= 5
    assert mapping["BisectBatchOnFunctionError"] is True
    assert 0 < mapping["MaximumRecordAgeInSeconds"] <= 6 * 3600
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    failure = mapping["DestinationConfig"]["OnFailure"]
    assert failure["Type"] == "SQS"
    queue = failure["Destination"]["Fn::GetAtt"][0]
    assert document["Resources"][queue]["Type"] == "AWS::SQS::Queue"
    [pattern] = [json.loads(item["Pattern"]) for item in mapping["FilterCriteria"]["Filters"]]
    assert pattern["eventName"] == ["MODIFY"]
    assert pattern["dynamodb"]["NewImage"]["sk"] == {"S": [{"prefix": "CONNECTOR#"}]}


def test_the_backfill_filter_lets_a_connector_change_through_and_nothing_else(document: dict[str, Any]) -> None:
    _, mapping = template.stream_mapping("BackfillFunction", document)
    [pattern] = [json.loads(item["Pattern"]) for item in mapping["FilterCriteria"]["Filters"]]

    def record(event: str, sk: str) -> dict[str, Any]:
        image = {"sk": {"S": sk}, "settings_version": {"N": "2"}}
        return {"eventName": event, "dynamodb": {"NewImage": image}}

    assert matches(pattern, record("MODIFY", "CONNECTOR#p#c"))
    assert not matches(pattern, record("INSERT", "CONNECTOR#p#c"))
    assert not matches(pattern, record("MODIFY", "PROJECT#p"))


def test_the_backfill_holds_only_what_it_needs(document: dict[str, Any]) -> None:
    policies = document["Resources"]["BackfillFunction"]["Properties"]["Policies"]
    crud = [policy for policy in policies if "DynamoDBCrudPolicy" in policy]
    assert crud == [{"DynamoDBCrudPolicy": {"TableName": {"Ref": "JobsTable"}}}]  # writes jobs, nothing else
    [statement] = [s for policy in policies if "Statement" in policy for s in policy["Statement"]]
    assert statement["Action"] == ["lambda:InvokeFunction"]
    assert "secretsmanager" not in json.dumps(policies)
    assert "s3" not in json.dumps(policies).lower()


def test_every_extracted_vendor_is_scheduled_hourly(document: dict[str, Any]) -> None:
    events = document["Resources"]["ExtractFunction"]["Properties"]["Events"]
    scheduled = {
        json.loads(event["Properties"]["Input"])["vendor"]: event["Properties"]["ScheduleExpression"]
        for event in events.values()
        if event["Type"] == "ScheduleV2"
    }
    extracted = {spec.vendor.value for spec in SPECS.values() if spec.readers is not None}
    assert {"roistat", "ringostat", "calltouch"} <= extracted
    assert {vendor: scheduled.get(vendor) for vendor in extracted} == dict.fromkeys(extracted, "rate(1 hour)")
