# The two commands: `make lab` and `make test`. Both create .venv if it is missing.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q

.PHONY: lab test bench notebooks clean

$(PY):
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "xchat-kit needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# Everything `make test` needs, pinned exactly (requirements/test.txt), plus the kit itself.
$(VENV)/.test-deps: $(PY) requirements/test.txt pyproject.toml
	$(PIP) install -r requirements/test.txt
	$(PIP) install --no-deps -e .
	@touch $@

# JupyterLab and the notebook packages, at the same pins.
$(VENV)/.lab-deps: $(PY) requirements/test.txt pyproject.toml
	$(PIP) install -r requirements/test.txt
	$(PIP) install --no-deps -e .
	@touch $@

lab: $(VENV)/.lab-deps
	$(PY) -m jupyterlab notebooks/

test: $(VENV)/.test-deps
	$(PY) -m pytest

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
