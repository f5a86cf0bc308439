# One entry point for people and CI. `make run` and `make test` are the README's two
# set-up commands: both create .venv and install the project into it first.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install browser docs-images run test test-tools lint typecheck unit bench clean infra-tools infra-lint infra-smoke infra-build infra-e2e

$(STAMP): pyproject.toml
	@echo "installing synaptic-s3 and its test tools into $(VENV) (first time: a few minutes)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --progress-bar off -e ".[dev,service,langgraph,test-integrations]" \
	  | sed -un -e 's/^\(Collecting [^ ]*\).*/  \1/p' -e 's/^Successfully installed.*/  installed/p'
	$(BIN)/python -m pip check
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

## run: serve the HTTP API on 127.0.0.1 with an embedded local file store (no AWS needed);
## `make run PORT=9000` for another port
PORT ?= 8080
run: install
	$(BIN)/synaptic-s3 serve --port $(PORT)

## browser: Debian's chromium + chromedriver for tests/console (apt, only if missing, as root)
browser:
	scripts/ensure-test-tools.sh chromium chromium-driver:chromedriver

## docs-images: re-take the README's console screenshots (docs/img/console-*.png) in Chromium
docs-images: install browser
	SYNAPTIC_UPDATE_DOCS_IMAGES=1 $(BIN)/python -m pytest -q tests/console/test_browser.py

## test: lint, type-check and run the whole test suite
test: install test-tools lint typecheck
	$(BIN)/python -m pytest -n auto

## test-tools: system tools some tests need (spin + gcc: the protocol model in specs/),
## installed from Debian's packages when missing and we are root (CI); see the script
test-tools:
	scripts/ensure-test-tools.sh spin gcc chromium chromium-driver:chromedriver

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

## unit: the fast tests only (no S3 servers)
unit: install
	$(BIN)/python -m pytest tests/unit

## infra-*: deployment checks (tools live in .venv-infra/, apart from the project's pins)
infra-tools:
	infra/install-tools.sh

infra-lint: install
	infra/lint.sh

infra-smoke: install
	infra/smoke.sh

infra-build:
	infra/build.sh

infra-e2e: install
	infra/install-tools.sh ministack
	SYNAPTIC_E2E_MINISTACK=1 $(BIN)/python -m pytest tests/infra/test_ministack_e2e.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .local-data
