# The README's two commands: `make preview` (offline preview of a stack) and `make test`.
# Both set themselves up on a machine with only python3 and make: uv comes from PyPI when missing.
SHELL := /bin/bash
STACK ?= all
CONFIG ?=
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON ?= python3

UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
RUN := $(UV) run --frozen --no-sync

.PHONY: setup preview test lint typecheck clean

$(UV):
	python3 -m pip install --quiet --target .tools/lib uv
	mkdir -p .tools/bin && printf '#!/bin/sh\nPYTHONPATH=%s/.tools/lib exec python3 -m uv "$$@"\n' "$(CURDIR)" > .tools/bin/uv && chmod +x .tools/bin/uv

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	touch $@

setup: .venv/.synced

preview: setup
	$(RUN) python -m tools.preview --stack $(STACK) $(if $(CONFIG),--config $(CONFIG))

lint: setup
	$(RUN) ruff check components stacks tools tests policy
	$(RUN) ruff format --check components stacks tools tests policy

typecheck: setup
	$(RUN) pyright

test: setup lint typecheck
	$(RUN) pytest -n 2

clean:
	rm -rf build .venv .tools
