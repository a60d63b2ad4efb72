"""Folders a live process holds and a dead one's swept: scratch folders in the system temporary folder
(:func:`scratch_folder`) and any folder made by :func:`held` (a fetch's staging folder), each with a
locked (flock) :data:`LIVE` file the kernel lets go of when its process dies, so :func:`sweep` knows."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

STALE_S = 3600  # a scratch or staging folder nothing was written in for this long was left by a killed process
# the system temporary folder's scratch folders: publish's README.md, RunFolder.as_published's copy of a run
SCRATCH_PREFIXES = ("fashion-push-", "fashion-publish-", "fashion-quality-")
LIVE = ".fashion-live"  # in a scratch or staging folder: locked (flock) while in use (:func:`held`)
MKDTEMP_RANDOM = "[a-z0-9_]{8}"  # the random part of a name mkdtemp makes, as a regular expression


def stale(folder: Path, age: float = STALE_S) -> bool:
    """Whether nothing was written in ``folder`` (or anything in it) for ``age`` seconds: a process killed outright
    (SIGKILL, power loss) left it, where a live one writes. False when it cannot be looked at."""
    try:
        return time.time() - max(p.lstat().st_mtime for p in (folder, *folder.rglob("*"))) > age
    except OSError:
        return False


@contextmanager
def scratch_folder(prefix: str) -> Iterator[Path]:
    """A new private folder ``PREFIX*`` in the system temporary folder (one of :data:`SCRATCH_PREFIXES`), removed
    on leaving; :func:`sweep_scratch`, done first, removes those of processes killed outright (:func:`held`)."""
    if prefix not in SCRATCH_PREFIXES:
        raise ValueError(f"scratch folder prefix {prefix!r}; expected one of {SCRATCH_PREFIXES}")
    sweep_scratch()
    with held(lambda: Path(tempfile.mkdtemp(prefix=prefix))) as folder:
        yield folder


def sweep_scratch() -> None:
    """Remove the scratch folders (:func:`scratch_folder`) of dead processes (:func:`sweep`)."""
    sweep(Path(tempfile.gettempdir()), f"(?:{'|'.join(map(re.escape, SCRATCH_PREFIXES))}){MKDTEMP_RANDOM}")


@contextmanager
def held(make: Callable[[], Path]) -> Iterator[Path]:
    """The new folder ``make`` returns, removed on leaving; its :data:`LIVE` file is locked (flock) meanwhile, and
    the kernel unlocks a process killed outright (SIGKILL, the OOM killer), so :func:`sweep` knows it is dead."""
    while True:
        folder = make()
        try:
            fd = os.open(folder / LIVE, os.O_RDWR | os.O_CREAT, 0o600)
        except FileNotFoundError:  # another process's sweep removed it before it was locked: another
            continue
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        fcntl.flock(fd, fcntl.LOCK_EX)  # waits only while such a sweep removes it
        if same_file(fd, folder / LIVE):
            break
        os.close(fd)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.close(fd)  # after: a sweep that opened the lock file meanwhile finds it gone


def sweep(base: Path, pattern: str) -> None:
    """Remove the folders in ``base`` whose whole name matches ``pattern`` (a regular expression) and whose process
    is dead (:func:`held`), or, made by an older fashion (no :data:`LIVE` file), once :func:`stale`. Never raises."""
    try:
        found = [path for path in base.iterdir() if re.fullmatch(pattern, path.name)]
    except OSError:  # no such folder, or one that cannot be listed: nothing to sweep
        return
    for folder in found:
        if folder.is_symlink() or not folder.is_dir():  # live ones, other users' and links stay
            continue
        try:
            fd = os.open(folder / LIVE, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            if stale(folder):
                shutil.rmtree(folder, ignore_errors=True)
            continue
        except OSError:  # another user's, or not ours to judge
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # refused while its process lives
            if same_file(fd, folder / LIVE):
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            pass
        finally:
            os.close(fd)


def same_file(fd: int, path: Path) -> bool:
    """Whether ``path`` still names the file open as ``fd`` (a link there is not followed: never the same)."""
    try:
        here, there = os.fstat(fd), os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)
