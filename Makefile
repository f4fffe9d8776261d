# siting — make demo | make test | make bench | make <county> | make city
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

COUNTIES := zhongyuan erqi guancheng jinshui shangjie huiji zhongmu jingkai gaoxin \
            hangkonggang gongyi xingyang xinmi xinzheng dengfeng

.PHONY: demo demo-haidian test check bench clean help city generate $(COUNTIES)

help:
	@echo "make demo          set up .venv, run models/demo.toml (中牟县, generated inputs), write maps/demo/"
	@echo "make demo-haidian  the Beijing Haidian real-OSM demo, maps/demo-haidian/"
	@echo "make test          set up .venv with test tools, run the test suite"
	@echo "make <county>      one county: $(COUNTIES)"
	@echo "make city          all 15 counties and the citywide report, maps/city/"
	@echo "make bench         run the benchmarks in bench/"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

demo: $(STAMP)
	$(BIN)/siting run models/demo.toml --generate
	@echo "outputs: maps/demo/ (open maps/demo/map.html in a browser)"

demo-haidian: $(STAMP)
	$(BIN)/siting run models/demo-haidian.toml
	@echo "outputs: maps/demo-haidian/"

# one target per county: the real files in data/zhengzhou/<county>/ when present,
# else generated stand-ins in data/generated/<county>/ (made on demand, cached by seed)
$(COUNTIES): $(STAMP)
	$(BIN)/siting run models/$@.toml --generate
	@echo "outputs: maps/$@/"

city: $(STAMP)
	$(BIN)/siting city models/city.toml --generate
	@echo "outputs: maps/city/ and maps/<county>/"

generate: $(STAMP)
	$(BIN)/siting generate all

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/distances.py zhongmu

clean:
	rm -rf maps/*/ .pytest_cache
