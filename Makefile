# evswarm: `make demo` sets everything up and runs the main job; `make test` sets everything up and runs
# the checks and tests. Both are idempotent: a second run only re-installs what changed.

VENV    := .venv
PY      := $(VENV)/bin/python
PIP     := $(PY) -m pip -q --disable-pip-version-check
PYSTAMP := $(VENV)/.evswarm-installed
NPSTAMP := node_modules/.evswarm-installed
DEMO    ?= runs/demo

.PHONY: setup test-setup demo data test check lint typecheck pytest clean

$(PYSTAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install torch==2.13.0          # first and exact: the machine holds this CPU wheel
	$(PIP) install -e ".[dev]"
	touch $@

$(NPSTAMP): package.json
	npm install --omit=optional --no-package-lock --no-audit --no-fund --loglevel=error
	touch $@

/usr/bin/chromium:
	apt-get update -q && apt-get install -y -q chromium

setup: $(PYSTAMP) $(NPSTAMP)

test-setup: setup /usr/bin/chromium

demo: setup
	$(VENV)/bin/evswarm demo --out $(DEMO)

data: setup                            # rebuild the shipped batch in data/ (about 10 minutes)
	$(PY) scripts/build_data.py

lint: $(PYSTAMP)
	$(VENV)/bin/ruff check evswarm tests benchmarks scripts
	$(VENV)/bin/ruff format --check evswarm tests benchmarks scripts
	$(VENV)/bin/lint-imports

typecheck: $(PYSTAMP)
	$(VENV)/bin/mypy

pytest: test-setup
	$(PY) -m pytest -q -n 2

check: lint typecheck

test: test-setup check pytest

clean:
	rm -rf $(VENV) node_modules runs .cache
