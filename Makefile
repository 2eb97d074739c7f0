# The README's two commands: `make preview` (offline preview of a stack) and `make test`.
# Both set themselves up on a machine with only python3 and make: uv comes from PyPI when missing.
SHELL := /bin/bash
STACK ?= all
CONFIG ?=
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON ?= python3

UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
RUN := $(UV) run --frozen --no-sync

.PHONY: setup preview diff snapshot compare-snapshot test lint typecheck pytest clean nginx promtool

# pip --target puts the wheel's uv binary in .tools/lib/bin (where uv/_find_uv.py looks: "Adjacent to the
# package root"); the wrapper execs it directly: `python3 -m uv` started a Python (here behind a pyenv
# shim) before every `uv run`, ~0.6 s of each `make preview`.
.tools/lib/bin/uv:
	python3 -m pip install --quiet --target .tools/lib uv
.tools/bin/uv: .tools/lib/bin/uv Makefile
	mkdir -p .tools/bin && printf '#!/bin/sh\nexec %s/.tools/lib/bin/uv "$$@"\n' "$(CURDIR)" > $@ && chmod +x $@

.venv/.synced: pyproject.toml uv.lock Makefile | $(UV)
	# Bytecode compiled once here: the provider SDKs are ~10 MB of Python, and a preview that
	# recompiles them (no __pycache__, e.g. PYTHONDONTWRITEBYTECODE) spends seconds on it.
	$(UV) sync --frozen --compile-bytecode
	touch $@

# checkov lives in its own locked environment (see tools/checkov/pyproject.toml).
.tools/checkov/.synced: tools/checkov/pyproject.toml tools/checkov/uv.lock | $(UV)
	UV_PROJECT_ENVIRONMENT=$(CURDIR)/.tools/checkov $(UV) sync --frozen --compile-bytecode --project tools/checkov
	touch $@

# The program's own modules compiled too (only those changed since): with PYTHONDONTWRITEBYTECODE set,
# Python would otherwise compile ~90 of them from source on every preview (~0.2 s).
SOURCES := $(shell find components stacks tools policy -name '*.py' -not -path '*/__pycache__/*' 2>/dev/null)
build/.bytecode: $(SOURCES) | .venv/.synced
	@$(RUN) python -m compileall -q $? >/dev/null
	@mkdir -p build && touch $@

setup: .venv/.synced .tools/checkov/.synced build/.bytecode

preview: setup
	$(RUN) python -m tools.preview --stack $(STACK) $(if $(CONFIG),--config $(CONFIG))

# What a changed config would do to the running stack: make diff STACK=doks CONFIG=new.yaml
diff: setup
	$(RUN) python -m tools.diff --stack $(STACK) $(if $(CONFIG),--config $(CONFIG))

# Refactors keep behaviour: `make snapshot` before, `make compare-snapshot` after each step
# (exit 1 with a diff of every preview file that changed). See tools/snapshot.py.
SNAPSHOT ?= build/snapshot
snapshot: setup
	$(RUN) python -m tools.snapshot save $(SNAPSHOT)
compare-snapshot: setup
	$(RUN) python -m tools.snapshot compare $(SNAPSHOT)

lint: setup
	$(RUN) ruff check components stacks tools tests policy
	$(RUN) ruff format --check components stacks tools tests policy

typecheck: setup
	$(RUN) pyright

# tests/test_entry_point.py runs the entry point's nginx for real: the Debian package, installed when missing.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
nginx:
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends nginx; }

# tests/test_promtool.py checks every generated PrometheusRule with promtool: the one binary taken out of
# Debian's `prometheus` package (apt-get download + dpkg-deb -x: no Prometheus server installed or started).
PROMTOOL := .tools/prometheus/usr/bin/promtool
promtool: $(PROMTOOL)
$(PROMTOOL):
	mkdir -p .tools/deb
	cd .tools/deb && { apt-get download -qq prometheus 2>/dev/null || { $(SUDO) apt-get update -qq && apt-get download -qq prometheus; }; }
	dpkg-deb -x "$$(ls .tools/deb/prometheus_*.deb | head -1)" .tools/prometheus
	rm -f .tools/prometheus/usr/bin/prometheus
	test -x $@

# pyright (one core, ~60 s of CPU: it parses the provider SDKs) runs beside the tests (pytest -n 2)
# instead of before them: on 2 cores that keeps `make test` near its CPU time / 2.
test: setup lint nginx promtool
	$(MAKE) --no-print-directory -j2 typecheck pytest

# PYTHONDONTWRITEBYTECODE emptied for the tests only: when set, pytest re-rewrites the asserts of every
# test module in each worker on every run instead of reading its __pycache__
# (_pytest/assertion/rewrite.py writes it only when sys.dont_write_bytecode is off).
pytest: setup
	PYTHONDONTWRITEBYTECODE= $(RUN) pytest -n 2 --dist loadgroup

clean:
	rm -rf build .venv .tools
