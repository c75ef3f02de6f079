# The two set-up commands of README.md: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test install browser

$(BIN)/distansmote: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

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
