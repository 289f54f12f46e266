# careledger: everything installs into .venv from nothing; targets are quick once installed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DB ?= demo.db

.PHONY: demo test check lint format bench clean docs compile

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "careledger needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

DEMO_837P ?= demo.837
DEMO_835 ?= demo.835

demo: $(STAMP)
	$(BIN)/careledger demo --db $(DEMO_DB) --replace --remittance $(DEMO_835)
	$(BIN)/careledger export 837p --all --db $(DEMO_DB) --test --out $(DEMO_837P)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Tests keep their SQLite stores on tmpfs where the machine has one (the same files, without
# waiting for the disk), and the project's bytecode is compiled once first, so the CLI processes
# the tests start do not compile it again each time (PYTHONDONTWRITEBYTECODE may be set).
# The tests run on every core (pytest-xdist, one worker per core; TEST_WORKERS=0 runs them in this
# process), each worker taking the next test when it is free.
TEST_TMP := $(shell test -d /dev/shm -a -w /dev/shm && echo /dev/shm)
TEST_WORKERS ?= auto
PYTEST := $(if $(TEST_TMP),TMPDIR=$(TEST_TMP) )$(BIN)/pytest $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist worksteal)

compile: $(STAMP)
	@$(BIN)/python -m compileall -q domain projections cli tests benchmarks

# Everything, on SQLite and (with CARELEDGER_TEST_POSTGRES) PostgreSQL: the CI gate.
test: lint compile
	$(PYTEST)

# The edit loop: lint, then every test that is not slow, on SQLite only (under two minutes).
check: lint compile
	$(PYTEST) -q -x -m "not slow and not postgres"

docs: $(STAMP)
	$(BIN)/python -m tests.eventdoc

# `make bench` runs every case at the issue's sizes (about 30 minutes on 2 cores); `make bench
# BENCH_ARGS=--quick` is a smoke run; `SIZE=100000 make bench` scales the large store.
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache .hypothesis $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm $(DEMO_837P) $(DEMO_835)
