# Leadhub — every target installs what it needs into .venv first.
SHELL := /bin/bash
# The interpreter of the functions' runtime: PATH, then pyenv (.ci/find-python, shared with CI, says what to
# install when none is there). Looked up once, and only by targets that build a venv or call SAM.
PYTHON ?= $(eval PYTHON := $$(shell .ci/find-python))$(PYTHON)
PYTHON_VERSION := $(shell .ci/find-python --version-wanted)
VENV := .venv
PY := $(VENV)/bin/python
# Named after the runtime so a venv built for an older one is rebuilt rather than reused.
STAMP := $(VENV)/.installed-$(PYTHON_VERSION)
export PYTHONPATH := $(CURDIR)/layers/common:$(CURDIR)/functions:$(CURDIR)
export AWS_ACCOUNT_ID_ENDPOINT_MODE := disabled
export SAM_CLI_TELEMETRY := 0

SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
BENCH_STAMP := $(VENV)/.bench-installed

.PHONY: run test lint typecheck cfn-lint sam-validate unit integration e2e infra bench build deploy openapi clean

$(STAMP): requirements-dev.txt layers/common/requirements.txt
	@test -n "$(PYTHON)"
	$(PY) -c 'import sys; assert "%d.%d" % sys.version_info[:2] == "$(PYTHON_VERSION)"' 2>/dev/null \
		|| { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip==24.3.1
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

## make run — the whole product on the embedded local stack (moto + simulators + HTTP API)
run: $(STAMP)
	$(PY) -m devstack

## make test — lint, types, template checks and every test tier
test: lint typecheck cfn-lint sam-validate
	$(PY) -m pytest tests

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

cfn-lint: $(STAMP)
	$(VENV)/bin/cfn-lint template.yaml -a cfn_lint_serverless.rules

# SAM CLI in a venv of its own: its pins must not move the project's.
$(SAM): requirements-sam.txt
	@test -n "$(PYTHON)"
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-sam.txt
	touch $(SAM)

sam-validate: $(SAM)
	AWS_DEFAULT_REGION=eu-central-1 $(SAM) validate --lint -t template.yaml

unit integration e2e infra: $(STAMP)
	$(PY) -m pytest tests/$@

openapi: $(STAMP)
	$(PY) -m leadhub.api.openapi > docs/openapi.json

$(BENCH_STAMP): $(STAMP) requirements-bench.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	touch $(BENCH_STAMP)

## make bench — benchmarks; figures go to BENCHMARKS.md
bench: $(BENCH_STAMP)
	$(PY) -m benchmarks

# SAM builds with the `python3.x` it finds on PATH: put the one make found first.
build: $(SAM)
	PATH="$(dir $(PYTHON)):$$PATH" $(SAM) build

deploy: build
	$(SAM) deploy --guided

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
