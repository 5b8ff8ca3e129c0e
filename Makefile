# Each target does its own set-up: a virtual environment in $(VENV) with a CPU build of torch
# (override TORCH, or TORCH_INDEX_URL to take torch from another index), snnlit[dev], and the
# reference libraries the parity tests compare against (ORACLES=0 leaves them out; those tests
# then skip). The references are installed without their declared dependencies, which would
# replace the CPU torch with a multi-GB CUDA build; the few packages they import are added.
PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
TORCH_INDEX_URL ?=
ORACLES ?= 1
BIN := $(VENV)/bin
READY := $(VENV)/.snnlit-ready

.PHONY: setup demo test export readme bench

setup: $(READY)

$(READY): settings.ini setup.py Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL)) "$(TORCH)"
	$(BIN)/python -m pip install -e ".[dev]"
ifeq ($(ORACLES),1)
	$(BIN)/python -m pip install --no-deps spikingjelly==2.0.0 snntorch==1.0.0
	$(BIN)/python -m pip install loguru tqdm tensorboard
endif
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
	$(BIN)/python bench/run.py
