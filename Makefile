# lc-archive developer commands. Everything runs in ./.venv, created on first use with a Python >= 3.12
# found by scripts/find-python.sh (this machine's python3 is 3.11; pyenv has 3.12 but not selected).
VENV     ?= .venv
PY       := $(VENV)/bin/python
STAMP    := $(VENV)/.installed
OUT      ?= out
PEER_DIR ?= $(abspath ../shared/peer)
# make bench: N = 200, 2,000, 10,000 (BENCH_FULL=1 adds 100,000); BENCH_N=1000 (or 500,5000) for a quick run.
comma := ,
BENCH_SIZES := $(if $(BENCH_N),$(BENCH_N),200,2000,10000$(if $(BENCH_FULL),$(comma)100000))

.PHONY: all venv lint test test-fast demo bench bench-site bench-import bench-openedx testdata peer clean

all: test

EXAMPLES := examples/lc-archive-tags examples/lc-archive-notes

# lc-archive itself, plus the two example plugins (separate distributions, used by the tests).
$(STAMP): pyproject.toml $(addsuffix /pyproject.toml,$(EXAMPLES))
	@test -x $(PY) || $$(scripts/find-python.sh) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]' $(addprefix -e ,$(EXAMPLES))
	@touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check lc_archive tests scripts testdata examples
	$(VENV)/bin/mypy --strict lc_archive
	$(VENV)/bin/lint-imports

test: lint
	$(VENV)/bin/pytest -q -n 2 --dist loadgroup

test-fast: $(STAMP)
	$(VENV)/bin/pytest -q -x -m "not slow and not peer"

# Restore the sample library into a fresh SQLite store, back it up, validate the backup, compare states.
demo: $(STAMP)
	@rm -rf $(OUT)/demo && mkdir -p $(OUT)/demo
	$(PY) scripts/demo.py --sample testdata/sample-library.zip --work $(OUT)/demo

bench: $(STAMP)
	$(PY) scripts/bench.py --sizes $(BENCH_SIZES) --seed 1 --out bench-out/report.json $(BENCH_ARGS)

# Site scale (issue 14): backup_all over 500 packages with 1 and 2 Celery workers, restore from S3,
# streamed export. Needs Redis (LC_ARCHIVE_REDIS_URL, default redis://127.0.0.1:6379/0); starts moto's S3.
BENCH_SITE_PACKAGES ?= 500
bench-site: $(STAMP)
	$(PY) scripts/bench_site.py --packages $(BENCH_SITE_PACKAGES) --components $(BENCH_N) --out bench-out/site.json

# Import into an existing package (issue 15): preview and import of a 10,000-component package whose archive
# changed 100 components, on SQLite (and PostgreSQL with LC_ARCHIVE_PG_URL); bench-out/import.json.
BENCH_IMPORT_N ?= 10000
bench-import: $(STAMP)
	$(PY) scripts/bench_import.py --components $(BENCH_IMPORT_N) --changed 100 --out bench-out/import.json

# The openedx-core adapter beside openedx-core's own backup on a `peer.py gen` library (10,000 components;
# BENCH_OPENEDX_N to change), SQLite and MariaDB (LC_ARCHIVE_MYSQL_URL). Needs the peer venv (make peer).
BENCH_OPENEDX_N ?= 10000
bench-openedx: $(STAMP)
	$(PY) scripts/bench_openedx.py --components $(BENCH_OPENEDX_N) --out bench-out/openedx.json $(BENCH_ARGS)

testdata: $(STAMP)
	$(PY) testdata/build_sample.py

# The real openedx-core 1.15.2, for the compatibility tests (CI runs this too).
peer:
	bash $(PEER_DIR)/setup.sh

clean:
	rm -rf $(OUT) bench-out .pytest_cache .mypy_cache .ruff_cache
