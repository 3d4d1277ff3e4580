# catalog-sync — developer entry points.  `make demo` and `make test` work from a clean clone.
PY      ?= python3
VENV    ?= .venv
BIN      = $(VENV)/bin
STAMP    = $(VENV)/.installed
PYTEST_WORKERS ?= 2

.PHONY: install demo test lint type check bench clean libreoffice

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# LibreOffice is needed by the round-trip tests (a sheet really written by LibreOffice).
libreoffice:
	@command -v soffice >/dev/null 2>&1 || command -v libreoffice >/dev/null 2>&1 || { \
	  echo "installing LibreOffice Calc (headless) for the round-trip tests"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-calc-nogui >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-calc-nogui >/dev/null; fi; }

demo: install
	$(BIN)/python -m catalog_sync.demo

test: install libreoffice
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -q

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

type: install
	$(BIN)/mypy

check: lint type test

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .catalog-sync build dist .pytest_cache .mypy_cache .ruff_cache demo-out
