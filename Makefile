# Two commands do all the set-up on a fresh machine (Python >= 3.11 and make):
#   make demo   - virtualenv, install, run the pipeline on the bundled sample feeds
#   make test   - virtualenv, install with test extras, run the whole suite, ruff and mypy
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "newsmon needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/newsmon demo

test: $(VENV)/.installed-test
	$(BIN)/ruff check monitor tests alembic bench
	$(BIN)/mypy
	$(BIN)/pytest -n 2

clean:
	rm -rf $(VENV) newsmon-demo
