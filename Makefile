# The two set-up commands of README.md: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# requirements.lock pins every Python package (with hashes) for Python >= 3.11, the test tools included;
# requirements-runtime.lock is its subset that the service needs (the container, docs/operations.md).
# `make lock` rewrites both after a change to pyproject.toml's dependencies, `make lock-upgrade` moves
# every pin to the newest allowed.
UV_VERSION := 0.13.9
LOCK_OPTIONS := --universal --python-version 3.11 --generate-hashes --quiet

.PHONY: demo test lint install browser lock lock-upgrade

$(BIN)/distansmote: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet uv==$(UV_VERSION)

lock: $(BIN)/uv
	$(BIN)/uv pip compile pyproject.toml --extra postgres --extra test $(LOCK_OPTIONS) -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra postgres $(LOCK_OPTIONS) -c requirements.lock -o requirements-runtime.lock

lock-upgrade: $(BIN)/uv
	$(BIN)/uv pip compile pyproject.toml --extra postgres --extra test $(LOCK_OPTIONS) --upgrade -o requirements.lock
	$(MAKE) lock

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

install: $(BIN)/distansmote node_modules/.package-lock.json

# Debian's Chromium for the browser test; chromium-l10n gives its date and time fields Swedish formats.
browser:
	@command -v chromium >/dev/null && [ -f /usr/lib/chromium/locales/sv.pak ] || \
		{ apt-get update -qq && apt-get install -y -qq chromium chromium-l10n; }

demo: install
	$(BIN)/distansmote demo

test: install browser
	$(BIN)/pytest

# The rules the tests cannot see: ruff's lint and mypy (strict on the core, handlers and cards).
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
