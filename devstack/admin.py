"""`python -m leadhub.admin` against the running local stack (`make token ACCOUNT=…`).

The local stack names its tables from template.yaml with its own prefix; this sets that
environment, plus the dummy credentials moto accepts, then runs the operator's CLI unchanged.
The endpoint is the one `make run` prints: `AWS_ENDPOINT_URL=http://127.0.0.1:PORT`.
"""

from __future__ import annotations

import os
import sys

from devstack import template
from devstack.aws import LOCAL_PREFIX, use_endpoint
from leadhub import admin


def main() -> int:
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        print(
            "AWS_ENDPOINT_URL is not set: start `make run` and use the command it prints,"
            " e.g. AWS_ENDPOINT_URL=http://127.0.0.1:PORT make token ACCOUNT=acme",
            file=sys.stderr,
        )
        return 2
    use_endpoint(endpoint)
    os.environ.update(template.local_environment(template.resources(), LOCAL_PREFIX))
    return admin.main(sys.argv[1:], prog=f"AWS_ENDPOINT_URL={endpoint} python -m devstack.admin")


if __name__ == "__main__":
    raise SystemExit(main())
