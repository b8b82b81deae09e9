# sluice: `make run` starts the whole system locally; `make test` lints and runs every
# test (`make coverage`: every test with line coverage). `make unit`, `make integration`,
# `make e2e`, `make browser` and `make infra` run one level each. All create their own
# environment (.venv for Python, node_modules for the CDK CLI and the console's chart
# library; `make test` installs Debian's chromium for the browser tests).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SLUICE_PORT ?= 3000
# Where `make run` keeps its state across restarts (`make run STATE=--ephemeral`: in memory).
STATE ?= --state-dir .sluice
export PATH := $(CURDIR)/$(BIN):$(CURDIR)/node_modules/.bin:$(PATH)

# Coverage of the library and the handlers (sources in pyproject's [tool.coverage.run]),
# with `make coverage` or `COVERAGE=--cov...` on any target: the report names each module
# with lines missed, and which lines. Python 3.11 traces every call, which makes the
# in-process integration tests about 1.5x slower, and took `make test` past its 15
# minutes once the networks, training and operations tests came (17.5 minutes with it).
# (A bare --cov takes the next word as its source, so the report option must follow it.)
COVERAGE ?=
COVERAGE_REPORT := --cov --cov-report=term-missing:skip-covered
PYTEST := $(BIN)/pytest $(COVERAGE)
# `make test` runs the suite on TEST_WORKERS processes (pytest-xdist), a test file to a
# worker, each worker with a local system of its own: many tests wait on Step Functions
# executions more than they compute, and one process ran the suite on ~1 of the 2 cores.
# The modules marked own_moto (moto's mock_aws resets the backends a worker's local
# system serves from) run after, in one process.
TEST_WORKERS ?= 2
PARALLEL := -n $(TEST_WORKERS) --dist loadfile

.PHONY: install run test coverage unit integration e2e browser infra lint format hooks synth bench clean fuzz load chromium screenshots

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The web console's chart library, from npm (package-lock.json pins it), copied beside the
# console's own files: the api serves it and the Lambda layer ships it (no CDN). Git
# ignores the copy; the CDK stack refuses to synthesise without it.
CONSOLE_VENDOR := layers/sluice/python/sluice/console/static/vendor
CHART_JS := $(CONSOLE_VENDOR)/chart.umd.min.js
$(CHART_JS): node_modules/.installed
	mkdir -p $(CONSOLE_VENDOR)
	cp node_modules/chart.js/dist/chart.umd.min.js $@
	cp node_modules/chart.js/LICENSE.md $(CONSOLE_VENDOR)/chart.js.LICENSE.md

# The browser tests (tests/browser) drive Debian's Chromium with Playwright; CI runs as
# root, a developer's machine asks sudo.
CHROMIUM ?= /usr/bin/chromium
$(CHROMIUM):
	if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	$$sudo apt-get update && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium

chromium: $(CHROMIUM)

install: $(BIN)/.installed node_modules/.installed $(CHART_JS)

run: $(BIN)/.installed $(CHART_JS)
	$(BIN)/sluice local --port $(SLUICE_PORT) $(STATE)

test: install lint $(CHROMIUM)
	$(PYTEST) $(PARALLEL) -m "not own_moto"
	$(PYTEST) -m own_moto

coverage: install $(CHROMIUM)
	$(BIN)/pytest $(COVERAGE_REPORT)

unit: $(BIN)/.installed
	$(PYTEST) tests/unit

integration: $(BIN)/.installed
	$(PYTEST) tests/integration

e2e: $(BIN)/.installed
	$(PYTEST) -m e2e tests/e2e

# The web console in a real headless Chromium (Playwright), against the local system.
browser: install $(CHROMIUM)
	$(PYTEST) -m browser tests/browser

# Schemathesis against the local system for longer than `make test`'s run, the stateful
# phase included (tests/integration/test_api_fuzz.py; FUZZ_SEED picks another seed).
FUZZ_SECONDS ?= 900
fuzz: $(BIN)/.installed
	SLUICE_FUZZ_EXAMPLES=100 SLUICE_FUZZ_SECONDS=$(FUZZ_SECONDS) \
	SLUICE_FUZZ_PHASES=examples,coverage,fuzzing,stateful $(if $(FUZZ_SEED),SLUICE_FUZZ_SEED=$(FUZZ_SEED)) \
	$(BIN)/pytest --no-cov -o timeout=0 tests/integration/test_api_fuzz.py

# The CDK CLI runs `python3 -m infra.app`; PATH (above) finds the project's venv first.
infra: install
	$(PYTEST) -m infra tests/infra

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo
	$(BIN)/bandit -q -r layers/sluice/python/sluice functions -ll

format: $(BIN)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Optional: ruff and mypy on every commit (.pre-commit-config.yaml), as `make lint` runs them.
hooks: $(BIN)/.installed
	$(BIN)/pre-commit install

$(BIN)/.bench-installed: $(BIN)/.installed
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $@

# Benchmarks are not tests: they take minutes and print ratios against the peers.
BENCH_BYTES ?= 1e9
bench: $(BIN)/.bench-installed
	$(BIN)/python -m bench.ingest.run --bytes $(BENCH_BYTES)
	$(BIN)/python -m bench.aggregate.run --bytes $(BENCH_BYTES)
	$(BIN)/python -m bench.operations.run --bytes $(BENCH_BYTES)

# Load on the local system (bench/load): 20 readers, 5 uploaders, 2 taskers for
# LOAD_SECONDS; prints per-route requests, req/s, p50/p99 and errors. Not a test.
LOAD_SECONDS ?= 60
load: $(BIN)/.bench-installed
	$(BIN)/python -m bench.load.run --seconds $(LOAD_SECONDS)

# The README's screenshots of the web console (docs/screenshots/*.png), shot in the same
# headless Chromium as the browser tests against an in-process local system (a minute).
screenshots: install $(CHROMIUM)
	$(BIN)/python -m tests.browser.screenshots --out docs/screenshots

synth: install
	cdk synth --quiet

clean:
	rm -rf $(VENV) node_modules $(CONSOLE_VENDOR) cdk.out .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.*
