"""Names of a deployed stack's resources, from CloudFormation: CloudFormation names the tables,
so an operator's tool finds them by the stack's name and the template's logical ids."""

from __future__ import annotations

from leadhub.store import aws
from leadhub.store.translate import translated


def physical_name(stack: str, logical_id: str) -> str:
    """NotFound when the stack or the resource does not exist (in this region and account)."""
    with translated(f"resource {logical_id} of stack {stack}"):
        answer = aws.client("cloudformation").describe_stack_resource(StackName=stack, LogicalResourceId=logical_id)
    return str(answer["StackResourceDetail"]["PhysicalResourceId"])
