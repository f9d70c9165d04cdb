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
APP    ?= apps
export PYTHONDONTWRITEBYTECODE := 1

# Stage number -> stage folder under stages/: STAGE_1 := 01_raw_wsgi, ...
# The list lives in workbook/stages.py only; any Python 3 prints it for us.
STAGE_LIST := $(shell $(PYTHON) workbook/stages.py make)
$(if $(STAGE_LIST),,$(error could not read the stage list: '$(PYTHON) workbook/stages.py make' failed))
$(foreach pair,$(STAGE_LIST),$(eval STAGE_$(firstword $(subst :, ,$(pair))) := $(lastword $(subst :, ,$(pair)))))
STAGES  := $(foreach pair,$(STAGE_LIST),$(firstword $(subst :, ,$(pair))))
BASE    := http://$(HOST):$(PORT)

# $(call stage_of,N,TARGET): stage N's folder, or stop with the valid stages.
# A pattern target (test-%, grade-%, ...) checks its N with this first, so
# `make test-7` or `make test-02_router` is an error, never the whole suite.
stage_of = $(if $(filter $(1),$(STAGES)),$(STAGE_$(1)),$(error unknown stage '$(1)' in 'make $(2)-$(1)': \
  the stages are $(foreach n,$(STAGES),$(n) ($(STAGE_$(n)))), e.g. make $(2)-2))
# $(call stage_number,N,TARGET): N itself, once checked the same way.
stage_number = $(if $(call stage_of,$(1),$(2)),$(1))

.DEFAULT_GOAL := help
# test-N, trace-N, exercise-N and grade-N are pattern rules: they must stay
# off .PHONY, because make never applies a pattern rule to a phony target.
.PHONY: help setup test lint notebooks lab bench bench-quick grade progress clean \
        clean-workspace $(addprefix stage-,$(STAGES))

help: ## List every target
	@echo "Usage: make <target>   (variables: PORT=$(PORT) HOST=$(HOST) SERVER=own|uvicorn APP=apps|example RESET=1 FORCE=1 CONFIRM=1)"
	@echo
	@grep -hE '^[a-zA-Z0-9_%-]+:.*## ' $(MAKEFILE_LIST) | \
	    awk -F':.*## ' '{ sub("%", "N", $$1); printf "  %-16s %s\n", $$1, $$2 }'

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test,notebooks,bench,beside]'
	@# Stages 02-04 import the stages before them: put 01-04 on the venv's path.
	@# The .pth holds this checkout's absolute paths: it pins the venv to it.
	$(PY) workbook/stages.py pth
	@# Trusted bytecode for every stage's grading run (workbook/grader/bytecode.py):
	@# written by this process, never by a graded child, so the first grade is warm.
	$(PY) -m workbook.grader.bytecode
	@touch $@

setup: $(STAMP) ## Create .venv and install everything (the other targets do this on first use)
	@$(PY) -m workbook.grader.bytecode

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

stage-4: $(STAMP) ## Stage 04: raw ASGI apps on the asyncio server (APP=example: router + middleware; SERVER=uvicorn)
	$(if $(filter $(APP),apps example),,$(error unknown APP '$(APP)' for stage 4: use APP=apps (the raw apps) or APP=example (router + middleware)))
	$(call banner,04,$(if $(filter example,$(APP)),curl -i $(BASE)/hello/ada,curl -i $(BASE)/echo -d 'hello'   (WebSocket echo at ws://$(HOST):$(PORT)/ws)))
ifeq ($(SERVER),uvicorn)
	@cd stages/$(STAGE_4) && ../../$(VENV)/bin/uvicorn rawasgi.$(APP):app --host $(HOST) --port $(PORT)
else
	@cd stages/$(STAGE_4) && ../../$(PY) -m rawasgi.server rawasgi.$(APP):app --host $(HOST) --port $(PORT)
endif

stage-5: $(STAMP) ## Stage 05: bare's example app under uvicorn (APP=site: the example site)
ifeq ($(APP),site)
	$(call banner,05,open $(BASE)/ in a browser and sign in as ada / lovelace)
	@cd stages/$(STAGE_5) && ../../$(VENV)/bin/uvicorn site_app:app --host $(HOST) --port $(PORT)
else
	$(call banner,05,curl -X POST $(BASE)/tasks -H 'Content-Type: application/json' -d '{\"title\": \"Built with bare\"}')
	@cd stages/$(STAGE_5) && ../../$(VENV)/bin/uvicorn example_app:app --host $(HOST) --port $(PORT)
endif

stage-6: $(STAMP) ## Stage 06: roob's product API under gunicorn (RESET=1 starts from the seed data)
ifdef RESET
	rm -f stages/$(STAGE_6)/products.db stages/$(STAGE_6)/products.db-wal stages/$(STAGE_6)/products.db-shm
endif
	$(call banner,06,curl $(BASE)/api/products)
	@cd stages/$(STAGE_6) && ../../$(VENV)/bin/gunicorn --bind $(HOST):$(PORT) core.main:app

stage-%: # any other stage-N: an error that lists the stages
	$(call stage_of,$*,stage)

# ── Test, trace, grade ───────────────────────────────────────────────────────

# `make lint` comes first, so a type error or an unformatted file fails the
# test run (and CI) before the suite starts.
test: lint ## Run make lint, then every test: stages, tracer, notebooks, grader guards, bench-quick
	$(PY) -m pytest

test-%: $(STAMP) ## test-N: run stage N's suite only (e.g. make test-2)
	$(PY) -m pytest tests/$(call stage_of,$*,test)

# Every check runs, even after one fails, so one run lists every problem.
lint: $(STAMP) ## ruff check, ruff format --check, mypy --strict over stages/ and workbook/
	@status=0; \
	for check in "ruff check ." "ruff format --check ." "mypy"; do \
	    echo "$(VENV)/bin/$$check"; $(VENV)/bin/$$check || status=1; \
	done; \
	exit $$status

trace-%: $(STAMP) ## trace-N: trace one request through stage N's layers (BESIDE=1: beside its production twin)
	$(PY) -m workbook trace $(call stage_number,$*,trace) $(if $(BESIDE),--beside)

notebooks: $(STAMP) ## Re-execute every notebook in place (outputs are committed)
	$(PY) -m workbook notebooks

lab: $(STAMP) ## Open JupyterLab on the notebooks
	$(VENV)/bin/jupyter lab notebooks/

exercise-%: $(STAMP) ## exercise-N: write stage N's starter to workspace/ (FORCE=1 overwrites)
	$(PY) -m workbook exercise $(call stage_number,$*,exercise) $(if $(FORCE),--force)

grade-%: $(STAMP) ## grade-N: grade your workspace copy of stage N
	$(PY) -m workbook grade $(call stage_number,$*,grade)

grade: $(STAMP) ## Grade every stage you have started in workspace/
	$(PY) -m workbook grade --all

watch-%: $(STAMP) ## watch-N: re-grade your copy of stage N on every save (Ctrl-C quits)
	$(PY) -m workbook watch $(call stage_number,$*,watch)

progress: $(STAMP) ## The course map: each exercise's state from your latest grades
	$(PY) -m workbook progress

# ── Benchmarks ───────────────────────────────────────────────────────────────

bench: $(STAMP) ## Benchmark every stage beside its peers (needs wrk); writes bench/results/
	$(PY) -m workbook bench

bench-quick: $(STAMP) ## Every benchmark scenario once, tiny durations (part of make test)
	$(PY) -m workbook bench --quick

clean: ## Remove .venv, caches, build files and stage 06's database (keeps workspace/)
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache *.egg-info
	rm -f stages/$(STAGE_6)/products.db stages/$(STAGE_6)/products.db-wal stages/$(STAGE_6)/products.db-shm
	find . -path ./workspace -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

clean-workspace: ## Remove workspace/ (your solutions and backups): asks first, or CONFIRM=1
	@if [ ! -d workspace ]; then echo "There is no workspace/ to remove."; exit 0; fi; \
	if [ "$(CONFIRM)" != 1 ]; then \
	    printf 'Remove workspace/ with your solutions and workspace/.backup/? [y/N] '; \
	    answer=; read -r answer || true; \
	    case "$$answer" in [yY]|[yY][eE][sS]) ;; \
	        *) echo; echo "Kept workspace/ (CONFIRM=1 removes it without asking)."; exit 1;; esac; \
	fi; \
	rm -rf workspace && echo "Removed workspace/."
