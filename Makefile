# Two commands on a fresh machine (Python 3.11+ and make): `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test format sandbox bench bench-log screenshots clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/streamlit run app.py --server.port 8501 --server.headless true --browser.gatherUsageStats false

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

sandbox: $(STAMP)
	$(BIN)/python -m connector.sandbox --port 8600

bench: $(STAMP)
	$(BIN)/python -m bench.interaction
	$(BIN)/python -m bench.catalog
	$(BIN)/python -m bench.processes
	$(BIN)/python -m bench.keystroke

bench-log: $(STAMP)  # a million log rows: ~4 min to generate once, ~1 min to measure
	$(BIN)/python -m bench.log

screenshots: $(STAMP)
	$(BIN)/python -m tests.screenshots

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache
