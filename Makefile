# RLHF Studio. `make run` starts the app on embedded defaults; `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install run test lint format bench-api clean

help:
	@echo "make run        start web + worker + beat on embedded defaults (or DATABASE_URL/REDIS_URL)"
	@echo "make test       install what is missing and run the whole suite"
	@echo "make lint       ruff + mypy"
	@echo "make bench-api  next->submit load benchmark on Postgres under gunicorn"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	bash scripts/run.sh

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench-api: $(STAMP)
	bash scripts/bench_api.sh

clean:
	rm -rf var/static var/celery
