# Two commands: `make demo` runs the local pipeline, `make test` runs every check. Both bootstrap .venv.
# SCF runs Python 3.10, so we test on it when the machine has it.
PY310 := $(lastword $(sort $(wildcard $(HOME)/.pyenv/versions/3.10.*/bin/python3.10)))
PYTHON ?= $(or $(PY310),$(shell command -v python3.10 || command -v python3))
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench clean layer

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/ciflow demo

test: $(STAMP) lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check shared local tests benchmarks functions
	$(BIN)/ruff format --check shared local tests benchmarks functions
	$(BIN)/lint-imports --no-cache --no-logo

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

# N uploads (default 2,000) through 4 upload-function processes, faults on every side; see README "Drill".
.PHONY: drill
drill: $(STAMP)
	$(BIN)/ciflow drill

bench: $(STAMP)
	$(BIN)/python benchmarks/targets.py
	$(BIN)/python benchmarks/cold_start.py
	$(BIN)/python benchmarks/cold_start_functions.py
	$(BIN)/python benchmarks/warm_path.py
	$(BIN)/python benchmarks/handler_fanout.py
	$(BIN)/python benchmarks/callback_throughput.py
	$(BIN)/python benchmarks/emulator_hash.py
	$(BIN)/python benchmarks/cleanup_reconcile.py

fuzz: $(STAMP)  ## >= 100,000 fuzz inputs through the handlers: unhandled exceptions, statuses, peak RSS
	$(BIN)/python benchmarks/fuzz.py

# The SCF layer: runtime dependencies for SCF's platform (linux x86_64, CPython 3.10) plus the core, at the
# zip root, with bytecode compiled ahead (SCF sets PYTHONDONTWRITEBYTECODE, so nothing is cached at run time).
layer: $(STAMP)
	rm -rf dist/layer dist/wheels && mkdir -p dist/layer
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir dist/wheels .
	$(BIN)/python -m pip install --quiet --target dist/layer --platform manylinux2014_x86_64 \
		--python-version 3.10 --implementation cp --only-binary=:all: dist/wheels/ciflow-*.whl
	rm -rf dist/layer/bin dist/layer/ciflow_local dist/layer/*.dist-info/RECORD
	$(PYTHON) -m compileall -q -j 0 dist/layer
	cd dist/layer && rm -f ../ciflow-layer.zip && zip -qr ../ciflow-layer.zip .
	@du -sh dist/layer dist/ciflow-layer.zip

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache dist
