# Every target does its own set-up: the virtualenv, and for test and bench the local PostgreSQL and Redis.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Re-install only when a requirements file changes.
STAMP := $(VENV)/.requirements-installed

HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_DATABASE_URL := sqlite:///$(CURDIR)/var/demo.sqlite3
PYTEST_ARGS ?=
# The second test run: the tests marked timescaledb, on the TimescaleDB that scripts/ensure_timescaledb.sh starts.
TIMESCALEDB_PORT := 55432
TIMESCALEDB_DATABASE_URL := postgres://postgres@127.0.0.1:$(TIMESCALEDB_PORT)/screener
TIMESCALEDB_ANSWERS := pg_isready -q -h 127.0.0.1 -p $(TIMESCALEDB_PORT) -t 2
# Every bench/*.py is a benchmark, but for the shared helpers and the screener benchmark's server settings and URLs.
BENCHES := $(sort $(filter-out __init__ common list_layer_settings server_settings urls,$(basename $(notdir $(wildcard bench/*.py)))))
BENCH ?= $(BENCHES)
# The dashboard's chart library, from the npm registry (not committed: static/vendor/ is ignored).
LIGHTWEIGHT_CHARTS := 5.2.1
CHART_JS := static/vendor/lightweight-charts.standalone.production.js
SCREENSHOTS_DIR := bench/screenshots

.PHONY: help run demo test bench lint clean vendor screenshots

help:  ## List the targets.
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "$(PYTHON) is older than 3.11" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(wildcard requirements/*.txt) | $(BIN)/python
	$(BIN)/python -m pip install --quiet --quiet --disable-pip-version-check --no-input -r requirements/local.txt
	@touch $@

vendor:  ## Fetch the dashboard's chart library (TradingView Lightweight Charts, pinned) into static/vendor/.
	@if ! grep -qs 'Lightweight Charts.* v$(LIGHTWEIGHT_CHARTS)$$' $(CHART_JS); then \
		command -v npm >/dev/null || { echo "npm is needed to fetch lightweight-charts (apt-get install npm)" >&2; exit 1; }; \
		tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
		echo "npm pack lightweight-charts@$(LIGHTWEIGHT_CHARTS)"; \
		(cd "$$tmp" && npm pack --silent lightweight-charts@$(LIGHTWEIGHT_CHARTS) >/dev/null); \
		mkdir -p $(dir $(CHART_JS)); \
		tar -xzf "$$tmp/lightweight-charts-$(LIGHTWEIGHT_CHARTS).tgz" -O \
			package/dist/lightweight-charts.standalone.production.js > $(CHART_JS).tmp; \
		mv $(CHART_JS).tmp $(CHART_JS); \
	fi

run: $(STAMP) vendor  ## Live Binance on SQLite (db.sqlite3), no Redis: keeper + HTTP/WebSocket on HOST:PORT.
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py serve --host $(HOST) --port $(PORT)

demo: $(STAMP) vendor  ## Same as run, offline: the built-in fake exchange replays recorded candles (var/demo.sqlite3).
	@mkdir -p var
	DATABASE_URL=$(DEMO_DATABASE_URL) $(BIN)/python manage.py migrate --no-input
	DATABASE_URL=$(DEMO_DATABASE_URL) $(BIN)/python manage.py demo --host $(HOST) --port $(PORT)

# The TimescaleDB run is skipped when nothing answers on its port (no TimescaleDB source on this machine): said before
# the first run, so that the output still ends with pytest's summary. pytest's exit status 5 is "no tests collected":
# PYTEST_ARGS may select none of the timescaledb tests.
test: $(STAMP) vendor  ## The whole suite, then its timescaledb tests on TimescaleDB (servers started if needed).
	scripts/ensure_services.sh
	scripts/ensure_browser.sh
	scripts/ensure_timescaledb.sh
	@$(TIMESCALEDB_ANSWERS) || echo "nothing answers on 127.0.0.1:$(TIMESCALEDB_PORT): the run on TimescaleDB is skipped"
	$(BIN)/pytest $(PYTEST_ARGS)
	@! $(TIMESCALEDB_ANSWERS) || { \
		echo "== the tests marked timescaledb, again on TimescaleDB ($(TIMESCALEDB_DATABASE_URL))"; \
		DATABASE_URL=$(TIMESCALEDB_DATABASE_URL) TIMESCALEDB=true \
			$(BIN)/pytest $(PYTEST_ARGS) -m timescaledb || [[ $$? == 5 ]]; \
	}

bench: $(STAMP)  ## Every bench/*.py, or one with BENCH=name; results in bench/results/NAME.json.
	scripts/ensure_services.sh
	@mkdir -p bench/results
	@test -n "$(strip $(BENCH))" || { echo "no benchmarks in bench/" >&2; exit 1; }
	for name in $(BENCH); do echo "== bench.$$name"; $(BIN)/python -m bench.$$name; done

screenshots: $(STAMP) vendor  ## The dashboard's pages, light, dark and phone-sized, as bench/screenshots/*.png.
	scripts/ensure_services.sh
	scripts/ensure_browser.sh
	@mkdir -p $(SCREENSHOTS_DIR)
	DASHBOARD_SCREENSHOTS=$(CURDIR)/$(SCREENSHOTS_DIR) $(BIN)/pytest -q tests/dashboard/test_screenshots.py

lint: $(STAMP)  ## ruff check and ruff format --check.
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:  ## Remove the virtualenv, the demo database, collected static files and caches (keeps db.sqlite3).
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
