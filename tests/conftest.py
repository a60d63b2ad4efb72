"""Shared test setup. Keep it small: fixtures that one module needs live in that module."""

import atexit
import os
import shutil
import subprocess
import tempfile
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# quilt3 keeps a config file and a manifest cache in the user's folders, chosen when it is
# first imported: point them at a throwaway folder so tests neither read nor touch the
# user's quilt3 settings, and stale cached manifests cannot leak between runs.
_QUILT_HOME = tempfile.mkdtemp(prefix="fashion-tests-quilt-")
os.environ["XDG_DATA_HOME"] = os.path.join(_QUILT_HOME, "data")
os.environ["XDG_CACHE_HOME"] = os.path.join(_QUILT_HOME, "cache")
os.environ.setdefault("QUILT_MINIMIZE_STDOUT", "true")
os.environ.setdefault("QUILT_DISABLE_USAGE_METRICS", "true")

# Tests never touch the project's own registry, data or outputs, nor a registry the user set.
os.environ["FASHION_HOME"] = tempfile.mkdtemp(prefix="fashion-tests-home-")
for _folder in (_QUILT_HOME, os.environ["FASHION_HOME"]):
    atexit.register(shutil.rmtree, _folder, ignore_errors=True)
os.environ.pop("FASHION_REGISTRY", None)


# `make test` runs the suite in pytest-xdist workers that take whole files, in collection order, as
# they free up. Handing out the longest files first lets the workers finish together; the rest
# follow in their usual order. A stale list costs time, never a test.
LONGEST_FIRST = (
    "test_docker_image.py",
    "test_pipeline.py",
    "test_notebooks.py",
    "test_train.py",
    "test_multiworker.py",
    "test_readme_commands.py",
    "test_quality_pipeline.py",
    "test_push_scratch.py",
    "test_cli_sigterm.py",
    "test_registry_stock_quilt3.py",
    "test_provenance.py",
    "test_registry_s3.py",
    "test_model_inputs.py",
    "test_run_reuse.py",
    "test_chance_level.py",
    "test_registry_pins.py",
)


def pytest_collection_modifyitems(config, items):
    """In one process: cheap tests first, the Docker end-to-end tests (minutes) last. In xdist's
    workers: the longest files first (``LONGEST_FIRST``)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        rank = {name: place for place, name in enumerate(LONGEST_FIRST)}
        items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
    else:
        items.sort(key=lambda item: item.get_closest_marker("docker") is not None)


@pytest.fixture
def same_second(monkeypatch):
    """quilt3 names version pointers by the second: make every push land in the same one."""
    from fashion_lib import registry

    registry.quilt()
    import quilt3.backends.base

    clock = types.SimpleNamespace(time=lambda now=time.time(): now)
    monkeypatch.setattr(quilt3.backends.base, "time", clock)
    monkeypatch.setattr(registry.base, "time", clock)


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory):
    """One SeaweedFS S3 server for the session (tests/seaweedfs.py): loopback, authentication on."""
    import seaweedfs  # tests/ is on sys.path

    with seaweedfs.seaweed_server(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


def _mount_tmpfs(folder: Path, size: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip()}); tests of a full disk need root")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[str, int], Path]]:
    """``small_disk(name, size)``: a fresh tmpfs of ``size`` bytes at ``tmp_path/name``, unmounted after."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    mounted: list[Path] = []

    def make(name: str, size: int) -> Path:
        folder = tmp_path / name
        _mount_tmpfs(folder, size)
        mounted.append(folder)
        return folder

    yield make
    for folder in mounted:
        subprocess.run(["umount", "--lazy", str(folder)], check=False)


@pytest.fixture
def sources(tmp_path: Path) -> dict[str, Path]:
    """Two tiny CSVs to publish (the registry tests; a module may define its own)."""
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "train.csv").write_bytes(b"label,pixel1\n1,0\n2,255\n")
    (folder / "test.csv").write_bytes(b"label,pixel1\n3,7\n")
    return {"train.csv": folder / "train.csv", "test.csv": folder / "test.csv"}


@pytest.fixture
def image(tmp_path: Path) -> Path:
    """A 28x28 PNG to classify (``fashion predict``): a light square on black, as garments are (neither
    blank nor inverted, so no warning line)."""
    import numpy as np
    from PIL import Image

    pixels = np.zeros((28, 28), np.uint8)
    pixels[6:22, 8:20] = 180
    path = tmp_path / "shirt.png"
    Image.fromarray(pixels, "L").save(path)
    return path
