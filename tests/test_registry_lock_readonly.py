"""The writers' lock of a local registry a group shares, taken through a read-only descriptor (a lock file another
member made ``0644``): on NFS, where that can't lock, the lock file is named with the way out; a writer that could
lock but can't write is refused before it writes anything. Real folders; as root, the commands run as another user
(``setpriv``), whom modes bind; NFS is played by an ``fcntl.flock`` that refuses a read-only descriptor (``EBADF``)."""

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
from fashion_lib.registry.local import LOCK

MODEL = "fashion-mnist/model"
GROUP = 4242  # a group only the test's registry belongs to (no name needed)
MEMBER = ["setpriv", "--reuid=65534", f"--regid={GROUP}", "--clear-groups"]  # nobody, in the group
NFS = """import errno, fcntl, os, runpy, sys
real = fcntl.flock
def flock(fd, operation):
    if operation & fcntl.LOCK_EX and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDONLY:
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))  # as NFS's fcntl locks do
    return real(fd, operation)
fcntl.flock = flock
sys.argv[0] = "fashion"
runpy.run_module("fashion_lib", run_name="__main__")
"""
CLI = NFS.replace("fcntl.flock = flock\n", "")  # the real flock


@pytest.fixture
def shared() -> Iterator[Path]:
    """A registry root pushed to, its folders handed to :data:`GROUP` (``2775``), its lock file ``0444``."""
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("running as root, and setpriv (to run as another user) is not installed")
    folder = Path(tempfile.mkdtemp(prefix="fashion-test-lock-"))
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
    (folder / "registry" / LOCK).chmod(0o444)  # read-only even to its owner: binds a test that is not root, too
    yield folder
    shutil.rmtree(folder)


def as_member(script: str, *args: str, home: Path) -> subprocess.CompletedProcess:
    """``python -c SCRIPT ARGS`` as another member of the registry's group (as root: nobody, in :data:`GROUP`)."""
    done = subprocess.run(
        [*(MEMBER if os.geteuid() == 0 else []), sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, FASHION_HOME=str(home), HOME=str(home), XDG_DATA_HOME=str(home), XDG_CACHE_HOME=str(home)),
        cwd=Path(__file__).resolve().parents[1],
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def test_on_nfs_a_lock_file_open_only_to_read_is_named_with_chmod_g_w(shared: Path) -> None:
    """Before: exit 2, "fashion: error: repairing: local registry ...: Bad file descriptor", no file named."""
    reg = shared / "registry"
    done = as_member(NFS, "packages", "verify", "--repair", "--registry", str(reg), home=shared / "home")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 6 and len(lines) == 1, (done.stdout, done.stderr)
    assert f"error: repairing: local registry {reg}: its lock file {LOCK} (-r--r--r--, owner " in lines[0], lines[0]
    assert "can be opened by you only to read" in lines[0] and "'chmod g+w'" in lines[0], lines[0]
    assert "(Bad file descriptor)" in lines[0], lines[0]


def test_without_nfs_the_same_lock_file_locks_read_only(shared: Path) -> None:
    done = as_member(
        CLI, "packages", "verify", "--repair", "--registry", str(shared / "registry"), home=shared / "home"
    )
    assert done.returncode == 0, (done.stdout, done.stderr)
