# Each target does its own set-up: a virtual environment in $(VENV) with a CPU build of torch
# (override TORCH, or TORCH_INDEX_URL to take torch from another index) and snnlit[dev].
PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
TORCH_INDEX_URL ?=
BIN := $(VENV)/bin
READY := $(VENV)/.snnlit-ready

.PHONY: setup demo test export clean-nbs readme bench

setup: $(READY)

$(READY): settings.ini setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL)) "$(TORCH)"
	$(BIN)/python -m pip install -e ".[dev]"
	touch $@

demo: $(READY)
	$(BIN)/python -m snnlit.demo

# every notebook (cuda-flagged cells only where CUDA exists), every test in tests/, and the
# checks that the exported package, the README and the cleaned notebooks are in sync
test: $(READY)
	MPLBACKEND=Agg $(BIN)/python -m pytest

export: $(READY)
	$(BIN)/nbdev_export
	$(BIN)/nbdev_clean
	$(BIN)/python tools/readme.py

readme: $(READY)
	$(BIN)/python tools/readme.py

bench: $(READY)
	$(BIN)/python bench/surrogate.py
