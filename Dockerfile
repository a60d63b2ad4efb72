# The environment: JupyterLab on port 8080 with both notebooks, the project's kernel and fashion_lib.
#   docker build -t fashion-mnist .
#   docker run -p 127.0.0.1:8080:8080 -v fashion-data:/data fashion-mnist   # login URL in `docker logs`
# Batch: docker run --rm -v fashion-data:/data fashion-mnist papermill train.ipynb /data/outputs/train-out.ipynb -p preset quick
# GPU variant (NVIDIA libraries from PyPI; run with --gpus all):
#   docker build --build-arg REQUIREMENTS=docker/requirements-gpu.txt -t fashion-mnist:gpu .

# Base pinned by tag (Python 3.11, Debian bookworm). For bit-for-bit rebuilds pin the digest too:
#   docker pull python:3.11-slim-bookworm
#   docker image inspect --format '{{index .RepoDigests 0}}' python:3.11-slim-bookworm
# and write the printed name here: FROM python:3.11-slim-bookworm@sha256:<digest>
FROM python:3.11-slim-bookworm

# The image's lock: requirements.txt with tensorflow-cpu (x86_64) for TensorFlow; `make lock` writes it.
ARG REQUIREMENTS=docker/requirements-cpu.txt

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    FASHION_HOME=/data

# tini as PID 1: forwards signals (a quick `docker stop`) and reaps processes orphaned by kernels.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini=0.19.0-* \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin

# Dependencies first, in their own layer (a code change or another user does not reinstall
# TensorFlow), hash-checked. Dropped: TensorFlow's C++ headers (tensorflow/include, ~430 MB; only
# for custom-op builds) and the test suites of pandas, numpy and matplotlib (~65 MB).
# The kernel the notebooks name, registered into the environment (like `make setup`).
COPY ${REQUIREMENTS} /tmp/requirements.txt
RUN pip install --no-cache-dir --require-hashes -r /tmp/requirements.txt \
 && site="$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" \
 && rm -rf /tmp/requirements.txt "$site/tensorflow/include" "$site/pandas/tests" "$site/matplotlib/tests" \
 && find "$site/numpy" -type d -name tests -prune -exec rm -rf {} + \
 && python -m ipykernel install --sys-prefix --name fashion-mnist --display-name "Python (fashion-mnist)"

# The user, as Jupyter's docker-stacks and Binder (repo2docker) pass it: NB_USER, NB_UID, NB_GID.
ARG NB_USER=fashion
ARG NB_UID=1000
ARG NB_GID=100
# The port JupyterLab listens on (jupyter_server reads JUPYTER_PORT), EXPOSEd and health-checked.
ARG JUPYTER_PORT=8080
ENV JUPYTER_PORT=${JUPYTER_PORT} \
    NB_USER=${NB_USER} \
    NB_UID=${NB_UID} \
    NB_GID=${NB_GID} \
    USER=${NB_USER} \
    HOME=/home/${NB_USER}

# Non-root user; /data/outputs exists so a fresh volume takes batch outputs as it is.
# Bind-mounted folders must be writable by NB_UID, or run with --user "$(id -u):$(id -g)".
RUN if ! getent group "$NB_GID" >/dev/null; then groupadd --gid "$NB_GID" "$NB_USER"; fi \
 && useradd --create-home --uid "$NB_UID" --gid "$NB_GID" --no-log-init --shell /bin/bash "$NB_USER" \
 && mkdir -p /data/outputs "/home/$NB_USER/fashion-mnist" \
 && chown -R "$NB_UID:$NB_GID" /data "/home/$NB_USER/fashion-mnist"

COPY docker/entrypoint.sh /usr/local/bin/fashion-entrypoint
COPY docker/healthcheck.py /usr/local/bin/fashion-healthcheck
# JupyterLab defaults for the image (and `make lab`): no news or update checks (no popup; often offline).
COPY docker/overrides.json /usr/local/share/jupyter/lab/settings/overrides.json

# The project: notebooks and library in the folder JupyterLab opens; fashion_lib installed (not
# editable) with its console script, and no build debris (build/, *.egg-info) left behind.
WORKDIR /home/${NB_USER}/fashion-mnist
COPY --chown=${NB_UID}:${NB_GID} pyproject.toml README.md ./
COPY --chown=${NB_UID}:${NB_GID} fashion_lib/ fashion_lib/
RUN pip install --no-cache-dir --no-deps --no-build-isolation . \
 && rm -rf build ./*.egg-info
COPY --chown=${NB_UID}:${NB_GID} *.ipynb requirements.txt ./
# The README's pictures and the documents it links to, so README.md reads whole in JupyterLab.
COPY --chown=${NB_UID}:${NB_GID} docs/ docs/
# Lineage: models trained in the image record this commit (there is no .git inside).
ARG GIT_COMMIT=""
ENV FASHION_GIT_COMMIT=${GIT_COMMIT}

USER ${NB_UID}
# The embedded registry, data and outputs ($FASHION_HOME): mount a volume here so packages survive.
VOLUME ["/data"]
EXPOSE ${JUPYTER_PORT}
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 CMD ["fashion-healthcheck"]
ENTRYPOINT ["tini", "--", "fashion-entrypoint"]
# Token auth stays on: random (printed in the log), or read from /run/secrets/jupyter_token
# (JUPYTER_TOKEN_FILE) by the entry point, or JUPYTER_TOKEN.
CMD ["jupyter", "lab", "--ip=0.0.0.0", "--no-browser", \
     "--ServerApp.root_dir=.", \
     "--MappingKernelManager.default_kernel_name=fashion-mnist"]
