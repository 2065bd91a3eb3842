# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export FASTMCP_CHECK_FOR_UPDATES := off
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo test lint bench install dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# PEP 735 group (pip >= 25.1, which the upgrade above brings); older pips: '.[dev]'.
$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e . --group dev
	touch $@

install: $(VENV)/.installed
dev: $(VENV)/.installed-dev

demo: install
	cd example-monorepo && ../$(BIN)/mcpbundle build
	@echo
	@echo "== example-monorepo/dist (what a host deploys) =="
	@cd example-monorepo/dist && find . -type f -not -name '*.pyc' | sort
	@echo
	@cat example-monorepo/dist/DEPLOY.md

test: dev
	$(BIN)/python -m pytest -n auto -q

lint: dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: dev
	$(BIN)/python bench/run.py $(ARGS)

clean:
	rm -rf $(VENV) example-monorepo/dist build dist *.egg-info src/*.egg-info
