# siting — make demo | make test | make bench | make <county> | make city
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

COUNTIES := zhongyuan erqi guancheng jinshui shangjie huiji zhongmu jingkai gaoxin \
            hangkonggang gongyi xingyang xinmi xinzheng dengfeng

.PHONY: demo demo-haidian test browser check bench clean help city sweep generate $(COUNTIES)

help:
	@echo "make demo          set up .venv, run models/demo.toml (中牟县, generated inputs), write maps/demo/"
	@echo "make demo-haidian  the Beijing Haidian real-OSM demo, maps/demo-haidian/"
	@echo "make test          set up .venv with test tools (and Chromium): ruff, mypy, lint-imports, pytest"
	@echo "make check         ruff, mypy and lint-imports only"
	@echo "make <county>      one county: $(COUNTIES)"
	@echo "make city          all 15 counties and the citywide report, maps/city/"
	@echo "make sweep         the city at three village radii on Dask, maps/sweep-village-radius/"
	@echo "make bench         run the benchmarks in bench/"
	@echo "generated inputs are cached in \$$SITING_CACHE, else ~/.cache/siting: make demo SITING_CACHE=DIR"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip "setuptools>=77"
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

demo: $(STAMP)
	$(BIN)/siting run models/demo.toml --generate
	@echo "outputs: maps/demo/ (open maps/demo/map.html in a browser)"

demo-haidian: $(STAMP)
	$(BIN)/siting run models/demo-haidian.toml
	@echo "outputs: maps/demo-haidian/"

# one target per county: the real files in data/zhengzhou/<county>/ when present,
# else generated stand-ins in the cache folder, <cache>/<county>/ (made on demand, cached by
# seed; the same seed gives the same files wherever the cache is): $SITING_CACHE
# (`make zhongmu SITING_CACHE=DIR`), else $XDG_CACHE_HOME/siting, else ~/.cache/siting
$(COUNTIES): $(STAMP)
	$(BIN)/siting run models/$@.toml --generate
	@echo "outputs: maps/$@/"

city: $(STAMP)
	$(BIN)/siting city models/city.toml --generate
	@echo "outputs: maps/city/ and maps/<county>/"

# every county × variant a task on a LocalCluster (one worker per core); see the README
sweep: $(STAMP)
	$(BIN)/siting sweep models/sweep-village-radius.toml --generate
	@echo "outputs: maps/sweep-village-radius/report/ and maps/sweep-village-radius/<variant>/"

generate: $(STAMP)
	$(BIN)/siting generate all

# what CI runs: style, types, the import layers, then the tests
check: $(STAMP)
	$(BIN)/ruff check siting tests bench
	$(BIN)/mypy siting
	$(BIN)/lint-imports

test: check browser
	$(BIN)/python -m pytest -q

# tests/test_browser.py opens map.html and report.html in headless Chromium (Debian's, driven
# over the DevTools pipe) and docs/screenshot.py needs a CJK font: install them when missing,
# as root or with sudo (CI is a fresh Debian machine running as root). Without either, the
# browser tests skip and say why. tests/test_workbook.py converts plan.xlsx to PDF with
# LibreOffice headless (libreoffice-calc-nogui) and reads it back with pdftotext (poppler-utils).
# tests/test_gpkg_qgis.py opens sites.gpkg in PyQGIS (python3-qgis, for /usr/bin/python3) and
# tests/test_gpkg.py reads it with the system's GDAL 3.6 (ogrinfo, gdal-bin).
QGIS_PACKAGES := python3-qgis gdal-bin
BROWSER_PACKAGES := chromium chromium-driver fonts-wqy-zenhei libreoffice-calc-nogui poppler-utils \
                    $(QGIS_PACKAGES)
browser:
	@if ! command -v chromium >/dev/null 2>&1 || \
	    ! command -v libreoffice >/dev/null 2>&1 || ! command -v pdftotext >/dev/null 2>&1 || \
	    ! command -v ogrinfo >/dev/null 2>&1 || [ ! -d /usr/lib/python3/dist-packages/qgis ] || \
	    [ ! -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ]; then \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; \
	  elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; \
	  else echo "browser tests will skip: no chromium, and neither root nor sudo to install it"; \
	    exit 0; fi; \
	  echo "installing $(BROWSER_PACKAGES)"; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends \
	    $(BROWSER_PACKAGES); \
	fi

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/distances.py zhongmu

clean:
	rm -rf maps/*/ .pytest_cache
