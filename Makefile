# Every target creates .venv when it is missing and installs what it needs into it.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install --quiet --constraint constraints.txt $(if $(wildcard /opt/wheels),--find-links /opt/wheels)

DEMO   ?= moons

.PHONY: test demo docs bench bench-quick lint clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.test: $(PY) pyproject.toml constraints.txt
	$(PIP) -e '.[test,demos]'
	touch $@

$(VENV)/.demos: $(PY) pyproject.toml constraints.txt
	$(PIP) -e '.[demos]'
	touch $@

$(VENV)/.bench: $(PY) pyproject.toml constraints.txt
	$(PIP) -e '.[test,demos,bench]'
	touch $@

$(VENV)/.lint: $(PY) pyproject.toml
	$(PIP) -e '.[lint]'
	touch $@

test: $(VENV)/.test
	$(PY) -m pytest

demo: $(VENV)/.demos
	$(PY) -m demos $(DEMO)

# the README's numbers and example outputs, from fresh quick runs (FULL=1: the full runs too)
docs: $(VENV)/.test
	$(PY) -m demos.readme $(if $(FULL),--full)

bench: $(VENV)/.bench
	$(PY) -m benchmarks

bench-quick: $(VENV)/.bench
	$(PY) -m benchmarks --quick

lint: $(VENV)/.lint
	$(PY) -m ruff check autograd nn demos tests benchmarks

clean:
	rm -rf $(VENV) results build *.egg-info .pytest_cache .hypothesis .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
