# Two commands on a fresh machine:
#   make run    install into .venv (with the demo extra) and start the dashboard on http://127.0.0.1:8000
#               (your AWS estate when ./mission-control.toml exists, else the built-in demo estate)
#   make test   install the dev dependencies into .venv and run the whole test suite

PYTHON ?= python3
# The suite waits on servers, browsers and moto more than on the CPU: 4 workers keep a 2-core machine busy.
TEST_WORKERS ?= 4
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[demo]'
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'  # dev includes demo
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	@if [ -f mission-control.toml ]; then \
		exec $(BIN)/mission-control serve --config mission-control.toml; \
	else \
		echo "No ./mission-control.toml: starting the built-in demo estate (no AWS account needed)."; \
		exec $(BIN)/mission-control demo; \
	fi

test: $(VENV)/.dev-installed
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/pytest -n $(TEST_WORKERS)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
