"""Test-session wiring: dummy AWS credentials, moto's server as the embedded AWS, fresh
tables from template.yaml for every test that asks for them."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import requests
from hypothesis import settings

from devstack.aws import LOCAL_AWS_ENV, EmbeddedAws, provision_from_template, use_endpoint
from leadhub.vendors import ratelimit

for _name, _value in LOCAL_AWS_ENV.items():
    os.environ[_name] = _value
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

# Hypothesis' per-example deadline is a timing assertion: on a shared, busy machine it fails examples
# that are merely slow (a test must fail only on a wrong answer).
settings.register_profile("leadhub", deadline=None)
settings.load_profile("leadhub")


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """Each test starts with the rate-limit history of a fresh process."""
    ratelimit.forget_all()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    server = EmbeddedAws()
    endpoint = server.start()
    use_endpoint(endpoint)
    yield endpoint
    server.stop()


@pytest.fixture
def aws(moto_endpoint: str) -> Iterator[dict[str, str]]:
    """A clean embedded AWS with the template's tables and bucket; yields the function environment."""
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10).raise_for_status()
    env = provision_from_template()
    yield env
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10).raise_for_status()
