"""A local registry a group shares, and a second member of that group: as root, whom file modes don't bind,
the member is ``nobody`` in a group only the test's registry belongs to, run through ``setpriv``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from fashion_lib import registry

MODEL = "fashion-mnist/model"
GROUP = 4242  # a group only the test's registry belongs to (no name needed)
MEMBER = ["setpriv", "--reuid=65534", f"--regid={GROUP}", "--clear-groups"]  # nobody, in the group


def shared_registry(prefix: str) -> Iterator[Path]:
    """A folder holding ``registry`` (one model pushed by this user, its folders handed to :data:`GROUP`,
    ``2775``, its files left as made), ``first.keras`` and a ``home`` anyone may write; removed afterwards."""
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("running as root, and setpriv (to run as another user) is not installed")
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    (folder / "first.keras").write_bytes(b"the first member's model")
    registry.push(MODEL, {"clf.keras": folder / "first.keras"}, registry=str(folder / "registry"))
    (folder / "home").mkdir(mode=0o777)
    (folder / "home").chmod(0o777)
    for path in [folder / "registry", *(folder / "registry").rglob("*")]:
        if os.geteuid() == 0:
            os.chown(path, -1, GROUP)
        if path.is_dir():
            path.chmod(0o2775)
    yield folder
    shutil.rmtree(folder)


def as_member(*args: str, home: Path) -> subprocess.CompletedProcess:
    """``python ARGS`` as another member of the registry's group (as root: nobody, in :data:`GROUP`)."""
    done = subprocess.run(
        [*(MEMBER if os.geteuid() == 0 else []), sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, FASHION_HOME=str(home), HOME=str(home), XDG_DATA_HOME=str(home), XDG_CACHE_HOME=str(home)),
        cwd=Path(__file__).resolve().parents[1],
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done
