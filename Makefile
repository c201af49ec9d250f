# Two commands: `make demo` runs the local pipeline, `make test` runs every check. Both bootstrap .venv.
# SCF runs Python 3.10, so we test on it when the machine has it.
PY310 := $(lastword $(sort $(wildcard $(HOME)/.pyenv/versions/3.10.*/bin/python3.10)))
PYTHON ?= $(or $(PY310),$(shell command -v python3.10 || command -v python3))
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test lint typecheck unit bench clean demo

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: $(STAMP) lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check shared tests benchmarks functions
	$(BIN)/ruff format --check shared tests benchmarks functions

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/cold_start.py
	$(BIN)/python benchmarks/warm_path.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
