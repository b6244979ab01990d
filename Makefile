# jupyter_ml_ship — the two quick-start commands are `make lab` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.ml-ship-installed
PORT ?= 8888
# containers and CI machines often run as root; JupyterLab refuses that unless told
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)
# tools called by tools (jupyter-builder, jlpm, node) come from the venv
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: setup lab test test-python test-ui test-js lint bench clean

## setup: virtualenv with the project (editable), its lab extension and test tools
setup: $(STAMP)

$(STAMP): pyproject.toml package.json yarn.lock
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check uv
	$(VENV)/bin/uv pip install --python $(PY) --compile-bytecode -e ".[test]"
	$(VENV)/bin/jupyter labextension develop --overwrite . >/dev/null
	@touch $@

## lab: JupyterLab with the extension, opened on the example notebooks (local backend, SQLite)
lab: setup
	$(VENV)/bin/jupyter lab --notebook-dir=examples --ServerApp.ip=127.0.0.1 --ServerApp.port=$(PORT) --LabApp.news_url=None $(ALLOW_ROOT)

## test: every test (starts Docker, Airflow and Chromium where this machine can)
test: setup
	scripts/test.sh

test-python: setup
	$(PY) -m pytest tests/python -q

lint: setup
	$(VENV)/bin/ruff check jupyter_ml_ship tests bench
	$(VENV)/bin/mypy jupyter_ml_ship
	$(VENV)/bin/lint-imports

## bench: the benchmarks (not part of the tests); figures go to stdout
bench: setup
	$(PY) bench/bench_run.py
	$(PY) bench/bench_faces.py
	$(PY) bench/bench_ship.py
	$(PY) bench/bench_server.py
	$(PY) bench/bench_pipeline.py
	$(PY) bench/bench_project.py
	$(PY) bench/bench_remote.py
	$(PY) bench/bench_agent.py
	$(PY) bench/bench_history.py
	$(PY) bench/bench_envs.py
	$(PY) bench/bench_triggers.py
	scripts/postgres-up.sh && $(PY) bench/bench_team.py
	scripts/docker-up.sh && $(PY) bench/bench_docker.py
	scripts/airflow-up.sh && $(PY) bench/bench_airflow.py
	scripts/r-up.sh && $(PY) bench/bench_r.py
	scripts/spark-up.sh && $(PY) bench/bench_spark.py

clean:
	rm -rf $(VENV) node_modules lib jupyter_ml_ship/labextension
