# Madoguchi: one command per job.
#
#   make run     the demo on http://127.0.0.1:8000 (ADDR=host:port to change)
#   make test    the test suite on SQLite, then on PostgreSQL
#   make lint    ruff, ruff format, mypy, and a check for missing migrations
#   make bench   the benchmarks (bench/)
#   make clean   remove the virtual environment, caches and test data
#
# The virtual environment .venv is made with the first Python 3.12+ that
# scripts/find-python finds (or PYTHON=/path/to/python), and re-installed only when
# pyproject.toml changes.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTHON ?=

# Extra arguments: make test PYTEST_ARGS='-k cancel -x', make bench BENCH_ARGS=...
PYTEST_ARGS ?=
BENCH_ARGS ?=
ADDR ?=

PG_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/madoguchi
TEST_SQLITE_DIR := $(CURDIR)/var/test-sqlite
TEST_POSTGRES_DIR := $(CURDIR)/var/test-postgres

# Tests run as production does (DEBUG off), with a throwaway key and plain-HTTP cookies.
TEST_ENV := unset DEBUG DATABASE_URL; export SECRET_KEY=test-only-not-secret MADOGUCHI_SECURE_COOKIES=0

# Can we reach PostgreSQL? Connects to the server's own `postgres` database (the test
# database does not exist yet) with a 3 s timeout; prints the reason when not.
define PG_CHECK_PY
import sys
import psycopg
from psycopg.conninfo import make_conninfo

try:
    psycopg.connect(make_conninfo(sys.argv[1], dbname="postgres", connect_timeout=3)).close()
except psycopg.Error as error:
    print(str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__)
    sys.exit(1)
endef
export PG_CHECK_PY

# pytest exits 5 when it collected no tests: say so, but do not fail on it.
# $(1) names the database for the messages.
define pytest_run
rc=0; $(BIN)/python -m pytest $(PYTEST_ARGS) || rc=$$?; \
if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests on $(1)"; rc=0; fi; \
if [ $$rc -ne 0 ]; then echo "make test: tests FAILED on $(1) (pytest exit $$rc)"; fi; \
exit $$rc
endef

.PHONY: help run test lint bench venv clean

help:
	@sed -n 's/^#   //p' $(MAKEFILE_LIST) | head -n 5

venv: $(STAMP)

$(STAMP): pyproject.toml
	@if ! $(BIN)/python -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
		py='$(PYTHON)'; \
		if [ -z "$$py" ]; then py=$$(scripts/find-python) || exit 1; fi; \
		echo "Creating $(VENV) with $$py ($$("$$py" --version 2>&1))"; \
		rm -rf $(VENV); \
		"$$py" -m venv $(VENV) || exit 1; \
	fi
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

run: venv
	$(BIN)/madoguchi demo $(if $(ADDR),--addr $(ADDR))

test: venv
	@echo "==> Tests on SQLite (MADOGUCHI_DATA_DIR=$(TEST_SQLITE_DIR))"
	@mkdir -p '$(TEST_SQLITE_DIR)'
	@$(TEST_ENV); export MADOGUCHI_DATA_DIR='$(TEST_SQLITE_DIR)'; \
	$(call pytest_run,SQLite)
	@echo "==> Tests on PostgreSQL ($(PG_DATABASE_URL); pytest-django creates a test_ database)"
	@if ! reason=$$($(BIN)/python -c "$$PG_CHECK_PY" '$(PG_DATABASE_URL)' 2>&1); then \
		if [ -n "$$CI" ]; then \
			echo "make test: FAILED: PostgreSQL is not reachable at $(PG_DATABASE_URL): $$reason"; \
			echo "make test: CI is set, so the PostgreSQL half is required. Start PostgreSQL (see .ci/run)."; \
			exit 1; \
		fi; \
		echo "make test: SKIPPED the PostgreSQL half: not reachable at $(PG_DATABASE_URL): $$reason"; \
		echo "make test: SQLite passed. Start PostgreSQL, or set PG_DATABASE_URL, to run both halves."; \
		exit 0; \
	fi; \
	mkdir -p '$(TEST_POSTGRES_DIR)'; \
	$(TEST_ENV); export MADOGUCHI_DATA_DIR='$(TEST_POSTGRES_DIR)' DATABASE_URL='$(PG_DATABASE_URL)'; \
	$(call pytest_run,PostgreSQL)

# Runs every check, then fails if any failed, so one run shows all the problems.
lint: venv
	@failed=""; \
	export SECRET_KEY=lint-only-not-secret; \
	echo "==> ruff check ."; $(BIN)/ruff check . || failed="$$failed ruff-check"; \
	echo "==> ruff format --check ."; $(BIN)/ruff format --check . || failed="$$failed ruff-format"; \
	echo "==> mypy madoguchi"; $(BIN)/mypy madoguchi || failed="$$failed mypy"; \
	echo "==> madoguchi makemigrations --check --dry-run"; \
	env -u DATABASE_URL $(BIN)/madoguchi makemigrations --check --dry-run || failed="$$failed migrations"; \
	if [ -n "$$failed" ]; then echo "make lint: FAILED:$$failed"; exit 1; fi; \
	echo "make lint: all checks passed"

bench: venv
	@if [ ! -f bench/__main__.py ]; then \
		echo "make bench: there is no bench/ package (bench/__main__.py) yet"; exit 1; \
	fi
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) *.egg-info build .pytest_cache .mypy_cache .ruff_cache
	rm -rf '$(TEST_SQLITE_DIR)' '$(TEST_POSTGRES_DIR)'
	find . -name __pycache__ -type d -not -path './.git/*' -prune -exec rm -rf {} +
