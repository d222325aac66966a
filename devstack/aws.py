"""The embedded AWS: moto's ThreadedMotoServer on 127.0.0.1, provisioned from template.yaml."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from moto.server import ThreadedMotoServer

from devstack import template
from leadhub.store import aws, provision

#: Local resource names are `<prefix>-<logical id>` (devstack.template.local_name).
LOCAL_PREFIX = "leadhub-local"

LOCAL_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-central-1",
    "AWS_REGION": "eu-central-1",
    # botocore >= 1.44 sends DynamoDB Streams to an account-id host moto does not serve
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
}


class EmbeddedAws:
    def __init__(self, port: int = 0) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self.endpoint = ""

    def start(self) -> str:
        # werkzeug's request lines carry presigned query strings: keep them out of the output
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        return self.endpoint

    def stop(self) -> None:
        self._server.stop()


def use_endpoint(endpoint: str) -> None:
    """Point this process's AWS clients at `endpoint` with dummy local credentials."""
    for name, value in LOCAL_AWS_ENV.items():
        os.environ.setdefault(name, value)
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    aws.reset()


def provision_from_template(prefix: str = LOCAL_PREFIX, path: Path = template.TEMPLATE) -> dict[str, str]:
    """Create every table and bucket of the template; set and return the function environment."""
    found = template.resources(template.load(path))
    for logical_id, properties in found.tables.items():
        provision.create_table(template.local_name(logical_id, prefix), properties)
    for logical_id, properties in found.buckets.items():
        provision.create_bucket(template.local_name(logical_id, prefix, bucket=True), properties)
    for logical_id in found.queues:
        provision.create_queue(template.local_name(logical_id, prefix))
    env = template.local_environment(found, prefix)
    os.environ.update(env)
    aws.reset()
    return env
