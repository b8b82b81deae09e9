# sluice: `make run` starts the whole system locally; `make test` runs every test.
# Both create their own environment (.venv for Python, node_modules for the CDK CLI).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SLUICE_PORT ?= 3000
export PATH := $(CURDIR)/$(BIN):$(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: install run test lint format synth bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(BIN)/.installed node_modules/.installed

run: $(BIN)/.installed
	$(BIN)/sluice local --port $(SLUICE_PORT)

test: install lint
	$(BIN)/pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo

format: $(BIN)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

$(BIN)/.bench-installed: $(BIN)/.installed
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $@

# Benchmarks are not tests: they take minutes and print ratios against the peers.
BENCH_BYTES ?= 1e9
bench: $(BIN)/.bench-installed
	$(BIN)/python -m bench.ingest.run --bytes $(BENCH_BYTES)
	$(BIN)/python -m bench.aggregate.run --bytes $(BENCH_BYTES)

synth: install
	cdk synth --quiet

clean:
	rm -rf $(VENV) node_modules cdk.out .pytest_cache .mypy_cache .ruff_cache
