# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export FASTMCP_CHECK_FOR_UPDATES := off
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo schema test lint bench install dev clean

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

# The main job on the embedded example: build, then check the output, then verify one
# server as the host loads it. Needs the package index reachable (pins, verify's venv).
demo: install
	@echo "== mcpbundle build =="
	cd example-monorepo && ../$(BIN)/mcpbundle build
	@echo
	@echo "== mcpbundle check --built =="
	cd example-monorepo && ../$(BIN)/mcpbundle check --built
	@echo
	@echo "== mcpbundle verify ops =="
	cd example-monorepo && ../$(BIN)/mcpbundle verify ops
	@echo
	@echo "== example-monorepo/dist (what a host deploys; DEPLOY.md says how) =="
	@cd example-monorepo/dist && find . -type f -not -name '*.pyc' | sort

# schema/mcpbundle.schema.json from the table of keys validate reads (a test compares).
schema: install
	$(BIN)/python -m mcpbundle.config.json_schema schema/mcpbundle.schema.json

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
