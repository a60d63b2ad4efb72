"""An exclusive OS lock on a file (``flock``): released by the kernel when its holder dies.

A ``kill -9`` in the middle of a push therefore never blocks the next writer, which
then cleans up what the dead one left behind. ``flock`` needs no write access: a lock file another
user made (``0644`` under umask 022, in a folder a group shares) is locked through a read-only descriptor,
and a new one made in a folder a group shares is group-readable and -writable, as every file the registry makes
there (:func:`~fashion_lib.fsutil.shared_folder`: a setgid ``2775`` folder, ``0664`` under umask 022).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import grp
import os
import pwd
import stat
from collections.abc import Iterator
from pathlib import Path

from ..fsutil import GROUP_FILE, shared_folder


@contextlib.contextmanager
def exclusive(path: Path, *, remove: bool = False) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) for the ``with`` block, through a descriptor open
    only to read where this user may only read the lock file (a writer then checks it can write: publish's
    ``refuse_unwritable_under_lock``, which every local writer calls, so nothing here says how it was opened).

    ``remove``: delete ``path`` before releasing it, so it is there only while held (or left by a holder
    that died). Only for a file every holder locks while holding another lock first: else a second
    holder could wait on the file just removed while a third locks a new one.
    """
    fd = _open(path)
    try:
        _lock(fd, path)
        yield
    finally:
        if remove:
            with contextlib.suppress(OSError):  # one left behind is only a file no one holds
                path.unlink()
        os.close(fd)  # closing the last descriptor releases the lock


class LockDenied(PermissionError):
    """A lock file that is there but that this user can open neither to write nor to read."""

    def reason(self) -> str:
        """The lock file, its mode and owner, as the problem: "its lock file NAME (MODE, owner U, group G) ..."."""
        path = Path(self.filename)
        if not (owned := _owned(path)):
            return f"its lock file {path.name} can't be opened by you ({self.strerror}); choose another registry with --registry"
        return (
            f"its lock file {path.name}{owned} can't be opened by you, to write or to read ({self.strerror}); locking "
            "needs only read access: its owner can run 'chmod a+r' on it, or choose another registry with --registry"
        )


class LockReadOnly(LockDenied):
    """A lock file open to this user only to read, on a file system whose locks need it open to write (NFS, where
    ``flock`` is emulated with ``fcntl`` locks: ``EBADF``)."""

    def reason(self) -> str:
        """The lock file, its mode and owner, and the way out: "its lock file NAME (...) is open to you only ..."."""
        path = Path(self.filename)
        return (
            f"its lock file {path.name}{_owned(path)} can be opened by you only to read, and this file system (NFS, for one) locks "
            f"only a file open to write ({self.strerror}); its owner can run 'chmod g+w' on it to make it writable "
            "by the group, or choose another registry with --registry"
        )


def read_only(fd: int) -> bool:
    """Whether the descriptor ``fd`` is open only to read."""
    return fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDONLY


def _lock(fd: int, path: Path) -> None:
    """Lock ``fd`` (the lock file ``path``) exclusively, waiting for its holder; :class:`LockReadOnly` where the file
    system refuses to lock a descriptor open only to read (NFS: ``EBADF``)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError as exc:
        if exc.errno == errno.EBADF and read_only(fd):
            raise LockReadOnly(exc.errno, exc.strerror or os.strerror(exc.errno), str(path)) from None
        raise


def denied(path: Path) -> LockDenied | None:
    """The :class:`LockDenied` locking ``path`` would end in (there, opening neither to write nor to read), asked
    without making or locking it; None where it opens, or is not there (the writer makes it)."""
    for flags in (os.O_RDWR, os.O_RDONLY):
        try:
            os.close(os.open(path, flags))
        except PermissionError:
            continue
        except OSError:
            return None  # not there, or a failure the writer's own open names
        return None
    return LockDenied(errno.EACCES, os.strerror(errno.EACCES), str(path))


def _open(path: Path) -> int:
    """A descriptor of the lock file ``path``: made if missing (its mode following its folder's), else opened to
    write or, where this user may only read it, to read. :class:`LockDenied` if it is there but neither opens."""
    for _ in range(100):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            pass
        else:
            _share(fd, path.parent)
            return fd
        for flags in (os.O_RDWR, os.O_RDONLY):
            try:
                return os.open(path, flags)
            except FileNotFoundError:
                break  # removed by its holder since: made anew on the next try
            except PermissionError:
                continue
        else:
            raise LockDenied(errno.EACCES, os.strerror(errno.EACCES), str(path))
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o666)  # removed and made again 100 times: as before


def _share(fd: int, folder: Path) -> None:
    """Make a new lock file ``g+rw`` where its folder is one a group shares (setgid, group-writable), whatever the
    umask: the rule every file the registry makes there follows (:func:`~fashion_lib.fsutil.shared_folder`,
    ``make_public(group=True)``); never anything for others, and elsewhere the umask's mode stays."""
    if not shared_folder(folder):
        return
    with contextlib.suppress(OSError):  # a file that stays 0644 is locked read-only by the others
        mode = stat.S_IMODE(os.fstat(fd).st_mode)
        if mode | GROUP_FILE != mode:
            os.fchmod(fd, mode | GROUP_FILE)


def _owned(path: Path) -> str:
    """`` (MODE, owner U, group G)`` of ``path``; "" where it can't be looked up."""
    try:
        info = os.stat(path)
    except OSError:
        return ""
    return f" ({stat.filemode(info.st_mode)}, owner {_user(info.st_uid)}, group {_group(info.st_gid)})"


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def held(path: Path) -> bool:
    """Whether a holder of :func:`exclusive` has ``path`` locked now; asked without waiting and without
    writing (a lock file that can't be opened to read may be held; one that is not there is not).

    A ``remove=True`` file may be removed by its holder and made anew by the next while it is probed: a free
    lock on a file that ``path`` no longer names says nothing, so the probe is made again on the new one."""
    for _ in range(100):
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return False  # made by the first writer before it locks: no writer yet
        except OSError:
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # released at once by the close below
            if _names(path, fd):
                return False
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
    return True  # replaced on every probe: writers keep taking it


def _names(path: Path, fd: int) -> bool:
    """Whether ``path`` still names the file open as ``fd``."""
    try:
        now = os.stat(path)
    except FileNotFoundError:
        return True  # removed by its holder: free (a new holder makes it anew; the next probe sees that one)
    opened = os.fstat(fd)
    return (now.st_dev, now.st_ino) == (opened.st_dev, opened.st_ino)
