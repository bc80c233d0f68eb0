# grassroots: two commands on a fresh machine.
#   make demo   set everything up, run the nightly DAG on the sample submissions, print indicators
#   make test   set everything up and run the test suite (lint included)
SHELL := /bin/bash
PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export PYTHONDONTWRITEBYTECODE :=
export GX_ANALYTICS_ENABLED := false
export DBT_SEND_ANONYMOUS_USAGE_STATS := False

.PHONY: install demo test test-deploy lint unit integration e2e docs clean stop bench bench-quick

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==0.13.*"

# The lock file pins every package; --compile-bytecode because without .pyc files
# Airflow takes seconds longer to import in every task.
$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/grassroots demo

lint: install
	$(BIN)/ruff check src dags tests bench
	$(BIN)/ruff format --check src dags tests bench
	$(BIN)/sqlfluff lint dbt_project/models dbt_project/macros dbt_project/tests

# The tests start their own warehouse in .state/test-home; the demo's .state is untouched.
test: lint
	$(BIN)/pytest -m "not deploy"

# The compose deployment (docker/) built and run here with the host's dockerd: root only,
# Docker and debootstrap from Debian's packages (.ci/run installs them and starts dockerd).
test-deploy: install
	$(BIN)/pytest -m deploy tests/deploy

unit: install
	$(BIN)/pytest -m unit

docs: install
	$(BIN)/grassroots setup
	$(BIN)/grassroots docs
	@echo "served at /grassroots/dbt-docs/ by grassroots serve"

# Intake benchmark on its own state folder (.state/bench): national year, full history
# 2008-2025 and a 1 % night, each next to a floor (csv/calamine + one COPY). See bench/run.py.
bench: install
	$(BIN)/python bench/run.py

bench-quick: install
	$(BIN)/python bench/run.py --scale province --years 2022-2024 --skip-history

# The upload page: time from upload to answer for a province's commune files, next to
# the bare GX validation of the same file (bench/upload.py).
.PHONY: bench-upload
bench-upload: install
	$(BIN)/python bench/upload.py

# The analyst guide's questions timed as the analyst role on $GRASSROOTS_HOME (default
# .state/bench): median and worst of 3 runs each. See bench/questions.py.
.PHONY: bench-questions
bench-questions: install
	$(BIN)/python bench/questions.py

# A night run by grassroots serve (the scheduler) on what the last bench run left: bench/served.py.
.PHONY: bench-served
bench-served: install
	$(BIN)/python bench/served.py

# The report site built from scratch and a 1 % night on the warehouse $GRASSROOTS_HOME holds
# (read only; default .state/bench, which `make bench` fills), next to a floor: bench/site.py.
.PHONY: bench-site
bench-site: install
	$(BIN)/python bench/site.py

stop:
	-$(BIN)/grassroots warehouse stop

clean: stop
	rm -rf .state dbt_project/target dbt_project/logs
