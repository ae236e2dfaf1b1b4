# Safeguard: the two commands a newcomer needs are `make run` and `make test`.
# See docs/development.md for what each target does and how to run a subset of the tests.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
SAFEGUARD := $(VENV)/bin/safeguard
# pip runs again only when pyproject.toml changes (or the stamp is deleted).
STAMP := $(VENV)/.installed-test
BENCH_STAMP := $(VENV)/.installed-bench

HOST ?= 127.0.0.1
PORT ?= 8000
# Extra pytest arguments, e.g. make test PYTEST_ARGS='tests/auth -k token'
PYTEST_ARGS ?=
# One benchmark script (benchmarks/bench_*.py) or all of them.
BENCH ?=

AXE_DIR := tools/axe
AXE_JS := $(AXE_DIR)/node_modules/axe-core/axe.min.js

.PHONY: help venv run test system-deps axe postgres-start postgres-stop lint bench clean

help:
	@echo "make run          venv + migrate SQLite + demo data + serve on http://$(HOST):$(PORT)"
	@echo "make test         install test deps (Chromium, PostgreSQL, axe-core) and run the whole suite"
	@echo "                  (subset: make test PYTEST_ARGS='tests/auth -k token')"
	@echo "make lint         ruff + mypy (+ shellcheck when installed)"
	@echo "make bench        benchmarks against the anchors (BENCH=benchmarks/bench_x.py for one)"
	@echo "make system-deps  apt-get install chromium postgresql fonts-dejavu-core npm, if missing"
	@echo "make axe          npm ci axe-core into $(AXE_DIR)/node_modules"
	@echo "make postgres-start / postgres-stop   the private test server (scripts/postgres.sh)"
	@echo "make clean        remove the venv, var/pg-test, node_modules and test artifacts"

# ---- environment -------------------------------------------------------------------------

venv: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PIP) install -q -e '.[test]'
	@touch $@

system-deps:
	@bash scripts/system-deps.sh

axe: $(AXE_JS)

$(AXE_JS): $(AXE_DIR)/package.json $(AXE_DIR)/package-lock.json
	@bash scripts/system-deps.sh >/dev/null
	npm ci --prefix $(AXE_DIR) --no-audit --no-fund --ignore-scripts --loglevel=error
	@test -f $@ && touch $@

# ---- the two commands ----------------------------------------------------------------------

run: venv
	$(SAFEGUARD) db upgrade
	$(SAFEGUARD) demo load
	$(SAFEGUARD) serve --host $(HOST) --port $(PORT)

# scripts/test.sh starts PostgreSQL, runs pytest, stops PostgreSQL even when pytest fails,
# and exits with pytest's exit code (5, "no tests collected", is a failure too).
test: venv system-deps axe
	@bash scripts/test.sh $(PYTEST_ARGS)

postgres-start:
	@bash scripts/postgres.sh start

postgres-stop:
	@bash scripts/postgres.sh stop

# ---- quality -----------------------------------------------------------------------------

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy safeguard
	@if command -v shellcheck >/dev/null 2>&1; then \
		shellcheck scripts/*.sh .ci/run; \
	else echo "lint: shellcheck not installed (apt-get install shellcheck); skipped"; fi

# Benchmarks are not tests: they print tables with ratios against the anchors and never fail
# on timing. Results go to docs/benchmarks.md by hand.
bench: $(BENCH_STAMP)
	@scripts=("$(BENCH)"); [ -n "$(BENCH)" ] || scripts=(benchmarks/bench_*.py); \
	status=0; for s in "$${scripts[@]}"; do \
		[ -f "$$s" ] || { echo "bench: no benchmark scripts found ($$s)"; exit 1; }; \
		echo "== $$s"; PYTHONPATH=. $(PY) "$$s" || status=1; \
	done; exit $$status

$(BENCH_STAMP): pyproject.toml | $(STAMP)
	$(PIP) install -q -e '.[test,bench]'
	@touch $@

clean:
	-@bash scripts/postgres.sh stop
	rm -rf $(VENV) var/pg-test var/pg-test.log var/pg-test.holders $(AXE_DIR)/node_modules test-artifacts
