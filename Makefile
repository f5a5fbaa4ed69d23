# Switchyard: `make run` and `make test` are the whole quick start.
SHELL := /bin/bash
PYTHON ?= python3.11
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: install run test lint bench page-speed analytics-scale

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

install: $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --quiet --compile-bytecode --python $(PYTHON)

run: install
	$(PY) scripts/devserver.py --port $(PORT)

# pytest-xdist workers: two per core, at most 4 (each takes a Redis database, tests/worker_env.py).
# Two, because many tests spend their time waiting on servers they started, not on the CPU.
PYTEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); echo $$(( 2 * n < 4 ? 2 * n : 4 )))

test: install
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/mypy

bench: install
	$(PY) scripts/bench.py

# Median response time and query count of each dashboard page and the catalog on the demo data
# with 10,000 usage records (scripts/page_speed.py; on the configured database, as `make run`).
page-speed: install
	$(PY) scripts/page_speed.py $(PAGE_SPEED_ARGS)

# One million request records over 90 days for one org, the rollup's time, and the medians of the
# analytics API (90 days by day, each group_by) and the request log's first page
# (scripts/analytics_scale.py; PostgreSQL only, on the configured database).
analytics-scale: install
	$(PY) scripts/analytics_scale.py $(ANALYTICS_SCALE_ARGS)
