"""The state a run is made in: the code's commit, the environment's versions, the machine's CPU.

:mod:`fashion_lib.lineage` records these under ``code`` and ``environment``; ``fashion run``
compares them with a recorded lineage to decide whether training is needed, and ``fashion
reproduce`` to say what differs from the recorded run.
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from . import __version__, settings


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def code_state() -> dict[str, Any]:
    """The git commit of the code and whether the working tree had uncommitted changes."""
    root = settings.project_root()
    commit = _git(root, "rev-parse", "HEAD") if root else None
    dirty = None
    if commit:
        status = _git(root, "status", "--porcelain", "--untracked-files=no")
        dirty = bool(status) if status is not None else None
    else:
        commit = os.environ.get("FASHION_GIT_COMMIT") or None
    return {"commit": commit, "dirty": dirty, "version": __version__}


def requirements_file() -> Path | None:
    for folder in filter(None, (settings.project_root(), Path.cwd())):
        if (folder / "requirements.txt").is_file():
            return folder / "requirements.txt"
    return None


# Distributions that install the ``tensorflow`` module, the most specific first.
TENSORFLOW_DISTRIBUTIONS = (
    "tensorflow-cpu",
    "tensorflow-macos",
    "tensorflow-intel",
    "tensorflow-aarch64",
    "tensorflow",
)


def tensorflow_distribution() -> str | None:
    """The installed distribution that provides TensorFlow (``tensorflow-cpu`` in the image)."""
    for name in TENSORFLOW_DISTRIBUTIONS:
        try:
            metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
        return name
    return None


def environment_state() -> dict[str, Any]:
    """Versions of what ran the training and the hash of the pinned requirements."""
    req = requirements_file()

    def version(dist: str) -> str | None:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    return {
        "requirements_sha256": hashlib.sha256(req.read_bytes()).hexdigest() if req else None,
        "python": platform.python_version(),
        "tensorflow": version(tensorflow_distribution() or "tensorflow"),
        "tensorflow_distribution": tensorflow_distribution(),
        "keras": version("keras"),
        "numpy": version("numpy"),
        "platform": platform.platform(),
        "cpu": cpu_description(),
    }


# Settings that change which kernels run, or how a sum is split across threads, when they are set.
KERNEL_SETTINGS = ("TF_ENABLE_ONEDNN_OPTS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")


def cpu_description() -> str:
    """The CPU model and the cores this process may use, what oneDNN picks its kernels (and so the
    order of floating-point sums) by, and the :data:`KERNEL_SETTINGS` that are set: e.g.
    ``"AMD EPYC, 2 cores"`` or ``"AMD EPYC, 2 cores, TF_NUM_INTRAOP_THREADS=1"``."""
    model = platform.processor() or platform.machine() or "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            model = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), model)
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    settings = [f"{key}={os.environ[key]}" for key in KERNEL_SETTINGS if os.environ.get(key)]
    return ", ".join([model, f"{cores} cores", *settings])


def record(quality: dict[str, Any] | None) -> dict[str, Any]:
    """What a run records when its training starts (``provenance.json``): the code, the environment and
    machine, and the data's quality verdict (``quality.gate.quality_summary``'s shape: the version's stored
    one, else the one ``prepare_run`` computed checking it; None if it was never checked).
    Publishing reads these back, so the lineage says how the model was made, wherever it is published."""
    return {"code": code_state(), "environment": environment_state(), "data_quality": quality}


def differences(recorded: dict[str, Any]) -> list[str]:
    """The recorded code and environment fields that differ on this machine now, each as
    ``code.commit: trained 1a2b3c4d5e6f, here 9f8e7d6c5b4a`` (commits and hashes shortened)."""
    here = {"code": code_state(), "environment": environment_state()}
    found = []
    for part, values in here.items():
        then = recorded.get(part) if isinstance(recorded.get(part), dict) else {}
        for key in sorted(set(values) | set(then)):
            if then.get(key) != values.get(key):
                found.append(f"{part}.{key}: trained {_shown(then.get(key))}, here {_shown(values.get(key))}")
    return found


def _shown(value: Any) -> str:
    """A recorded value in a note: hex digests (commits, hashes) shortened to 12 characters."""
    text = "unknown" if value is None else str(value)
    return text[:12] if len(text) >= 40 and all(c in "0123456789abcdef" for c in text) else text
