# Everyday verbs. `make run` sets everything up and runs the main job; `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
KERNEL := fashion-mnist
STAMP := $(VENV)/.installed

.PHONY: setup run data train test test-fast lab notebooks bench lint lock clean docker-build

setup: $(STAMP)  ## create the virtual environment with the pinned requirements

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (fashion-mnist)" >/dev/null
	touch $(STAMP)

run: setup  ## the main job: data package, training, evaluation, model package
	$(BIN)/fashion run

data: setup  ## only get, convert, validate and publish the data package
	$(BIN)/fashion data prepare

test: setup  ## the whole test suite (what CI runs)
	$(BIN)/python -m pytest

test-fast: setup  ## skip the slow tests (docker, notebooks, real training)
	$(BIN)/python -m pytest -m "not slow"

LAB_PORT ?= 8080
LAB_DIR ?= $(CURDIR)
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root)
lab: setup  ## JupyterLab on http://localhost:8080 from the local environment (login URL with token in the log; JUPYTER_TOKEN=... to choose it)
	$(BIN)/jupyter lab --ip=127.0.0.1 --port=$(LAB_PORT) --no-browser --ServerApp.root_dir=$(LAB_DIR) --MappingKernelManager.default_kernel_name=$(KERNEL) $(LAB_ARGS)

notebooks: setup  ## rerun both notebooks end to end with full defaults; replace them only on success
	mkdir -p out
	$(BIN)/papermill -k $(KERNEL) explore.ipynb out/explore.ipynb
	$(BIN)/papermill -k $(KERNEL) train.ipynb out/train.ipynb
	mv out/explore.ipynb explore.ipynb
	mv out/train.ipynb train.ipynb

bench: setup  ## benchmark scripts: each prints our figure next to a baseline measured in the same run
	$(BIN)/python benchmarks/csv_load_bench.py
	$(BIN)/python benchmarks/registry_bench.py
	$(BIN)/python benchmarks/quality_bench.py
	$(BIN)/python benchmarks/train_bench.py

lint: setup  ## hadolint on the Dockerfile
	$(BIN)/hadolint Dockerfile

IMAGE ?= fashion-mnist
docker-build:  ## build the JupyterLab image (docker run -p 8080:8080 $(IMAGE); the login URL is in `docker logs`)
	docker build --build-arg GIT_COMMIT=$$(git rev-parse HEAD 2>/dev/null) -t $(IMAGE) .

lock:  ## regenerate requirements.txt from requirements.in in a scratch venv
	rm -rf /tmp/fashion-lock && $(PYTHON) -m venv /tmp/fashion-lock
	/tmp/fashion-lock/bin/pip install --quiet -r requirements.in
	{ echo "# Full pinned runtime environment (python 3.11). Regenerate with 'make lock' from requirements.in."; /tmp/fashion-lock/bin/pip freeze; } > requirements.txt

clean:  ## remove outputs and caches (keeps data and the registry)
	rm -rf outputs out .pytest_cache build *.egg-info
