"""A local registry a group shares (folders ``chgrp``'d, mode ``2775``): the writers' lock file another member
made (``0644`` under umask 022) is locked read-only (``flock`` needs no write access), a new one is made
group-writable like its folder, and one that can't be opened at all is named, with its mode and owner, as the
one file in the way. Real folders; as root, the commands run as another user (``setpriv``), whom modes bind."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from fashion_lib import registry
from fashion_lib.registry import lock
from fashion_lib.registry.local import LOCK

MODEL = "fashion-mnist/model"
GROUP = 4242  # a group only the test's registry belongs to (no name needed)
MEMBER = ["setpriv", "--reuid=65534", f"--regid={GROUP}", "--clear-groups"]  # nobody, in the group
PUSH = "import sys; from pathlib import Path; from fashion_lib import registry; src = Path(sys.argv[2]); " + (
    "registry.push('fashion-mnist/model', {'clf.keras': src}, registry=sys.argv[1]); print('pushed')"
)


@pytest.fixture
def shared() -> Iterator[Path]:
    """A registry root pushed to, its folders handed to :data:`GROUP` (``2775``), its files left ``0644``."""
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("running as root, and setpriv (to run as another user) is not installed")
    folder = Path(tempfile.mkdtemp(prefix="fashion-test-shared-"))
    folder.chmod(0o755)
    (folder / "first.keras").write_bytes(b"the first member's model")
    registry.push(MODEL, {"clf.keras": folder / "first.keras"}, registry=str(folder / "registry"))
    (folder / "second.keras").write_bytes(b"the second member's model")
    (folder / "second.keras").chmod(0o644)
    (folder / "home").mkdir(mode=0o777)
    (folder / "home").chmod(0o777)
    for path in [folder / "registry", *(folder / "registry").rglob("*")]:
        if os.geteuid() == 0:
            os.chown(path, -1, GROUP)
        if path.is_dir():
            path.chmod(0o2775)
    yield folder
    shutil.rmtree(folder)


def _as_member(*args: str, home: Path) -> subprocess.CompletedProcess:
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


def test_a_second_member_pushes_through_a_lock_file_it_may_only_read(shared: Path) -> None:
    """Before: exit 6, "local registry ... is not writable or readable by you (Permission denied: .../.fashion.lock)"."""
    reg = shared / "registry"
    (reg / LOCK).chmod(0o444)  # read-only even to its owner: binds a test that is not root, too
    done = _as_member("-c", PUSH, str(reg), str(shared / "second.keras"), home=shared / "home")
    assert done.returncode == 0 and "pushed" in done.stdout, (done.stdout, done.stderr)
    assert len(registry.list_versions(registry=str(reg))) == 2


def test_a_lock_file_no_one_else_may_open_is_named_with_its_mode_and_owner(shared: Path) -> None:
    """Before: the whole registry was "not writable or readable by you"; the lock file is the one in the way."""
    reg = shared / "registry"
    (reg / LOCK).chmod(0o200)  # write-only to its owner, nothing to its group: opened neither to read nor to write
    owner = pwd.getpwuid((reg / LOCK).stat().st_uid).pw_name
    done = _as_member(
        "-m", "fashion_lib", "packages", "verify", "--repair", "--registry", str(reg), home=shared / "home"
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 6 and len(lines) == 1, (done.stdout, done.stderr)
    assert f"local registry {reg}: its lock file {LOCK} (--w-------, owner {owner}, group " in lines[0], lines[0]
    assert "chmod a+r" in lines[0] and "is not writable or readable" not in lines[0], lines[0]


def test_a_new_lock_file_is_writable_by_the_group_its_setgid_folder_shares(tmp_path: Path) -> None:
    """Before: made 0644 under umask 022, so every other member could only read it."""
    folder = tmp_path / "registry"
    folder.mkdir()
    folder.chmod(0o2775)
    tmp_path.chmod(0o755)
    before = os.umask(0o022)
    try:
        with lock.exclusive(folder / LOCK):
            pass
        with lock.exclusive(tmp_path / LOCK):  # a folder not shared: the umask's mode, as ever
            pass
    finally:
        os.umask(before)
    assert (folder / LOCK).stat().st_mode & 0o777 == 0o664
    assert (tmp_path / LOCK).stat().st_mode & 0o777 == 0o644
