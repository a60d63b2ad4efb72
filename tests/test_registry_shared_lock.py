"""A local registry a group shares (folders ``chgrp``'d, mode ``2775``): the writers' lock file another member
made (``0644`` under umask 022) is locked read-only (``flock`` needs no write access), a new one is made
group-writable like its folder, and one that can't be opened at all is named, with its mode and owner, as the
one file in the way. Real folders; as root, the commands run as another user (``setpriv``), whom modes bind."""

from __future__ import annotations

import os
import pwd
from collections.abc import Iterator
from pathlib import Path

import pytest
from group_support import as_member, shared_registry  # tests/ is on sys.path

from fashion_lib import registry
from fashion_lib.registry import lock
from fashion_lib.registry.local import LOCK

PUSH = "import sys; from pathlib import Path; from fashion_lib import registry; src = Path(sys.argv[2]); " + (
    "registry.push('fashion-mnist/model', {'clf.keras': src}, registry=sys.argv[1]); print('pushed')"
)


@pytest.fixture
def shared() -> Iterator[Path]:
    """A registry root pushed to, its folders handed to :data:`GROUP` (``2775``), its files left ``0644``."""
    for folder in shared_registry("fashion-test-shared-"):
        (folder / "second.keras").write_bytes(b"the second member's model")
        (folder / "second.keras").chmod(0o644)
        yield folder


def test_a_second_member_pushes_through_a_lock_file_it_may_only_read(shared: Path) -> None:
    """Before: exit 6, "local registry ... is not writable or readable by you (Permission denied: .../.fashion.lock)"."""
    reg = shared / "registry"
    (reg / LOCK).chmod(0o444)  # read-only even to its owner: binds a test that is not root, too
    done = as_member("-c", PUSH, str(reg), str(shared / "second.keras"), home=shared / "home")
    assert done.returncode == 0 and "pushed" in done.stdout, (done.stdout, done.stderr)
    assert len(registry.list_versions(registry=str(reg))) == 2


def test_a_lock_file_no_one_else_may_open_is_named_with_its_mode_and_owner(shared: Path) -> None:
    """Before: the whole registry was "not writable or readable by you"; the lock file is the one in the way."""
    reg = shared / "registry"
    (reg / LOCK).chmod(0o200)  # write-only to its owner, nothing to its group: opened neither to read nor to write
    (reg / ".fashion-tmp").mkdir(exist_ok=True)
    (reg / ".fashion-tmp" / "clf.keras.x1").write_bytes(b"left by a killed push")  # something to repair: locks
    owner = pwd.getpwuid((reg / LOCK).stat().st_uid).pw_name
    done = as_member(
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
