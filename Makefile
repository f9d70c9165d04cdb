# Every entry point of the workbook. `make` (or `make help`) lists them.
# The first target that needs Python creates .venv and installs the project
# into it; the stamp file makes every later run instant.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000
SERVER ?= own
export PYTHONDONTWRITEBYTECODE := 1

# Stage number -> stage folder under stages/.
STAGE_1 := 01_raw_wsgi
STAGE_2 := 02_router
STAGE_3 := 03_middleware
STAGE_4 := 04_asgi
STAGE_5 := 05_bare
STAGE_6 := 06_roob
STAGES  := 1 2 3 4 5 6
BASE    := http://$(HOST):$(PORT)

.DEFAULT_GOAL := help
# test-N, trace-N, exercise-N and grade-N are pattern rules: they must stay
# off .PHONY, because make never applies a pattern rule to a phony target.
.PHONY: help setup test lint notebooks lab bench bench-quick grade clean \
        $(addprefix stage-,$(STAGES))

help: ## List every target
	@echo "Usage: make <target>   (variables: PORT=$(PORT) HOST=$(HOST) SERVER=own|uvicorn FORCE=1)"
	@echo
	@grep -hE '^[a-zA-Z0-9_%-]+:.*## ' $(MAKEFILE_LIST) | \
	    awk -F':.*## ' '{ sub("%", "N", $$1); printf "  %-14s %s\n", $$1, $$2 }'

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test,notebooks,bench,beside]'
	@# Stages 02-04 import the stages before them: put 01-04 on the venv's path.
	@$(PY) -c "import pathlib, sysconfig; root = pathlib.Path.cwd(); \
	  lines = [str(root / 'stages' / d) for d in ('01_raw_wsgi', '02_router', '03_middleware', '04_asgi')]; \
	  pathlib.Path(sysconfig.get_paths()['purelib'], 'wire_up_stages.pth').write_text('\n'.join(lines) + '\n')"
	@touch $@

setup: $(STAMP) ## Create .venv and install everything (the other targets do this on first use)

# ── Run a stage ──────────────────────────────────────────────────────────────

define banner
	@echo "Stage $(1) on $(BASE)/   (Ctrl-C stops it)"
	@echo "Try:   $(2)"
endef

stage-1: $(STAMP) ## Stage 01: the raw WSGI app on the hand-written socket server
	$(call banner,01,curl -i '$(BASE)/echo?name=wsgi' -d 'hello')
	@cd stages/$(STAGE_1) && ../../$(PY) -m rawwsgi.server rawwsgi.apps:app --host $(HOST) --port $(PORT)

stage-2: $(STAMP) ## Stage 02: the router's JSON API on stage 01's server
	$(call banner,02,curl -i $(BASE)/books)
	@cd stages/$(STAGE_2) && ../../$(PY) -m rawwsgi.server wsgirouter.example:app --host $(HOST) --port $(PORT)

stage-3: $(STAMP) ## Stage 03: the same API wrapped in the middleware onion
	$(call banner,03,curl -i -H 'Accept-Encoding: gzip' $(BASE)/books --compressed)
	@cd stages/$(STAGE_3) && ../../$(PY) -m rawwsgi.server onion.example:app --host $(HOST) --port $(PORT)

stage-4: $(STAMP) ## Stage 04: raw ASGI apps on the asyncio server (SERVER=uvicorn for uvicorn)
	$(call banner,04,curl -i $(BASE)/echo -d 'hello'   (WebSocket echo at ws://$(HOST):$(PORT)/ws))
ifeq ($(SERVER),uvicorn)
	@cd stages/$(STAGE_4) && ../../$(VENV)/bin/uvicorn rawasgi.apps:app --host $(HOST) --port $(PORT)
else
	@cd stages/$(STAGE_4) && ../../$(PY) -m rawasgi.server rawasgi.apps:app --host $(HOST) --port $(PORT)
endif

stage-5: $(STAMP) ## Stage 05: bare's example app under uvicorn (APP=site: the example site)
ifeq ($(APP),site)
	$(call banner,05,open $(BASE)/ in a browser and sign in as ada / lovelace)
	@cd stages/$(STAGE_5) && ../../$(VENV)/bin/uvicorn site_app:app --host $(HOST) --port $(PORT)
else
	$(call banner,05,curl -X POST $(BASE)/tasks -H 'Content-Type: application/json' -d '{\"title\": \"Built with bare\"}')
	@cd stages/$(STAGE_5) && ../../$(VENV)/bin/uvicorn example_app:app --host $(HOST) --port $(PORT)
endif

stage-6: $(STAMP) ## Stage 06: roob's product API under gunicorn
	$(call banner,06,curl $(BASE)/api/products)
	@cd stages/$(STAGE_6) && ../../$(VENV)/bin/gunicorn --bind $(HOST):$(PORT) core.main:app

# ── Test, trace, grade ───────────────────────────────────────────────────────

test: $(STAMP) ## Run every test: stages, tracer, notebooks, grader guards, bench-quick
	$(PY) -m pytest

test-%: $(STAMP) ## test-N: run stage N's suite only (e.g. make test-2)
	$(PY) -m pytest tests/$(STAGE_$*)

lint: $(STAMP) ## Lint the whole repo with ruff
	$(VENV)/bin/ruff check .

trace-%: $(STAMP) ## trace-N: trace one request through stage N's layers (BESIDE=1: beside its production twin)
	$(PY) -m workbook trace $* $(if $(BESIDE),--beside)

notebooks: $(STAMP) ## Re-execute every notebook in place (outputs are committed)
	$(PY) -m workbook notebooks

lab: $(STAMP) ## Open JupyterLab on the notebooks
	$(VENV)/bin/jupyter lab notebooks/

exercise-%: $(STAMP) ## exercise-N: write stage N's starter to workspace/ (FORCE=1 overwrites)
	$(PY) -m workbook exercise $* $(if $(FORCE),--force)

grade-%: $(STAMP) ## grade-N: grade your workspace copy of stage N
	$(PY) -m workbook grade $*

grade: $(STAMP) ## Grade every stage you have started in workspace/
	$(PY) -m workbook grade --all

# ── Benchmarks ───────────────────────────────────────────────────────────────

bench: $(STAMP) ## Benchmark every stage beside its peers (needs wrk); writes bench/results/
	$(PY) -m workbook bench

bench-quick: $(STAMP) ## Every benchmark scenario once, tiny durations (part of make test)
	$(PY) -m workbook bench --quick

clean: ## Remove .venv, the workspace and caches
	rm -rf $(VENV) workspace .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
