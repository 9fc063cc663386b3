PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
# Debian packages the test suite needs: a real PostgreSQL for the shared state
# backend, a real browser for the HTML report. Installed when missing.
TEST_DEBS := postgresql chromium
DEMO_STATE := $(VENV)/demo-state
DEMO_NOW := 2026-11-23T09:00:00Z

.PHONY: demo test bench reliability clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/accessplan validate examples/mssp
	rm -rf $(DEMO_STATE)
	$(BIN)/accessplan --now $(DEMO_NOW) --state $(DEMO_STATE) plan examples/mssp

test: $(STAMP)
	./scripts/ensure-debs.sh $(TEST_DEBS)
	$(BIN)/python -m pytest -q

$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install -q -e '.[test,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/run.py

reliability: $(STAMP)
	$(BIN)/python benchmarks/reliability.py

clean:
	rm -rf $(VENV) build src/*.egg-info
