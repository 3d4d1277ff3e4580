# catalog-sync — developer entry points.  `make demo` and `make test` work from a clean clone.
PY      ?= python3
VENV    ?= .venv
BIN      = $(VENV)/bin
STAMP    = $(VENV)/.installed
PYTEST_WORKERS ?= 2
# The bench has its own environment: frictionless (an anchor of `make bench`) never enters the tests'.
BENCH_VENV ?= .venv-bench
BENCH_STAMP = $(BENCH_VENV)/.installed
BENCH_ARGS ?=

.PHONY: install demo test lint type docs check bench soak clean libreoffice chromium

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

$(BENCH_STAMP): pyproject.toml
	test -x $(BENCH_VENV)/bin/python || $(PY) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -q --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install -q -e '.[bench]'
	touch $(BENCH_STAMP)

# LibreOffice is needed by the round-trip tests (a sheet really written by LibreOffice).
libreoffice:
	@command -v soffice >/dev/null 2>&1 || command -v libreoffice >/dev/null 2>&1 || { \
	  echo "installing LibreOffice Calc (headless) for the round-trip tests"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-calc-nogui >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-calc-nogui >/dev/null; fi; }

# Debian's Chromium is needed by the review page tests (tests/support/browser.py drives it through
# playwright's own client; no browser is downloaded).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Chromium (headless) for the review page tests"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; }

demo: install
	$(BIN)/python -m catalog_sync.cli.demo

test: install libreoffice chromium
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -q

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

type: install
	$(BIN)/mypy

# docs/ as a site: a broken link, a missing page or a stale generated reference fails the build.
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir build/site

# What CI runs (.ci/run): lint, format, strict types, the docs and the whole suite.
check: lint type docs test

# The simulation harness for long, with fresh seeds (tests/support/soak.py); prints the seed of any
# failure; then the 1M-row golden test of the two plan engines.  `make soak SOAK_ARGS="--rounds 20 --examples 50 --steps 80"`.
SOAK_ARGS ?=
soak: install
	$(BIN)/python -m tests.support.soak $(SOAK_ARGS)
	$(BIN)/python -m pytest -q tests/engine/soak_disk_plan_golden_1m.py

# `make bench BENCH_ARGS="--quick"` or BENCH_ARGS="--only validate --rows 100000" for fast iterations.
bench: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(BENCH_VENV) .catalog-sync build dist .pytest_cache .mypy_cache .ruff_cache demo-out
