# pricing-edge: two commands on a fresh machine — `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: demo test bench lint typecheck clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "pricing-edge needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/pricing-edge demo $(if $(PORT),--port $(PORT))

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

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
