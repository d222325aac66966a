"""Start another function of the stack without waiting for it (an extraction run, say)."""

from __future__ import annotations

import json
from typing import Any

from leadhub.store import aws
from leadhub.store.translate import translated


def invoke_async(function_name: str, payload: dict[str, Any]) -> None:
    with translated(f"invoke {function_name}"):
        aws.client("lambda").invoke(
            FunctionName=function_name, InvocationType="Event", Payload=json.dumps(payload).encode()
        )
