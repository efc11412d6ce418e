# Two commands on a fresh machine: `make run` and `make test`. Each creates .venv if missing and installs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)
SPARK_STAMP := $(VENV)/.spark-$(shell cksum < pyproject.toml | cut -d' ' -f1)
export DBT_PROFILES_DIR := $(CURDIR)
export DO_NOT_TRACK := 1

MANIFEST := target/manifest.json
DBT_SOURCES := $(shell find models macros seeds tests/dbt -type f 2>/dev/null) dbt_project.yml profiles.yml
DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: setup setup-spark manifest run run-postgres run-spark ui test test-spark browser screenshots lint format sample national bench clean clean-all help

help:
	@echo "make run    set up, generate the sample if data/landing is empty, ingest, dbt build, print the result"
	@echo "make test   set up and run the tests (pytest: end to end on DuckDB, parity on a private PostgreSQL)"
	@echo "make test-spark  the same parity on a local Spark session (installs pyspark, about 460 MB)"
	@echo "make ui     dagster dev on http://127.0.0.1:3000 (asset graph, checks, schedules, sensor, runs)"
	@echo "make lint   ruff and sqlfluff"
	@echo "make screenshots  PNGs of the report pack's pages into docs/screenshots (needs chromium, fonts-noto-cjk)"
	@echo "make bench  benchmark at 1x, 4x, 16x and national scale against plain DuckDB SQL and pandas"
	@echo "            (BENCH_SCALES=1,4 make bench for a subset; results in data/bench/results.json)"
	@echo "make clean  remove what a run rebuilds (warehouse, dbt target, logs, Data Docs); never landing or releases"
	@echo "make clean-all CONFIRM=yes  also delete data/landing, data/published and the Dagster run history"

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,postgres]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

setup: $(STAMP)

$(SPARK_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e ".[dev,postgres,spark]"
	rm -f $(VENV)/.spark-*
	touch $(SPARK_STAMP)

setup-spark: $(SPARK_STAMP)

# Dagster reads dbt's manifest; it is written here, never when the definitions are imported
$(MANIFEST): $(STAMP) $(DBT_SOURCES)
	HQD_WAREHOUSE=:memory: $(VENV)/bin/dbt parse --quiet
	touch $(MANIFEST)

manifest: $(MANIFEST)

run: setup manifest
	$(PY) -m hqd.cli run $(ARGS)

# the same models on another engine (README, "PostgreSQL and Spark"): HQD_PG_* name the server
run-postgres: setup manifest
	$(PY) -m hqd.cli engines build --target postgres

run-spark: setup-spark manifest
	$(PY) -m hqd.cli engines build --target spark

ui: setup manifest
	$(PY) -c "from pathlib import Path; from orchestration.runner import ensure_instance_config as e; \
	p = Path('$(DAGSTER_HOME)'); p.mkdir(parents=True, exist_ok=True); e(p)"
	DAGSTER_HOME=$(DAGSTER_HOME) $(VENV)/bin/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

# headless Chromium and a CJK font for the report pack's render test (installed as root when missing)
browser:
	@sh tools/ensure_browser.sh

test: setup manifest browser
	$(PY) -m pytest $(PYTEST_ARGS)

test-spark: setup-spark manifest
	$(PY) -m pytest -m spark $(PYTEST_ARGS)

# the pack `make run` wrote, rendered: docs/screenshots/*.png (committed) and PDFs beside the pack
screenshots: setup browser
	$(PY) -m tools.screenshots

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	HQD_WAREHOUSE=:memory: $(VENV)/bin/sqlfluff lint models tests/dbt

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
	HQD_WAREHOUSE=:memory: $(VENV)/bin/sqlfluff fix models tests/dbt

sample: setup
	$(PY) -m hqd.cli sample --landing-dir data/landing

# the national-like synthetic configuration and submissions in data/national/{seeds,landing}
national: setup
	$(PY) -m hqd.cli national --out data/national

# not part of CI: many minutes at the national scale
bench: setup manifest
	$(PY) -m hqd.cli bench

# only what a run rebuilds: never the landing files (real submissions) nor the published releases
clean:
	rm -rf data/warehouse data/quality data/reports data/bench data/spark data/national target logs .pytest_cache gx/uncommitted

# everything, submissions and releases included: say it twice (CONFIRM=yes)
clean-all:
	@test "$(CONFIRM)" = yes || { echo "make clean-all deletes data/landing (submissions), data/published (releases) and the Dagster run history: run it as make clean-all CONFIRM=yes"; exit 2; }
	rm -rf data target logs .pytest_cache .dagster_home gx/uncommitted
