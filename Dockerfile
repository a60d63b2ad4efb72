# The environment: JupyterLab on port 8080 with both notebooks, the project's kernel and fashion_lib.
#   docker build -t fashion-mnist .
#   docker run -p 8080:8080 -v fashion-data:/data fashion-mnist      # then open the URL in `docker logs`
# Batch: docker run --rm -v fashion-data:/data fashion-mnist papermill train.ipynb /data/outputs/train-out.ipynb -p preset quick

# Base pinned by tag (Python 3.11, Debian bookworm). For bit-for-bit rebuilds pin the digest too:
#   docker pull python:3.11-slim-bookworm
#   docker image inspect --format '{{index .RepoDigests 0}}' python:3.11-slim-bookworm
# and write the printed name here: FROM python:3.11-slim-bookworm@sha256:<digest>
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    FASHION_HOME=/data

# Non-root user. Bind-mounted folders must be writable by uid 1000, or run with --user "$(id -u):$(id -g)".
ARG UID=1000
RUN useradd --create-home --uid "$UID" --user-group --shell /bin/bash fashion \
 && mkdir -p /data /home/fashion/fashion-mnist \
 && chown fashion:fashion /data /home/fashion/fashion-mnist

# Dependencies first, in their own layer: a code change does not reinstall TensorFlow.
# TensorFlow's C++ headers (tensorflow/include, ~430 MB) only serve custom-op builds: dropped.
# The kernel the notebooks name, registered into the environment (like `make setup`).
COPY requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir -r /tmp/requirements.txt \
 && rm -rf /tmp/requirements.txt "$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/tensorflow/include" \
 && python -m ipykernel install --sys-prefix --name fashion-mnist --display-name "Python (fashion-mnist)"

COPY docker/entrypoint.sh /usr/local/bin/fashion-entrypoint
COPY docker/healthcheck.py /usr/local/bin/fashion-healthcheck
# JupyterLab defaults for the image: no news or update checks (no popup; often offline).
COPY docker/overrides.json /usr/local/share/jupyter/lab/settings/overrides.json

# The project: notebooks and library in the folder JupyterLab opens; fashion_lib installed (not
# editable) with its console script, and no build debris (build/, *.egg-info) left behind.
WORKDIR /home/fashion/fashion-mnist
COPY --chown=fashion:fashion pyproject.toml README.md ./
COPY --chown=fashion:fashion fashion_lib/ fashion_lib/
RUN pip install --no-cache-dir --no-deps --no-build-isolation . \
 && rm -rf build ./*.egg-info
COPY --chown=fashion:fashion *.ipynb requirements.txt ./
# Lineage: models trained in the image record this commit (there is no .git inside).
ARG GIT_COMMIT=""
ENV FASHION_GIT_COMMIT=${GIT_COMMIT}

USER ${UID}
# The embedded registry, data and outputs ($FASHION_HOME): mount a volume here so packages survive.
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 CMD ["fashion-healthcheck"]
ENTRYPOINT ["fashion-entrypoint"]
# Token auth stays on: random (printed in the log) unless JUPYTER_TOKEN is set.
CMD ["jupyter", "lab", "--ip=0.0.0.0", "--port=8080", "--no-browser", \
     "--ServerApp.root_dir=/home/fashion/fashion-mnist", \
     "--MappingKernelManager.default_kernel_name=fashion-mnist"]
