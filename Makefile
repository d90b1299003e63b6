# Two commands: `make run` and `make test`. Both create .venv from scratch on a machine
# that has only Python 3.11 and the package registry.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    ?= results
# pytest workers: 2 matches the 2-core CI machine (JAX compiles dominate, so two processes help)
WORKERS ?= 2
export NO_MKDOCS_2_WARNING := 1

.PHONY: run test test-long test-fast lint docs notebooks setup bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] >= (3, 11), "landjax needs Python >= 3.11, found " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test,dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/landjax reproduce all --out $(OUT)

# the tooling gate: lint, format and type checks, then the documentation site, then the tests
test: $(STAMP)
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory docs
	$(BIN)/python -m pytest -n $(WORKERS) --dist worksteal --durations=25 -m "not long"

# the checks too long for make test (each marked long)
test-long: $(STAMP)
	$(BIN)/python -m pytest -n $(WORKERS) -m long

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n $(WORKERS) -m "not slow and not long"

lint: $(STAMP)
	$(BIN)/ruff check landjax tests benchmarks notebooks
	$(BIN)/ruff format --check landjax tests benchmarks notebooks
	$(BIN)/mypy

docs: $(STAMP)
	$(BIN)/mkdocs build --strict --quiet

# execute the notebooks and store them with their outputs (a test checks they are current)
notebooks: $(STAMP)
	$(BIN)/python tests/helpers.py

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(OUT) site .pytest_cache .hypothesis .mypy_cache .ruff_cache
