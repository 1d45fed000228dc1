# After-sales assistant: two Python environments, one model, two commands.
#   make run    build what is missing, load the demo stores, start everything
#   make test   build what is missing, train if needed, run the whole suite
#   make check  lint, format check, type check, training data check (CI runs it before the tests)
SHELL := /bin/bash
.DEFAULT_GOAL := help

APP_VENV    := .venv
ENGINE_VENV := .venv-rasa
MODEL       := models/assistant.tar.gz
DEMO_DATA   := demo/demo_stores.jsonl
TRAINING_INPUTS := config.yml domain.yml $(sort $(wildcard data/*.yml nlu_components/*.py))

# The engine (rasa 3.6.21) runs only on Python 3.8–3.10: use pyenv's 3.10 or a python3.10 on PATH.
ifndef ENGINE_PYTHON
ENGINE_PYTHON := $(firstword $(wildcard /root/.pyenv/versions/3.10.*/bin/python) $(shell command -v python3.10 2>/dev/null))
endif
# The application needs Python >= 3.11.
ifndef APP_PYTHON
APP_PYTHON := $(firstword $(foreach p,python3.12 python3.13 python3.11 python3,$(shell $(p) -c 'import sys; print("$(p)" if sys.version_info >= (3, 11) else "")' 2>/dev/null)))
endif

APP_PY  := $(APP_VENV)/bin/python
RASA    := $(ENGINE_VENV)/bin/rasa
export PYTHONPATH := $(CURDIR)
# Offline and quiet engine: no telemetry, no GPU probing.
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help run shell test test-fast test-future check lint format-check typecheck validate-data bench nlu-eval nlu-thresholds app engine train db browser clean

help:
	@echo "make run    start the assistant (action server + Rasa) with the demo stores"
	@echo "make shell  chat with it in this terminal (starts it if it isn't running)"
	@echo "make test   run the whole test suite"
	@echo "make test-fast  the unit tests (no Rasa, browser, database or process): under a minute"
	@echo "make check  ruff (lint, format), mypy over bot/ and actions/, rasa data validate"
	@echo "make bench  measure latency and throughput against the rasa init starter bot"
	@echo "make nlu-eval  intent accuracy per intent on tests/nlu_holdout.yml and the third-party shopper set"
	@echo "make nlu-thresholds  what each FallbackClassifier threshold would do on the same two sets"

app: $(APP_VENV)/.installed
engine: $(ENGINE_VENV)/.installed
train: $(MODEL)

$(APP_VENV)/.installed: requirements.txt requirements-dev.txt
	@if [ -z "$(APP_PYTHON)" ]; then echo "error: no Python >= 3.11 found (tried python3.12, python3.13, python3.11, python3); install one or set APP_PYTHON=/path/to/python" >&2; exit 1; fi
	@echo "==> application environment ($(APP_VENV), $$($(APP_PYTHON) --version))"
	@test -x $(APP_PY) || $(APP_PYTHON) -m venv $(APP_VENV)
	@$(APP_PY) -m pip install --upgrade --quiet pip
	@$(APP_PY) -m pip install --progress-bar on -r requirements.txt -r requirements-dev.txt
	@touch $@

$(ENGINE_VENV)/.installed: requirements-engine.txt
	@if [ -z "$(ENGINE_PYTHON)" ]; then echo "error: the Rasa engine (rasa 3.6.21) needs Python 3.10, and none was found: looked for /root/.pyenv/versions/3.10.*/bin/python and python3.10 on PATH. Install Python 3.10 or set ENGINE_PYTHON=/path/to/python3.10" >&2; exit 1; fi
	@$(ENGINE_PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null || { echo "error: ENGINE_PYTHON=$(ENGINE_PYTHON) is not a working Python 3.10, which rasa 3.6.21 needs" >&2; exit 1; }
	@echo "==> Rasa engine environment ($(ENGINE_VENV), $$($(ENGINE_PYTHON) --version); about 70 s and 2.7 GB)"
	@test -x $(ENGINE_VENV)/bin/python || $(ENGINE_PYTHON) -m venv $(ENGINE_VENV)
	@$(ENGINE_VENV)/bin/python -m pip install --upgrade --quiet pip
	@$(ENGINE_VENV)/bin/python -m pip install --progress-bar on -r requirements-engine.txt
	@touch $@

# Trains only when the training data, config or domain changed.
$(MODEL): $(TRAINING_INPUTS) | $(ENGINE_VENV)/.installed
	@echo "==> training the model (about a minute on 2 cores)"
	@$(RASA) train --config config.yml --domain domain.yml --data data --out models --fixed-model-name assistant
	@touch $@

db: app
	@echo "==> store database: migrate and load the demo stores"
	@$(APP_PY) -m bot migrate
	@$(APP_PY) -m bot import $(DEMO_DATA) --progress
	@$(APP_PY) -m bot demo-secrets

# DEMO=1: the demo store's page at / (signed in as the demo shopper); production leaves it off.
run: app engine train db
	@DEMO=1 $(APP_PY) -m bot run

shell: app engine train db
	@DEMO=1 $(APP_PY) -m bot chat

# The browser tests drive Debian's Chromium (never a downloaded browser).
browser:
	@test -x /usr/bin/chromium -a -d /usr/share/fonts/truetype/wqy || { echo "==> installing Debian's chromium and a Chinese font (the console's 简体中文 screenshots) for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei; }

# Two parts. The tests that start no Rasa server run on every core (pytest-xdist, TEST_WORKERS
# processes, a module per process at a time); then the engine tests, which start a Rasa server and an
# action server per module and time their turns, run one at a time. A PYTEST_ARGS that selects tests
# of one part only leaves the other with nothing to run (pytest's exit status 5), which is no failure.
TEST_WORKERS ?= auto
test: app engine train browser
	@echo "==> test suite, part 1 of 2: the tests that start no Rasa server ($(TEST_WORKERS) workers)"
	@$(APP_PY) -m pytest -m "not engine" -n $(TEST_WORKERS) --dist loadscope $(PYTEST_ARGS) || [ $$? -eq 5 -a -n "$(PYTEST_ARGS)" ]
	@echo "==> test suite, part 2 of 2: the engine tests (a real Rasa server and action server per module)"
	@$(APP_PY) -m pytest -m engine $(PYTEST_ARGS) || [ $$? -eq 5 -a -n "$(PYTEST_ARGS)" ]

# The unit tests: no Rasa, no browser, no store database, no process (pyproject.toml's markers); under a
# minute. The database tests (about 900, SQLite and PostgreSQL) migrate a fresh database each: `make test`.
test-fast: app
	@echo "==> unit tests"
	@$(APP_PY) -m pytest -m "not engine and not browser and not database and not slow" -q -p no:cacheprovider $(PYTEST_ARGS)

# The Python the checks read: the application, its tests, the benchmarks and the engine's NLU components.
PY_SOURCES := bot actions tests bench nlu_components
# `ruff format --check` holds every Python source to the format (pyproject.toml's [tool.ruff]).
FORMATTED := $(PY_SOURCES)

check: lint format-check typecheck validate-data

lint: app
	@echo "==> ruff check"
	@$(APP_VENV)/bin/ruff check $(PY_SOURCES)

format-check: app
	@echo "==> ruff format --check $(FORMATTED)"
	@$(APP_VENV)/bin/ruff format --check $(FORMATTED)

# mypy reads its files and settings from pyproject.toml: bot/ and actions/.
typecheck: app
	@echo "==> mypy"
	@$(APP_VENV)/bin/mypy

validate-data: engine
	@echo "==> rasa data validate"
	@$(RASA) data validate --domain domain.yml --data data --fail-on-warnings

# The tests that start no process of their own, with the wall clock moved years ahead: a test that
# only passes near the day it was written (a time bomb) fails here first. CI runs it after `test`.
FUTURE ?= $(shell date -u -d '+5 years 3 months' +%Y-%m-%dT%H:%M:%SZ)
test-future: app
	@echo "==> in-process tests at $(FUTURE)"
	@TEST_TRAVEL_TO=$(FUTURE) $(APP_PY) -m pytest -m "not engine" -n $(TEST_WORKERS) --dist loadscope -p no:cacheprovider $(PYTEST_ARGS)

bench: app engine train db
	@$(APP_PY) -m bench.run $(BENCH_ARGS)
	@echo "==> delivery webhooks burst"
	@$(APP_PY) -m bench.webhooks $(WEBHOOK_BENCH_ARGS)

clean:
	rm -rf var models results results-nlu.log

# Intent accuracy per intent, top confusions and issue 14's targets on two sets the model never saw:
# our held-out messages and third-party shopper messages (measure only; never train on either).
# EVAL_MODEL=path scores another model (e.g. one trained with config-sparse.yml) without training.
NLU_HOLDOUT ?= tests/nlu_holdout.yml
SHOPPER_DEV ?= ../shared/eval/shopper_dev.yml
EVAL_MODEL  ?= $(MODEL)
NLU_RESULTS ?= results
nlu-eval: app engine $(if $(filter $(MODEL),$(EVAL_MODEL)),train)
	@mkdir -p $(NLU_RESULTS)
	@echo "==> NLU on $(NLU_HOLDOUT) with $(EVAL_MODEL) (report in $(NLU_RESULTS)/nlu_holdout)"
	@$(RASA) test nlu --no-plot --model $(EVAL_MODEL) --nlu $(NLU_HOLDOUT) --out $(NLU_RESULTS)/nlu_holdout > $(NLU_RESULTS)/nlu_holdout.log 2>&1 || { tail -30 $(NLU_RESULTS)/nlu_holdout.log; exit 1; }
	@if [ -f $(SHOPPER_DEV) ]; then \
	  echo "==> NLU on $(SHOPPER_DEV) (report in $(NLU_RESULTS)/shopper_dev)"; \
	  $(RASA) test nlu --no-plot --model $(EVAL_MODEL) --nlu $(SHOPPER_DEV) --out $(NLU_RESULTS)/shopper_dev > $(NLU_RESULTS)/shopper_dev.log 2>&1 || { tail -30 $(NLU_RESULTS)/shopper_dev.log; exit 1; }; \
	else echo "==> $(SHOPPER_DEV) not found: third-party set skipped (set SHOPPER_DEV=path)"; rm -rf $(NLU_RESULTS)/shopper_dev; fi
	@$(APP_PY) -m bench.nlu_report holdout=$(NLU_RESULTS)/nlu_holdout $$(test -f $(NLU_RESULTS)/shopper_dev/intent_report.json && echo shopper_dev=$(NLU_RESULTS)/shopper_dev)

# What the FallbackClassifier's threshold and ambiguity_threshold would do on the same two sets
# (rasa test nlu scores with the fallback undone, so it cannot tell); tune config.yml from this.
nlu-thresholds: engine $(if $(filter $(MODEL),$(EVAL_MODEL)),train)
	@mkdir -p $(NLU_RESULTS)
	@OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE $(ENGINE_VENV)/bin/python -m bench.nlu_thresholds --model $(EVAL_MODEL) $(NLU_HOLDOUT) $$(test -f $(SHOPPER_DEV) && echo $(SHOPPER_DEV)) 2> $(NLU_RESULTS)/nlu_thresholds.log || { tail -30 $(NLU_RESULTS)/nlu_thresholds.log; exit 1; }
