# siting — make demo | make test | make bench | make <county> | make city
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo demo-haidian test check bench clean help

help:
	@echo "make demo      set up .venv, run models/demo.toml, write maps/demo/"
	@echo "make test      set up .venv with test tools, run the test suite"
	@echo "make bench     run the benchmarks in bench/"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

demo: $(STAMP)
	$(BIN)/siting run models/demo.toml
	@echo "outputs: maps/demo/ (open maps/demo/map.html in a browser)"

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/distances.py

clean:
	rm -rf maps/*/ .pytest_cache
