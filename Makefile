# Two commands: `make demo` and `make test`. Each builds .venv from pyproject.toml when needed.
# `make demo ARGS=--serve` keeps serving the live dashboard (its URL printed) until Ctrl-C.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench quality clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/cjo demo $(ARGS)

test: $(STAMP)
	$(BIN)/ruff check cjo streams sim bench tests
	$(BIN)/mypy
	$(BIN)/python -m pytest -q --durations=40

bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

# The seeded decision-quality proofs (docs/decision-quality.md): each claim, its figure, its
# bound. Long (minutes); `make test` runs a reduced version of each. ARGS: parts to run
# (behaviour evaluate drift calibration uplift; default all).
quality: $(STAMP)
	$(BIN)/python -m sim.quality $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check cjo streams sim bench tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
