# Every target creates .venv when it is missing and installs what it needs into it.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install --quiet --constraint constraints.txt $(if $(wildcard /opt/wheels),--find-links /opt/wheels)

DEMO   ?= moons

.PHONY: test demo docs bench bench-quick lint clean fuzz mutate

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

$(VENV)/.mutate: $(PY) pyproject.toml constraints.txt
	$(PIP) -e '.[test,mutate]'
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

# The differential fuzzer with a long budget (tests/test_fuzz.py; make test runs a small one).
FUZZ_EXAMPLES ?= 20000
fuzz: $(VENV)/.test
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -s tests/test_fuzz.py

# Mutation testing (mutmut, config in pyproject.toml) of autograd/value.py, autograd/engine.py and
# nn/optim/; MUTANTS='glob ...' runs a subset (e.g. MUTANTS='autograd.value*'). Results stay in mutants/.
mutate: $(VENV)/.mutate
	$(VENV)/bin/mutmut run --max-children 2 $(MUTANTS)
	$(VENV)/bin/mutmut results

lint: $(VENV)/.lint
	$(PY) -m ruff check autograd nn demos tests benchmarks

clean:
	rm -rf $(VENV) results mutants build *.egg-info .pytest_cache .hypothesis .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
