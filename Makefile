# pricing-edge: two commands on a fresh machine — `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: demo test test-serial test-repeat bench lint typecheck clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "pricing-edge needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/pricing-edge demo $(if $(PORT),--port $(PORT))

# Every test, in parallel (pytest-xdist; tests/README.md says how a test stays safe in parallel).
TEST_WORKERS ?= 4
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# The same tests one after another (to compare timings, or to read a failure without interleaving).
test-serial: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The suite N times while stress-ng keeps every core busy: flaky tests show up here, not in CI.
# Log: test-repeat.log (one line per run, then each run's failures). stress-ng comes from the Debian packages.
N ?= 5
STRESS ?= --cpu 0 --cpu-load 60
test-repeat: $(STAMP)
	@command -v stress-ng >/dev/null || { echo "stress-ng not found: installing it with apt-get"; \
	  (apt-get update -qq && apt-get install -y -qq stress-ng >/dev/null) || \
	  { echo "cannot install stress-ng: apt-get install stress-ng (or brew install stress-ng)"; exit 1; }; }
	@N=$(N) STRESS="$(STRESS)" PYTEST="$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)" \
	  sh tests/repeat.sh test-repeat.log

# The load tests: installs the bench extra and autocannon (Node.js 18+, npm), then starts the system itself,
# runs every scenario with its baselines and writes docs/benchmarks/latest.json, docs/benchmarks.md and the plot.
#   make bench BENCH_ARGS="--scenario plp --rate 2000 --duration 30"
bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,bench]'
	@command -v npm >/dev/null || { echo "make bench needs Node.js 18+ and npm (apt-get install nodejs npm)"; exit 1; }
	npm ci --prefix loadtests/js --no-audit --no-fund --loglevel=error
	$(BIN)/python -m pytest -q -m bench tests/loadtests
	$(BIN)/python -m loadtests $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check pricing_edge tests loadtests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .hypothesis loadtests/js/node_modules
