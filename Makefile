# Leadhub — every target installs what it needs into .venv first.
SHELL := /bin/bash
# The interpreter of the functions' runtime: PATH, then pyenv (.ci/find-python, shared with CI, says what to
# install when none is there). Looked up once, and only by targets that build a venv or call SAM.
PYTHON ?= $(eval PYTHON := $$(shell .ci/find-python))$(PYTHON)
PYTHON_VERSION := $(shell .ci/find-python --version-wanted)
VENV := .venv
PY := $(VENV)/bin/python
# Named after the runtime so a venv built for an older one is rebuilt rather than reused. Two stamps:
# `make run` installs only what running needs; test targets add their tools on top.
RUN_STAMP := $(VENV)/.installed-run-$(PYTHON_VERSION)
STAMP := $(VENV)/.installed-$(PYTHON_VERSION)
PIP_INSTALL := $(PY) -m pip install --disable-pip-version-check
export PYTHONPATH := $(CURDIR)/layers/common:$(CURDIR)/functions:$(CURDIR)
export AWS_ACCOUNT_ID_ENDPOINT_MODE := disabled
export SAM_CLI_TELEMETRY := 0

SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
BENCH_STAMP := $(VENV)/.bench-installed

.PHONY: run token test lint typecheck cfn-lint sam-validate unit integration e2e infra bench build deploy openapi clean

$(RUN_STAMP): requirements-run.txt layers/common/requirements.txt
	@test -n "$(PYTHON)"
	$(PY) -c 'import sys; assert "%d.%d" % sys.version_info[:2] == "$(PYTHON_VERSION)"' 2>/dev/null \
		|| { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	@echo ">>> Installing what the local stack runs on into $(VENV): the functions' libraries (boto3, Powertools, pydantic, openpyxl) and moto as the embedded AWS. Once only; test tools come with the first make test."
	$(PIP_INSTALL) --upgrade pip==24.3.1
	$(PIP_INSTALL) -r requirements-run.txt
	touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP) requirements-dev.txt
	@echo ">>> Installing the test tools into $(VENV): pytest, hypothesis, ruff, mypy, cfn-lint. Once only."
	$(PIP_INSTALL) -r requirements-dev.txt
	touch $(STAMP)

## make run — the whole product on the embedded local stack (moto + simulators + HTTP API)
run: $(RUN_STAMP)
	$(PY) -m devstack

## make token ACCOUNT=acme [LABEL=…] [STACK=…] — an API token for an account (created if new), printed once.
## Local stack: the AWS_ENDPOINT_URL=… that make run prints. AWS: STACK=<deployed stack>, your IAM credentials.
token:
	@# stdout carries the token alone (T=$$(make token …)): anything an install prints goes to stderr
	@$(MAKE) --no-print-directory $(RUN_STAMP) >&2
	@test -n "$(ACCOUNT)" || { echo "usage: AWS_ENDPOINT_URL=<make run prints it> make token ACCOUNT=<name> [LABEL=…], or STACK=<deployed stack> make token ACCOUNT=<name>"; exit 2; }
	@$(PY) -m $(if $(STACK),leadhub.admin --stack '$(STACK)',devstack.admin) \
		issue-token '$(ACCOUNT)' --create-account --label '$(or $(LABEL),make token)'

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
