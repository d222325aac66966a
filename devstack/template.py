"""Read template.yaml: the tables, buckets and function environment the local stack must mirror.

CloudFormation's short tags (!Ref, !Sub, !GetAtt …) are read as their long forms; a `Ref` to a
template parameter resolves to the parameter's default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    pass


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


def load(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        document: dict[str, Any] = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 (SafeLoader subclass)
    return document


@dataclass
class LocalResources:
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    buckets: dict[str, dict[str, Any]] = field(default_factory=dict)
    queues: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Function environment: variable → the logical id it references, or a literal value.
    environment: dict[str, Any] = field(default_factory=dict)


def _resolve(value: Any, parameters: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in parameters:
            return parameters[value["Ref"]].get("Default")
        return {key: _resolve(inner, parameters) for key, inner in value.items()}
    if isinstance(value, list):
        return [_resolve(inner, parameters) for inner in value]
    return value


def resources(document: dict[str, Any] | None = None) -> LocalResources:
    document = document if document is not None else load()
    parameters = document.get("Parameters", {})
    found = LocalResources()
    for logical_id, resource in document.get("Resources", {}).items():
        properties = _resolve(resource.get("Properties", {}), parameters)
        if resource["Type"] == "AWS::DynamoDB::Table":
            found.tables[logical_id] = properties
        elif resource["Type"] == "AWS::S3::Bucket":
            found.buckets[logical_id] = properties
        elif resource["Type"] == "AWS::SQS::Queue":
            found.queues[logical_id] = properties
    variables = document.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    found.environment = dict(variables)
    return found


def stream_mapping(function_id: str, document: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """A function's DynamoDB stream event: the logical id of its table and the mapping's properties."""
    document = document if document is not None else load()
    events = document["Resources"][function_id]["Properties"]["Events"]
    for event in events.values():
        if event["Type"] == "DynamoDB":
            properties = dict(event["Properties"])
            table = properties["Stream"]["Fn::GetAtt"][0]
            return table, properties
    raise LookupError(f"{function_id} has no DynamoDB stream event")


def local_name(logical_id: str, prefix: str, *, bucket: bool = False) -> str:
    name = f"{prefix}-{logical_id}"
    return name.lower() if bucket else name


def local_environment(found: LocalResources, prefix: str, stage: str = "local") -> dict[str, str]:
    """The function environment with every resource reference replaced by its local name."""
    env: dict[str, str] = {}
    for variable, value in found.environment.items():
        if isinstance(value, dict) and "Ref" in value:
            target = value["Ref"]
            env[variable] = local_name(target, prefix, bucket=target in found.buckets)
        elif isinstance(value, dict) and "Fn::Sub" in value:
            env[variable] = str(value["Fn::Sub"]).replace("${Stage}", stage)
        else:
            env[variable] = str(value)
    return env
