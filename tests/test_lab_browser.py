"""`make lab` for real: the local JupyterLab, clicked through in headless Chromium.

The server starts the way `make lab` starts it (the Makefile's own recipe, on this test's Python
environment), on port 8080 or a free port if that is taken, with a token, in a scratch copy of the
notebooks (so nothing a run does touches the checkout). The same browser flow runs against the
Docker image in test_docker_image.py. Screenshot: test-artifacts/lab-local.png.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import browser_support as browser
import pytest
from docker_support import ARTIFACTS, REPO, free_port, in_ci

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def skip_or_fail(reason: str) -> None:
    if in_ci():
        pytest.fail(f"{reason} (CI must run this test)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def local_lab(tmp_path_factory):
    """`make lab` on a free port with a token; yields (base_url, token, log path)."""
    try:
        browser.check_browser()
    except browser.BrowserUnavailable as error:
        skip_or_fail(str(error))
    jupyter = Path(sys.prefix) / "bin" / "jupyter"
    if not jupyter.exists():
        skip_or_fail(f"no jupyter in {sys.prefix} (make setup)")
    workdir = tmp_path_factory.mktemp("lab")
    for notebook in ("explore.ipynb", "train.ipynb"):
        shutil.copy(REPO / notebook, workdir / notebook)
    port = free_port(8080)
    token = secrets.token_hex(16)
    env = dict(
        os.environ,
        JUPYTER_TOKEN=token,
        FASHION_HOME=str(workdir),
        JUPYTERLAB_SETTINGS_DIR=str(workdir / ".lab-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(workdir / ".lab-workspaces"),
    )
    if shutil.which("make"):
        # The Makefile's recipe, with `setup` taken as done (-o) and this environment as the venv.
        stamp = Path(sys.prefix) / ".installed"
        command = [
            "make",
            "--no-print-directory",
            "-C",
            str(REPO),
            "-o",
            str(stamp),
            "lab",
            f"VENV={sys.prefix}",
            f"LAB_PORT={port}",
            f"LAB_DIR={workdir}",
        ]
    else:
        command = [
            str(jupyter),
            "lab",
            "--ip=127.0.0.1",
            f"--port={port}",
            "--no-browser",
            f"--ServerApp.root_dir={workdir}",
            "--MappingKernelManager.default_kernel_name=fashion-mnist",
            *(["--allow-root"] if os.geteuid() == 0 else []),
        ]
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / "lab-local.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        browser.wait_for_server(base_url, timeout=120, alive=lambda: process.poll() is None)
        yield base_url, token, log_path
    finally:
        # Stop what we started: the process group of our make (jupyter and its kernels).
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def test_local_lab_requires_the_token(local_lab):
    base_url, token, _ = local_lab
    seen = browser.check_token_required(base_url, token)
    assert {"explore.ipynb", "train.ipynb"} <= seen["files"]
    assert seen["kernelspecs"]["default"] == "fashion-mnist"
    assert "fashion-mnist" in seen["kernelspecs"]["kernelspecs"]
    # The image's settings (docker/overrides.json): no "official Jupyter news" question, no update check.
    assert browser.notification_defaults(base_url, token) == {"fetchNews": "false", "checkForUpdates": False}


def test_local_lab_in_browser(local_lab):
    base_url, token, _ = local_lab
    run = browser.lab_click_through(base_url, token, ARTIFACTS / "lab-local.png")
    print(f"local lab: kernel {run.kernel_name!r}, prompts {run.prompts}, {run.seconds}")
    assert run.kernel_name == browser.KERNEL_DISPLAY_NAME
    assert "fashion_lib" in run.probe_output and "__init__.py" in run.probe_output
    assert "[1]:" in run.prompts, f"no cell ran: {run.prompts}"
    assert not run.errors, f"cells failed: {run.errors}"
