# Two commands do all set-up on a fresh machine (Python 3.10+ and make):
#   make demo   - the example DAG end to end on the built-in emulator and an embedded SQLite Airflow
#   make test   - lint (ruff, mypy) and the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# The emulator is a development tool beside the package (not in the wheel): scripts, tests and benchmarks
# import it from the repository root.
export PYTHONPATH := $(CURDIR)

.PHONY: install demo emulator test test-ui test-ui-line test-matrix test-mutations test-mutations-fast bench lint clean azurite

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade uv
	# --compile-bytecode: Airflow is thousands of modules, and where PYTHONDONTWRITEBYTECODE is set (or the
	# venv is read-only) every Airflow process the tests start would otherwise compile them again (~6 s each).
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e ".[test]"
	touch $(STAMP)

demo: install
	$(BIN)/python scripts/demo.py

# The emulator by hand, on loopback (Ctrl-C stops it).
PORT ?= 8787
emulator: install
	$(BIN)/python -m emulator --port $(PORT)

lint: install
	$(BIN)/ruff check airflow_provider_zoho_aep emulator tests dags scripts $(wildcard bench)
	$(BIN)/mypy

# Azurite (Microsoft's Azure Storage emulator, npm) for the Data Landing Zone upload tests: installed into
# .azurite/ when Node is present; without Node those tests are skipped locally (CI installs Node: .ci/run).
AZURITE := .azurite/node_modules/.bin/azurite-blob
azurite:
	@if [ -x $(AZURITE) ]; then :; \
	elif command -v npm >/dev/null 2>&1; then npm install --prefix .azurite --no-audit --no-fund --silent azurite@3; \
	else echo "Node.js/npm not found: the Azurite tests will be skipped (install Node to run them)"; fi

# Two pytest-xdist workers: most of the suite waits on Airflow processes, the emulator and Azurite, so two
# workers keep both cores busy (PYTEST_WORKERS=0 runs the suite in one process).
PYTEST_WORKERS ?= 2
test: lint azurite
	$(BIN)/pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS)

# The slow suite: a Zoho export of more than 400,000 records across three Bulk Read jobs (about a minute).
test-slow: install
	ZOHO_AEP_SLOW_TESTS=1 $(BIN)/pytest -q -p no:cacheprovider -m slow tests

test-ui: install
	bash tests/ui/install_chromium.sh
	ZOHO_AEP_UI_TESTS=1 $(BIN)/pytest -q -p no:cacheprovider -m ui tests/ui

# Each curated break of tests/mutations/breaks.py applied in a scratch copy: the tests the Guarantees table
# names must fail on it. Fails if any break survives or an entry no longer matches the code (stale).
# MUTATION_ARGS: e.g. --no-baseline (skip the run of the named tests without breaks) or -k <name>.
test-mutations: install
	$(BIN)/python tests/mutations/run.py $(MUTATION_ARGS)

test-mutations-fast: install
	$(BIN)/python tests/mutations/run.py --fast $(MUTATION_ARGS)

# Every supported Airflow 3 line (or those in MATRIX, e.g. MATRIX="3.0 3.3"): venvs under .matrix/, the wheel
# installed non-editable, the unit/integration/fault/e2e suites and the deferred example DAG.
test-matrix: install
	MATRIX="$(MATRIX)" $(BIN)/python scripts/test_matrix.py

# The browser suite's connection-form tests (both types offered, every field; the save/Test tests use 3.3's
# connection-list selectors) against an older Airflow line (UI_LINE, default 3.1: the line whose
# forms once broke), run by that line's matrix venv with the wheel installed.
UI_LINE ?= 3.1
test-ui-line: install
	bash tests/ui/install_chromium.sh
	$(BIN)/python scripts/test_matrix.py --prepare $(UI_LINE)
	ZOHO_AEP_UI_TESTS=1 ZOHO_AEP_UI_AIRFLOW_LINE=$(UI_LINE) ZOHO_AEP_UI_AIRFLOW_PYTHON=$(CURDIR)/.matrix/airflow-$(UI_LINE)-py3.11/bin/python \
		$(BIN)/pytest -q -p no:cacheprovider -m ui tests/ui/test_ui_connections.py -k type_offered_and_form_fields

# What a user pays, against the emulator: DAG parse, requests per operation, throughput at the rate limit,
# 1,000 waiting triggers, the window task's peak memory at 100,000 and 1,000,000 records (--quick: a short check).
bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .airflow .pytest_cache .ruff_cache .azurite
