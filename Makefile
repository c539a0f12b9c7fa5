# Two commands set everything up on a fresh machine: `make lock` and `make test`.
# Both create or refresh .venv from pyproject.toml first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ENV_FILE ?= environment.yml
LOCKS ?= locks
# MIRROR=<url or path>: send every https://conda.anaconda.org request there; locks keep canonical URLs.
MIRROR ?=
# PYPI_MAPPING=<file>: conda→PyPI name mapping to use instead of downloading parselmouth's.
# With a MIRROR, parselmouth's copy in ../shared/pypi-mapping is used when it exists (the offline
# setup our own locks were made with), so `make lock MIRROR=../shared/channels` reproduces them.
PYPI_MAPPING ?= $(if $(MIRROR),$(wildcard ../shared/pypi-mapping/conda-forge.json))
LOCK_ARGS ?=

.PHONY: venv lock check test test-fast lint bench dist clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lock: $(STAMP)
	$(BIN)/lockgen lock -f $(ENV_FILE) -o $(LOCKS) $(if $(MIRROR),--mirror https://conda.anaconda.org=$(MIRROR)) \
		$(if $(PYPI_MAPPING),--pypi-mapping $(PYPI_MAPPING)) $(LOCK_ARGS)

check: $(STAMP)
	$(BIN)/lockgen check -f $(ENV_FILE) -o $(LOCKS)

test: $(STAMP)
	$(BIN)/ruff check lockgen tests bench action
	$(BIN)/mypy
	$(BIN)/python -m pytest

# The edit loop: unit and in-process tests only (tests marked `slow` left out), well under a minute.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check lockgen tests bench action
	$(BIN)/mypy

# BENCH_ARGS: e.g. --quick, --only dl-warm,noop, --runs 9 (see bench/run.py --help).
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# A wheel and an sdist in dist/, what a release publishes (README "Releases").
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --outdir dist .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache dist build
