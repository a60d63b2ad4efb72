# Everyday verbs. `make run` sets everything up and runs the main job; `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
KERNEL := fashion-mnist
STAMP := $(VENV)/.installed

.PHONY: setup run data train test test-fast lab notebooks bench lint lock lock-check clean docker-build registry-server

setup: $(STAMP)  ## create the virtual environment with the pinned requirements

# Hash-checked: every package of both locks is pinned with its sha256 (pip's hash-checking mode).
# Debian's python3 needs `apt-get install python3-venv` first.
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements.txt -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (fashion-mnist)" >/dev/null
	touch $(STAMP)

run: setup  ## the main job: data package, training, evaluation, model package
	$(BIN)/fashion run

data: setup  ## only get, convert, validate and publish the data package
	$(BIN)/fashion data prepare

# pytest-xdist workers take whole test files (their module fixtures, trained models among them, are
# made once), the longest first (LONGEST_FIRST in tests/conftest.py). Three on two cores: while one
# waits on a Docker build, a container or a server, the other two keep both cores busy.
TEST_WORKERS ?= 3
XDIST = -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder
test: setup  ## the whole test suite (what CI runs), in parallel workers; lists the 15 slowest tests
	$(BIN)/python -m pytest $(XDIST) --durations=15

test-fast: setup  ## skip the slow tests (docker, notebooks, real training)
	$(BIN)/python -m pytest $(XDIST) -m "not slow"

# JUPYTER_PORT, as in the image, moves it too (a comment on the line itself would end the value in spaces)
LAB_PORT ?= $(or $(JUPYTER_PORT),8080)
LAB_DIR ?= $(CURDIR)
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root)
lab: setup  ## JupyterLab on http://localhost:8080 from the local environment (login URL with token in the log; JUPYTER_TOKEN=... to choose it)
	$(BIN)/jupyter lab --ip=127.0.0.1 --port=$(LAB_PORT) --no-browser --ServerApp.root_dir=$(LAB_DIR) --MappingKernelManager.default_kernel_name=$(KERNEL) $(LAB_ARGS) \
	  --LabApp.app_settings_dir=$(CURDIR)/docker  # docker/overrides.json: the image's settings (no news popup)

notebooks: setup  ## rerun both notebooks end to end with full defaults; replace them only on success (and the README's sample grid)
	mkdir -p out
	$(BIN)/papermill -k $(KERNEL) explore.ipynb out/explore.ipynb
	$(BIN)/papermill -k $(KERNEL) train.ipynb out/train.ipynb
	mv out/explore.ipynb explore.ipynb
	mv out/train.ipynb train.ipynb
	cp "$$($(BIN)/python -c 'from fashion_lib import settings; print(settings.output_dir() / "explore")')/sample_grid.png" docs/sample_grid.png  # the README's first picture

bench: setup  ## benchmark scripts: each prints our figure next to a baseline measured in the same run
	$(BIN)/python benchmarks/csv_load_bench.py
	$(BIN)/python benchmarks/import_bench.py
	$(BIN)/python benchmarks/registry_bench.py
	$(BIN)/python benchmarks/verify_bench.py
	$(BIN)/python benchmarks/gc_bench.py
	$(BIN)/python benchmarks/quality_bench.py
	$(BIN)/python benchmarks/train_bench.py

REGISTRY_PORT ?= 8333
registry-server: setup  ## a team registry to try: SeaweedFS S3 on 127.0.0.1:$(REGISTRY_PORT), data and keys in ./registry-server (under FASHION_HOME when set); prints the variables to export; Ctrl-C stops it
	$(BIN)/python -m fashion_lib.registry_server --port $(REGISTRY_PORT)

lint: setup  ## ruff (lint and format check; config in pyproject.toml) on the Python code, hadolint on the Dockerfile
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile

IMAGE ?= fashion-mnist
docker-build:  ## build the JupyterLab image (docker run -p 127.0.0.1:8080:8080 $(IMAGE); the login URL is in `docker logs`)
	docker build --build-arg GIT_COMMIT=$$(git rev-parse HEAD 2>/dev/null) -t $(IMAGE) .

# The lock: one universal resolution (uv) for CPython 3.11.2-3.13 on Linux x86_64/aarch64 and macOS
# arm64, every file's sha256; the dev tools get their own lock, constrained by the runtime one. The
# image's locks are the same set with TensorFlow swapped: tensorflow-cpu on x86_64 (no CUDA
# libraries to carry), tensorflow[and-cuda] for the GPU variant. uv reads PyPI, not pip's config.
UV := $(BIN)/uv
UV_COMPILE := $(UV) pip compile --quiet --no-config --universal --generate-hashes --python-version 3.11.2 \
	--custom-compile-command "make lock"
TF_CPU := s/^tensorflow==([^ ]+).*/tensorflow-cpu==\1 ; platform_machine == 'x86_64'\ntensorflow==\1 ; platform_machine != 'x86_64'/
TF_GPU := s/^tensorflow==([^ ]+).*/tensorflow[and-cuda]==\1/
lock: setup  ## regenerate the hashed, universal locks from requirements.in and requirements-dev.in
	$(UV_COMPILE) requirements.in -o requirements.txt
	$(UV_COMPILE) requirements-dev.in -o requirements-dev.txt
	sed -E "$(TF_CPU)" requirements.in | $(UV_COMPILE) -c requirements.txt - -o docker/requirements-cpu.txt
	sed -E "$(TF_GPU)" requirements.in | $(UV_COMPILE) -c requirements.txt - -o docker/requirements-gpu.txt

# Proves the locks install, hash-checked and from wheels only, on every supported target (uv resolves
# for that platform and Python without downloading a wheel): a missing wheel or hash fails here.
LOCK_PLATFORMS ?= x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu aarch64-apple-darwin
LOCK_PYTHONS ?= 3.11.2 3.12 3.13
LOCK_CHECK = printf 'lock-check: %-44s %-26s python %-7s ' "$(1)" "$(2)" "$(3)"; \
	out=$$($(UV) pip install --dry-run --quiet --no-config --require-hashes --no-build --python-platform $(2) \
	  --python-version $(3) --target "$${TMPDIR:-/tmp}/fashion-lock-check" $(foreach f,$(1),-r $(f)) 2>&1) \
	  && echo ok || { echo FAILED; echo "$$out"; exit 1; }
lock-check: setup  ## check that the locks install on every supported platform and Python (CI runs this)
	@for platform in $(LOCK_PLATFORMS); do for python in $(LOCK_PYTHONS); do \
	  $(call LOCK_CHECK,requirements.txt requirements-dev.txt,$$platform,$$python); done; done
	@for platform in x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu; do \
	  $(call LOCK_CHECK,docker/requirements-cpu.txt,$$platform,3.11); done
	@$(call LOCK_CHECK,docker/requirements-gpu.txt,x86_64-unknown-linux-gnu,3.11)

clean:  ## remove outputs and caches (keeps data and the registry)
	rm -rf outputs out .pytest_cache build *.egg-info
