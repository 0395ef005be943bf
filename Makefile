# The two commands: `make lab` and `make test` (and `make app`). Each creates .venv if it is missing.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: lab app student test test-unit test-notebooks bench notebooks chromium clean

$(PY):
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "xchat-kit needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# Everything the tests and the notebooks need, pinned exactly (requirements/test.txt), plus the kit.
$(VENV)/.deps: $(PY) requirements/test.txt pyproject.toml
	$(PIP) install -r requirements/test.txt
	$(PIP) install --no-deps -e .
	@touch $@

# tools/launch.py holds both command lines (as root: --allow-root; no display: no browser);
# tests/test_launch.py starts them the same way.
lab: $(VENV)/.deps
	$(PY) tools/launch.py lab

app: $(VENV)/.deps
	$(PY) tools/launch.py app

# The real-browser test drives Debian's Chromium (tools that download their own browser fail here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser test"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q chromium; \
	  else sudo apt-get update -q && sudo apt-get install -y -q chromium; fi; }

# The browser tests run in their own pytest process: Playwright leaves an event loop running,
# which would break later tests that start one (schemathesis). KIT_UPDATE_SCREENSHOT=1 refreshes
# the committed pictures (docs/screenshot.png, docs/panels/*.png).
test: $(VENV)/.deps chromium
	$(PY) -m pytest tests --ignore=tests/test_browser.py --ignore=tests/test_browser_panels.py
	$(PY) -m pytest tests/test_browser.py tests/test_browser_panels.py
	$(PY) -m pytest $(NBVAL) notebooks

test-unit: $(VENV)/.deps
	$(PY) -m pytest tests

test-notebooks: $(VENV)/.deps
	$(PY) -m pytest $(NBVAL) notebooks

# The student copy of the lessons: solutions cut to blanks, folded below (student/, not committed).
student: $(VENV)/.deps
	$(PY) tools/student.py

# Re-run every notebook in the pinned environment and store its outputs (see tools/run_notebooks.py).
notebooks: $(VENV)/.deps
	$(PY) tools/run_notebooks.py

bench: $(VENV)/.deps
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .schemathesis
