"""The writers' lock of a local registry a group shares, taken through a read-only descriptor (a lock file another
member made ``0644``): on NFS, where that can't lock, the lock file is named with the way out; a writer that could
lock but can't write is refused before it writes anything. Real folders; as root, the commands run as another user
(``setpriv``), whom modes bind; NFS is played by an ``fcntl.flock`` that refuses a read-only descriptor (``EBADF``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from group_support import MODEL, as_member, shared_registry  # tests/ is on sys.path

from fashion_lib import registry
from fashion_lib.registry.local import LOCK

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
    for folder in shared_registry("fashion-test-lock-"):
        (folder / "registry" / LOCK).chmod(0o444)  # read-only even to its owner: binds a test that is not root, too
        yield folder


def test_on_nfs_a_lock_file_open_only_to_read_is_named_with_chmod_g_w(shared: Path) -> None:
    """Before: exit 2, "fashion: error: repairing: local registry ...: Bad file descriptor", no file named."""
    reg = shared / "registry"
    (reg / ".fashion-tmp").mkdir(exist_ok=True)
    (reg / ".fashion-tmp" / "clf.keras.x1").write_bytes(b"left by a killed push")  # something to repair: locks
    done = as_member("-c", NFS, "packages", "verify", "--repair", "--registry", str(reg), home=shared / "home")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 6 and len(lines) == 1, (done.stdout, done.stderr)
    assert f"error: repairing: local registry {reg}: its lock file {LOCK} (-r--r--r--, owner " in lines[0], lines[0]
    assert "can be opened by you only to read" in lines[0] and "'chmod g+w'" in lines[0], lines[0]
    assert "(Bad file descriptor)" in lines[0], lines[0]


def test_without_nfs_the_same_lock_file_locks_read_only(shared: Path) -> None:
    done = as_member(
        "-c", CLI, "packages", "verify", "--repair", "--registry", str(shared / "registry"), home=shared / "home"
    )
    assert done.returncode == 0, (done.stdout, done.stderr)


PUSH = """import sys; from pathlib import Path; from fashion_lib import registry
try:
    registry.push("fashion-mnist/model", {"clf.keras": Path(sys.argv[2])}, registry=sys.argv[1]); print("pushed")
except Exception as exc:
    print(type(exc).__name__, exc, file=sys.stderr)
"""
REFUSE = """import sys; from fashion_lib import registry
try:
    registry.refuse_unwritable(registry.open(sys.argv[1]), "fashion-mnist/model"); print("writable")
except Exception as exc:
    print(type(exc).__name__, exc, file=sys.stderr)
"""


def _files(reg: Path) -> set[Path]:
    return {p.relative_to(reg) for p in reg.rglob("*") if p.is_file()}


@pytest.mark.parametrize("lock_mode", [0o444, 0o666], ids=["lock-read-only", "lock-writable"])
def test_a_push_that_cant_write_its_pointers_writes_nothing(shared: Path, lock_mode: int) -> None:
    """Before: the object and the manifest were written, then the pointer failed: debris no version names. With
    the lock taken read-only (fixed by b34ffb1); and, review 91, through a lock file the member may write (a
    shared registry's is made g+rw, 669870d), where that probe never ran. Every local writer probes now."""
    reg = shared / "registry"
    (reg / LOCK).chmod(lock_mode)
    pointers = reg / ".quilt" / "named_packages" / MODEL
    pointers.chmod(0o2555)  # made 2755 by another member before folders a group shares were made g+w
    before = _files(reg)
    (shared / "second.keras").write_bytes(b"the second member's model")
    (shared / "second.keras").chmod(0o644)
    done = as_member("-c", PUSH, str(reg), str(shared / "second.keras"), home=shared / "home")
    line = done.stderr.strip()
    assert done.stdout == "" and line.startswith("RegistryAccessDenied publishing fashion-mnist/model: local "), line
    assert f"is not writable or readable by you (Permission denied: {pointers})" in line, line
    assert _files(reg) == before


def test_gc_delete_that_locks_read_only_but_cant_remove_objects_is_refused_before_its_survey(shared: Path) -> None:
    """Before: "removing 1 object(s): ... (Permission denied: .../objects/<hex>)", after surveying with the lock held."""
    reg = shared / "registry"
    unnamed = reg / "objects" / ("0" * 64)
    unnamed.write_bytes(b"left by a killed push")
    os.utime(unnamed, (0, 0))
    (reg / "objects").chmod(0o2555)
    done = as_member("-c", CLI, "packages", "gc", "--delete", "--registry", str(reg), home=shared / "home")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 6 and len(lines) == 1, (done.stdout, done.stderr)
    assert lines[0].startswith(f"fashion: error: removing unnamed objects: local registry {reg} is not"), lines[0]
    assert f"(Permission denied: {reg / 'objects'})" in lines[0], lines[0]
    assert unnamed.exists()


def test_verify_repair_that_locks_read_only_removes_nothing_where_it_cant_remove_everything(shared: Path) -> None:
    """Before: the leftover in .fashion-tmp was removed, then the one in objects/ failed, half-way."""
    reg = shared / "registry"
    (reg / ".fashion-tmp").mkdir(exist_ok=True)
    (reg / ".fashion-tmp").chmod(0o2777)
    leftovers = [reg / ".fashion-tmp" / "clf.keras.x1", reg / "objects" / ".abc.x2"]
    for path in leftovers:
        path.write_bytes(b"left by a killed push")
    (reg / "objects").chmod(0o2555)
    done = as_member("-c", CLI, "packages", "verify", "--repair", "--registry", str(reg), home=shared / "home")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 6 and len(lines) == 1, (done.stdout, done.stderr)
    assert f"repairing: local registry {reg} is not writable or readable by you" in lines[0], lines[0]
    assert all(path.exists() for path in leftovers)


def test_a_member_who_can_write_still_pushes_through_the_read_only_lock(shared: Path) -> None:
    (shared / "second.keras").write_bytes(b"the second member's model")
    (shared / "second.keras").chmod(0o644)
    done = as_member("-c", PUSH, str(shared / "registry"), str(shared / "second.keras"), home=shared / "home")
    assert done.stdout == "pushed\n", done.stderr
    assert len(registry.list_versions(registry=str(shared / "registry"))) == 2


def test_refusing_up_front_names_a_lock_file_that_opens_neither_way(shared: Path) -> None:
    """Before: nothing said up front (the folders are writable); the push failed only at its lock."""
    reg = shared / "registry"
    (reg / LOCK).chmod(0o200)  # another user's, unreadable to the member (binds a test that is not root, too)
    done = as_member("-c", REFUSE, str(reg), home=shared / "home")
    line = done.stderr.strip()
    assert done.stdout == "" and line.startswith("RegistryAccessDenied publishing fashion-mnist/model: local "), line
    assert f"{reg}: its lock file {LOCK} (--w-------, owner " in line and "chmod a+r" in line, line
    (reg / LOCK).chmod(0o444)
    assert as_member("-c", REFUSE, str(reg), home=shared / "home").stdout == "writable\n"


@pytest.mark.parametrize(
    ("folder_mode", "mask", "expected"),
    [
        (0o1777, 0o022, 0o644),  # before: 0666, writable by anyone on the machine
        (0o2775, 0o077, 0o660),  # before: 0620, a lock file the group could not even read
        (0o2775, 0o022, 0o664),
        (0o0775, 0o022, 0o644),  # group-writable but not setgid: not a folder a group shares, the umask's mode
    ],
    ids=["1777", "2775-umask-077", "2775-umask-022", "0775"],
)
def test_a_new_lock_file_gains_group_read_and_write_only_in_a_folder_a_group_shares(
    tmp_path: Path, folder_mode: int, mask: int, expected: int
) -> None:
    from fashion_lib.registry import lock

    folder = tmp_path / "registry"
    folder.mkdir()
    folder.chmod(folder_mode)
    before = os.umask(mask)
    try:
        with lock.exclusive(folder / LOCK):
            pass
    finally:
        os.umask(before)
    assert oct((folder / LOCK).stat().st_mode & 0o777) == oct(expected)


def test_verify_repair_with_nothing_to_repair_needs_no_write_access(shared: Path) -> None:
    """Before: exit 6, "repairing: ... is not writable or readable by you", in a registry the member may only read
    and where there was nothing to remove (``gc --delete`` with nothing to remove exited 0 there)."""
    reg = shared / "registry"
    for path in [reg, *reg.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    done = as_member("-c", CLI, "packages", "verify", "--repair", "--registry", str(reg), home=shared / "home")
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "no problems" in done.stdout, done.stdout
    for path in [reg, *reg.rglob("*")]:
        path.chmod(0o2775 if path.is_dir() else 0o664)  # the fixture removes it
