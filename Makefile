# mlaudit: `make run` serves the dashboard with an embedded default (SQLite,
# in-process tasks); `make test` runs the whole suite against real services.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

# The test suite talks to real PostgreSQL and Redis (see .ci/run for starting them).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
# Both cores: pytest-xdist workers, each with its own test database and Redis databases (tests/conftest.py);
# a module's tests stay on one worker so its module-scoped servers start once.
PYTEST_ARGS ?= -n 2 --dist loadfile

.PHONY: run test lint format bench clean

# uv installs exactly what uv.lock pins (seconds, not minutes). It is bootstrapped into the virtualenv
# with pip, so the machine needs nothing but Python. --inexact keeps uv itself in the virtualenv.
UV_VERSION := 0.13.9
UV := $(VENV)/bin/uv
UV_SYNC := UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --locked --inexact --quiet

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: uv.lock pyproject.toml | $(UV)
	@echo "Installing mlaudit and the demo's MLflow from uv.lock"
	$(UV_SYNC) --extra demo
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed uv.lock pyproject.toml
	@echo "Installing the test tools from uv.lock"
	$(UV_SYNC) --extra demo --extra dev
	touch $@

run: $(VENV)/.installed
	@if command -v msgfmt >/dev/null; then $(PY) manage.py compilemessages --ignore=.venv -v0; \
	else echo "GNU gettext (msgfmt) is not installed: the interface will be in English only."; fi
	@$(PY) manage.py migrate --noinput -v0 && echo "Database migrated"
	@$(PY) manage.py load_rubric rubric/data/ml-test-score-2017.yaml
	@$(PY) manage.py seed_demo
	@# The dashboard answers at once; the MLflow demo server (MLFLOW_DEMO_PORT, default a free port) is
	@# seeded and synced in the background, and stopped with the dashboard.
	@$(PY) manage.py run_demo $(HOST):$(PORT)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The SSO tests sign in through a real OpenID Connect provider run by node (tests/sso/provider/), installed
# exactly as package-lock.json pins it. (tests/sso/provider.py also installs it when it is missing.)
OIDC_TEST_PROVIDER := tests/sso/provider
$(OIDC_TEST_PROVIDER)/node_modules/.package-lock.json: $(OIDC_TEST_PROVIDER)/package-lock.json $(OIDC_TEST_PROVIDER)/package.json
	cd $(OIDC_TEST_PROVIDER) && npm ci --no-audit --no-fund --loglevel=error

test: lint $(OIDC_TEST_PROVIDER)/node_modules/.package-lock.json
	$(PY) manage.py compilemessages --ignore=.venv -v0
	DATABASE_URL=$(TEST_DATABASE_URL) TEST_REDIS_URL=$(TEST_REDIS_URL) $(PY) -m pytest $(PYTEST_ARGS)

# Benchmarks (see bench/README.md); figures are recorded in bench/RESULTS.md.
# `make bench BENCH="load portfolio"` runs only those (bench/<name>.py); empty runs every one.
BENCH ?=
bench: $(VENV)/.installed-dev
	DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m bench $(BENCH)

clean:
	rm -rf $(VENV) var/staticfiles .pytest_cache .mypy_cache .ruff_cache
