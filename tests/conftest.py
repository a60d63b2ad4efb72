"""Shared test setup. Keep it small: fixtures that one module needs live in that module."""

import atexit
import os
import shutil
import tempfile
import time
import types

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


def pytest_collection_modifyitems(config, items):
    """Cheap tests first; the Docker end-to-end tests (minutes) last."""
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
