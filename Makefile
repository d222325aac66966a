# Leadhub — every target installs what it needs into .venv first.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PYTHONPATH := $(CURDIR)/layers/common:$(CURDIR)/functions:$(CURDIR)
export AWS_ACCOUNT_ID_ENDPOINT_MODE := disabled
export SAM_CLI_TELEMETRY := 0

.PHONY: run test lint typecheck cfn-lint unit integration e2e infra bench build deploy openapi clean

$(STAMP): requirements-dev.txt layers/common/requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip==24.3.1
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

## make run — the whole product on the embedded local stack (moto + simulators + HTTP API)
run: $(STAMP)
	$(PY) -m devstack

## make test — lint, types, template checks and every test tier
test: lint typecheck cfn-lint
	$(PY) -m pytest tests

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

cfn-lint: $(STAMP)
	$(VENV)/bin/cfn-lint template.yaml -a cfn_lint_serverless.rules

unit integration e2e infra: $(STAMP)
	$(PY) -m pytest tests/$@

openapi: $(STAMP)
	$(PY) -m leadhub.api.openapi > docs/openapi.json

bench: $(STAMP)
	$(PY) -m benchmarks

build:
	sam build

deploy: build
	sam deploy --guided

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
