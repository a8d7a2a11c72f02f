# cad3d — one entry point for people and CI. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
TOOLS := .tools
UV := $(TOOLS)/bin/uv
UV_VERSION := 0.13.9
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy

.PHONY: help install install-node proto proto-check lint fmt test test-fast run models bench bench-api images config-docs clean render

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(UV):
	@command -v $(PYTHON) >/dev/null || { echo "cad3d needs $(PYTHON) on PATH"; exit 1; }
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(BIN)/python: $(UV) uv.lock pyproject.toml kit/pyproject.toml cli/pyproject.toml $(wildcard services/*/pyproject.toml)
	$(UV) sync --frozen --all-packages
	@touch $(BIN)/python

install: $(BIN)/python ## Install the workspace (all services, CLI, dev tools) from the lock file

node_modules/.bin/buf: package.json package-lock.json
	npm install --no-audit --no-fund --loglevel=error
	@touch $@

install-node: node_modules/.bin/buf ## Install the node tools (buf)

proto: install ## Generate Python stubs from proto/ into the kit
	./scripts/gen_proto.sh

proto-check: install install-node ## Fail on generated-code drift, buf lint findings or breaking changes against main
	./scripts/proto_check.sh

lint: install install-node ## ruff, mypy, buf lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy kit/src/cad3d_kit cli/src services/*/src bench tests scripts
	cd proto && ../node_modules/.bin/buf lint

fmt: install ## Format and auto-fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

models: install ## Generate the stand-in depth model (the real MiDaS file is installed by operators: docs/depth-models.md)
	$(BIN)/python -m cad3d_depth.models

test: install models ## Unit and integration tests (starts real servers on free ports)
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

test-fast: install ## Tests without the multi-server end-to-end ones
	$(BIN)/python -m pytest -q -m "not e2e and not slow"

run: install models ## Start the whole platform locally (Ctrl-C stops it)
	@$(BIN)/python scripts/local_stack.py prepare
	$(BIN)/honcho start -f Procfile -e var/local/stack.env

bench: install models ## Benchmarks; results go to docs/benchmarks.md
	@for script in bench/dxf/bench_dxf.py bench/pdf/bench_pdf.py bench/depth/bench_depth.py; do \
	  echo "== $$script"; $(BIN)/python $$script || exit 1; done

# Options of bench/api/bench_api.py, e.g. make bench-api BENCH_API_ARGS="--seconds 30 --users 8 --no-write"
BENCH_API_ARGS ?=
bench-api: install ## API load benchmark (locust) through the whole local stack (loopback, bounded in time)
	$(UV) sync --frozen --all-packages --group bench
	$(BIN)/python bench/api/bench_api.py $(BENCH_API_ARGS)

# Options of scripts/render_corpus.py, e.g. make render RENDER_ARGS="--only floorplan --timeout 120"
RENDER_ARGS ?=
render: install ## Convert the corpus and render drawing + model to PNG: open var/render/index.html
	$(BIN)/python scripts/render_corpus.py $(RENDER_ARGS)

images: ## Build the service images (needs a Docker engine)
	@docker info >/dev/null 2>&1 || { echo "no Docker engine reachable; images not built"; exit 1; }
	for svc in gateway dxf pdf depth; do docker build -f services/$$svc/Dockerfile -t cad3d-$$svc:dev . || exit 1; done

clean: ## Remove local state (artifacts, NATS data); keeps the virtualenv
	rm -rf var/local
