# Two commands for users: `make demo` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PACKAGES := welkin-client welkin-emulator tap-welkin target-welkin welkin-webhooks
EDITABLES = $(foreach p,$(PACKAGES),$(if $(wildcard $(p)/pyproject.toml),-e ./$(p)))
SOURCES   = $(foreach p,$(PACKAGES),$(wildcard $(p)/src $(p)/tap_welkin $(p)/target_welkin))

.PHONY: help venv meltano orchestration lint format test demo bench readme clean

help:
	@echo "make demo   - set up, start a seeded Welkin emulator, run the Meltano pipelines, show the result"
	@echo "make test   - set up and run every test (lint, type checks, unit, contract, end-to-end)"
	@echo "make bench  - run the benchmarks and write bench/results.md"

$(VENV)/.installed: requirements-dev.txt $(wildcard */pyproject.toml)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt $(EDITABLES)
	touch $@

venv: $(VENV)/.installed

MELTANO_VENV := .venv-meltano
MELTANO := $(MELTANO_VENV)/bin/meltano

$(MELTANO_VENV)/.installed: requirements-meltano.txt
	$(PYTHON) -m venv $(MELTANO_VENV)
	$(MELTANO_VENV)/bin/python -m pip install -q --upgrade pip
	$(MELTANO_VENV)/bin/python -m pip install -q -r requirements-meltano.txt
	touch $@

# Plugin virtualenvs under .meltano/, rebuilt when meltano.yml or a plugin changes.
.meltano/.installed: $(MELTANO_VENV)/.installed meltano.yml $(wildcard */pyproject.toml)
	PATH=$(CURDIR)/$(MELTANO_VENV)/bin:$$PATH $(MELTANO) install
	touch $@

meltano: venv .meltano/.installed

# The Dagster project (orchestration/): its own virtualenv, apart from Meltano's and the plugins'.
DAGSTER_VENV := .venv-dagster

$(DAGSTER_VENV)/.installed: orchestration/requirements.txt
	$(PYTHON) -m venv $(DAGSTER_VENV)
	$(DAGSTER_VENV)/bin/python -m pip install -q --upgrade pip
	$(DAGSTER_VENV)/bin/python -m pip install -q -r orchestration/requirements.txt
	touch $@

orchestration: $(DAGSTER_VENV)/.installed

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(SOURCES)

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Two xdist workers, a test file each at a time (its module fixtures are set up once), files
# in collection order (the end-to-end ones first: the longest go first). Then the tests
# marked `alone`, one at a time: the timing-sensitive ones, and the log hygiene scan last,
# which must see every worker's logs and emulator databases (hence one --basetemp).
PYTEST_PARALLEL ?= -n 2 --dist loadfile --no-loadscope-reorder

test: lint meltano orchestration
	$(BIN)/mypy --python-executable $(DAGSTER_VENV)/bin/python orchestration/welkin_dagster
	rm -rf build/test-logs build/test-tmp
	mkdir -p build  # pytest makes --basetemp, not its parent (a fresh clone has no build/)
	$(BIN)/python -m pytest -q $(PYTEST_PARALLEL) --basetemp=build/test-tmp -m "not alone"
	WELKIN_TEST_TMP=build/test-tmp $(BIN)/python -m pytest -q -m alone

demo: venv meltano
	PATH=$(CURDIR)/$(MELTANO_VENV)/bin:$$PATH $(BIN)/python scripts/demo.py

bench: venv
	$(BIN)/python bench/run_all.py

readme: venv
	$(BIN)/python scripts/readme_about.py

clean:
	rm -rf $(VENV) $(MELTANO_VENV) $(DAGSTER_VENV) .meltano build output .state
