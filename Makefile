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

.PHONY: setup demo test test-portable export readme bench

setup: $(READY)

$(READY): settings.ini setup.py Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL)) "$(TORCH)"
	$(BIN)/python -m pip install -e ".[dev,nir]"
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

# The numeric tests (notebooks included) once more on another CPU code path: MKL held to SSE4.2, ATen's generic
# kernels instead of AVX-512/AVX2, one thread. Users' CPUs pick other kernels than this machine does (Intel or
# AMD, AVX-512 or AVX2, MKL's per-vendor paths, any thread count), and a result that differs in the last bit
# between kernels is legitimate; a test that compares such results exactly is not, and fails here first.
# (inductor's cache key ignores ATEN_CPU_CAPABILITY: code and headers compiled for this machine's vector ISA in
# the first run would be reused and fail to build, so this run compiles into a cache of its own)
PORTABLE_ENV := MKL_ENABLE_INSTRUCTIONS=SSE4_2 ATEN_CPU_CAPABILITY=default OMP_NUM_THREADS=1 \
                TORCHINDUCTOR_CACHE_DIR=$(CURDIR)/_build/inductor-portable TORCHINDUCTOR_CPP_CACHE_PRECOMPILE_HEADERS=0
NOT_NUMERIC := tests/test_docs.py tests/test_lab.py tests/test_sync.py tests/test_wheel.py tests/test_triton_compile.py
test-portable: $(READY)
	$(PORTABLE_ENV) MPLBACKEND=Agg $(BIN)/python -m pytest $(addprefix --ignore=,$(NOT_NUMERIC))

export: $(READY)
	$(BIN)/nbdev_export
	$(BIN)/nbdev_clean
	$(BIN)/python tools/readme.py

readme: $(READY)
	$(BIN)/python tools/readme.py

# the sweeps of bench/*.py, each writing its rows to nbs/data/bench/<name>.csv (the notebooks' plots read them);
# `make bench BENCH_FLAGS=--quick` for a shorter run, `BENCH_FLAGS="--allocator both"` for both glibc settings
BENCH_FLAGS ?=
bench: $(READY)
	$(BIN)/python bench/run.py $(BENCH_FLAGS)

# ---- the documentation site, its browser check, and the release artefacts -------------------------------
# `make docs` builds _docs/ offline: the notebooks executed (reusing the copies `make test` saved), processed
# by nbdev (show_doc), rendered by Sphinx + MyST-NB (pinned in docs/requirements.txt, with MathJax from PyPI).
# `make docs-check` installs Chromium from Debian's packages and opens every page (tests/test_docs.py), and a
# tutorial in JupyterLab (tests/test_lab.py).
# `make wheel` writes the sdist and the wheel into dist/.
DOCS_READY := $(VENV)/.snnlit-docs-ready
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: docs docs-check wheel lab

# JupyterLab in the project's environment (snnlit installed editable, the reference libraries, the kernel), on
# the notebooks: the link under each page's title of the site points here
lab: $(READY)
	$(BIN)/jupyter lab --notebook-dir=nbs $(if $(filter 0,$(shell id -u)),--allow-root)

$(DOCS_READY): $(READY) docs/requirements.txt
	$(BIN)/python -m pip install -r docs/requirements.txt
	touch $@

# the docs and wheel tests in `make test` need the engine and `build` too
test: $(DOCS_READY)

docs: $(DOCS_READY)
	MPLBACKEND=Agg $(BIN)/python tools/docs.py

docs-check: $(DOCS_READY)
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  echo "installing chromium and chromium-driver (Debian packages)"; \
	  $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends chromium chromium-driver fonts-liberation fonts-dejavu-core; \
	fi
	MPLBACKEND=Agg $(BIN)/python -m pytest tests/test_docs.py tests/test_lab.py

wheel: $(DOCS_READY)
	rm -rf dist
	$(BIN)/python -m build --no-isolation --outdir dist .
