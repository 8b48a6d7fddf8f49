# Two commands for users: `make demo` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PACKAGES := welkin-client welkin-emulator tap-welkin target-welkin
EDITABLES = $(foreach p,$(PACKAGES),$(if $(wildcard $(p)/pyproject.toml),-e ./$(p)))
SOURCES   = $(foreach p,$(PACKAGES),$(wildcard $(p)/src $(p)/tap_welkin $(p)/target_welkin))

.PHONY: help venv lint format test demo bench clean

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

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(SOURCES)

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) .meltano build output
