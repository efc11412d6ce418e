# Two commands on a fresh machine: `make run` and `make test`. Each creates .venv if missing and installs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)
export DBT_PROFILES_DIR := $(CURDIR)
export DO_NOT_TRACK := 1

.PHONY: setup run test lint format sample clean help

help:
	@echo "make run    set up, generate the sample if data/landing is empty, ingest, dbt build, print the result"
	@echo "make test   set up and run the tests (pytest, which also runs dbt build on a throwaway warehouse)"
	@echo "make lint   ruff and sqlfluff"
	@echo "make clean  remove the generated warehouse, landing sample and dbt artefacts"

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(PY) -m orchestration.cli run $(ARGS)

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	HQD_WAREHOUSE=:memory: $(VENV)/bin/sqlfluff lint models tests/dbt

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
	HQD_WAREHOUSE=:memory: $(VENV)/bin/sqlfluff fix models tests/dbt

sample: setup
	$(PY) -m orchestration.sample_data --landing-dir data/landing

clean:
	rm -rf data target logs .pytest_cache
