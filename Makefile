# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JS_DEPS := sdk/js/node_modules/.package-lock.json
DASHBOARD_DEPS := dashboard/node_modules/.package-lock.json
HOST ?= 127.0.0.1
PORT ?= 8001
# make test JOBS=2: run the suite on 2 pytest-xdist workers (empty: one process).
JOBS ?=

.PHONY: run test check lint typecheck contracts compile bench mutation clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## make run: create the environment, compile tenants/ into output/, make (once) and print an admin
## token, serve the API on 127.0.0.1:8001 with anonymous access to the demo sandbox
run: $(STAMP) $(DASHBOARD_DEPS)
	$(BIN)/ecp compile --all
	$(BIN)/ecp token bootstrap --port $(PORT)
	ECP_DEMO_ANONYMOUS=true $(BIN)/ecp serve --host $(HOST) --port $(PORT)

## make compile: compile tenants/ into output/ only
compile: $(STAMP)
	$(BIN)/ecp compile --all

## make test: create the environment and run the whole suite (the JS and Go SDKs' suites too),
## in a random order (pytest-randomly; the summary's last line gives the seed to replay it with);
## JOBS=N runs it on N pytest-xdist workers
test: $(STAMP) $(JS_DEPS) $(DASHBOARD_DEPS)
	$(BIN)/python -m pytest -q $(if $(JOBS),-p xdist -n $(JOBS))

# The JS SDK's dev dependencies (ws, typescript) from its lock file. Without npm the JS tests
# skip locally; under CI=true they fail (tests/sdk_tools.py).
$(JS_DEPS): sdk/js/package.json sdk/js/package-lock.json
	@if command -v npm >/dev/null; then \
		cd sdk/js && npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the JavaScript SDK tests cannot run" >&2; fi

# The dashboard's browser packages (uPlot; axe-core for the audit) from its lock file; the JS SDK
# is linked from sdk/js. `ecp serve` serves them from dashboard/node_modules.
$(DASHBOARD_DEPS): dashboard/package.json dashboard/package-lock.json
	@if command -v npm >/dev/null; then \
		cd dashboard && npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the dashboard has no charts and its tests cannot run" >&2; fi

## make check: lint, format check, types, layer contracts, tests
check: lint typecheck contracts test

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

contracts: $(STAMP)
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

## make mutation [PKG=publishing]: mutmut over the core packages (or one), each against its own
## focused tests; prints killed/total and the survivors, writes bench/MUTATION.md (slow: minutes
## per package; the scheduled workflow runs it weekly). PKG: validating publishing service writes output
## sizing, or one sizing module: sizing-queueing sizing-distribution sizing-choose sizing-explain sizing-redis
MUTATION_CHILDREN ?= 1
mutation: $(STAMP)
	$(BIN)/python bench/mutation.py $(PKG) --max-children $(MUTATION_CHILDREN) --write-report

clean:
	rm -rf $(VENV) mutants build/mutation .pytest_cache .mypy_cache .ruff_cache
