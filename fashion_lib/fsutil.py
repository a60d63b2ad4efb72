"""Files that are never half-written (a temporary name, then rename; a folder made for a block that fails
is taken back), and paths checked before use. Folders held by a live process are :mod:`.scratch`'s."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import DataValidationError, FashionError


def umask() -> int:
    """The process umask (read without changing it for good)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def make_public(path: str | os.PathLike[str], *, directory: bool = False, group: bool = False) -> None:
    """Give a ``mkstemp``/``mkdtemp`` result (0600/0700) the permissions of any new file or folder; ``group``
    (made in a :func:`shared_folder`), whatever the umask: a folder ``g+rwx`` (keeping the setgid bit it took
    from its parent on Linux; BSD and macOS give a folder's group to what is made in it without one), a file
    ``g+r`` only. A file is never rewritten in place (replaced by a rename, which needs the folder's write
    bit), so no member may change what another published."""
    mode = (0o777 if directory else 0o666) & ~umask()
    if group:
        inherited = os.stat(path).st_mode & stat.S_ISGID if directory else 0
        mode |= (stat.S_IRWXG | inherited) if directory else stat.S_IRGRP
    os.chmod(path, mode)


GROUP_FILE = stat.S_IRGRP | stat.S_IWGRP  # what the writers' lock file in a shared_folder gains: g+rw


SHARED = stat.S_ISGID | stat.S_IWGRP  # a folder a group shares: setgid (what is made in it takes its group), g+w


def shared_folder(folder: str | os.PathLike[str]) -> bool:
    """Whether ``folder`` is one a group shares: group-writable and setgid (``chmod 2775``, as git's
    ``core.sharedRepository=group`` makes it), so what is made in it is made group-writable (``group=True``)."""
    try:
        mode = os.stat(folder).st_mode
    except OSError:
        return False
    return stat.S_ISDIR(mode) and mode & SHARED == SHARED


def make_folders(folder: Path, *, group: bool = False) -> None:
    """``folder.mkdir(parents=True, exist_ok=True)``; ``group``: each folder this makes is ``g+rwx``
    (:func:`make_public`), one another process made meanwhile is left as it is."""
    for path in reversed(missing_folders(folder)):
        try:
            path.mkdir()
        except FileExistsError:
            continue
        if group:
            make_public(path, directory=True, group=True)
    folder.mkdir(parents=True, exist_ok=True)  # there now; a file in the way is FileExistsError, as ever


def unusable(path: str | os.PathLike[str], *, folder: bool) -> str | None:
    """Why ``path`` cannot be written as a folder (``folder``) or a file, in words; None if it can.

    Nothing is made: a path that does not exist yet is judged by the nearest folder above it.
    Never raises: a path that cannot even be looked up (a name too long, a loop of symbolic
    links) is a reason too.
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):  # not there yet, or a file on the way: judged below
        mode = None
    except OSError as exc:
        return looked_up(exc)
    if mode is not None:
        if folder != stat.S_ISDIR(mode):
            return "is a file; expected a folder" if folder else "is a folder; expected a file path"
        target = path if folder else path.absolute().parent
        return None if os.access(target, os.W_OK | os.X_OK) else f"{'' if folder else 'its folder '}is not writable"
    if folder and os.path.islink(path):  # a folder cannot be renamed over it
        return f"is a symbolic link to {os.readlink(path)}, which does not exist"
    above = next(p for p in path.absolute().parents if _exists(p) or p == p.parent)
    if not above.is_dir():
        return f"cannot be made: {above} is a file"
    return None if os.access(above, os.W_OK | os.X_OK) else f"cannot be made: {above} is not writable"


def _exists(path: Path) -> bool:
    try:
        path.stat()
    except OSError:
        return False
    return True


def looked_up(exc: OSError) -> str:
    """Why a path could not be looked up (``exc`` from ``stat``), in words that follow the path."""
    if exc.errno == errno.ELOOP:
        return "goes through a loop of symbolic links"
    if exc.errno == errno.ENAMETOOLONG:
        parts = Path(os.fsdecode(exc.filename or "")).parts
        longest = max((len(os.fsencode(part)) for part in parts), default=0)
        if longest > NAME_MAX:
            return f"holds a name of {longest} bytes; a file or folder name may have at most {NAME_MAX}"
        return "is too long for the file system"
    return f"cannot be looked up ({exc.strerror or exc.__class__.__name__})"


NAME_MAX = 255  # bytes in one file or folder name, on Linux's file systems and macOS's


def access_denied(exc: OSError) -> bool:
    """Whether ``exc`` says this user may not do that there (no permission, a read-only file system)."""
    return exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS)


def disk_full(exc: OSError) -> bool:
    """Whether ``exc`` says the disk (or the user's quota on it) is full."""
    return exc.errno in (errno.ENOSPC, errno.EDQUOT)


def why_failed(exc: OSError) -> str:
    """Why a write failed, in words: "the disk is full" (a full disk or quota), else the system's."""
    return "the disk is full" if disk_full(exc) else exc.strerror or str(exc)


def missing_folders(folder: Path) -> list[Path]:
    """``folder`` and the folders above it that are not there yet (what ``mkdir(parents=True)`` would
    make), absolute, deepest first: what :func:`remove_folders` removes after a failure."""
    chain = [folder.absolute(), *folder.absolute().parents]
    return chain[: next(i for i, path in enumerate(chain) if os.path.lexists(path))]


def remove_folders(made: Iterable[Path]) -> None:
    """Remove the folders ``made`` (deepest first) while they are empty: the first that is not (it holds
    something else, a file kept on purpose) or cannot be removed (it is gone) stops it, with those above."""
    for folder in made:
        try:
            folder.rmdir()
        except OSError:
            break


@contextmanager
def new_folder(folder: Path) -> Iterator[Written]:
    """Make ``folder`` (and the folders above it that are missing). If the block fails (Ctrl-C too) and
    this made the folder, the files the block recorded as written are removed (each only while it is still
    the file this process wrote: another process's file put there since stays), then the folders made, if
    empty."""
    made = missing_folders(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = Written()
    try:
        yield files
    except BaseException:
        if made:
            files.remove_own()
        remove_folders(made)  # stops at one not empty (an earlier download kept, another process's files)
        raise


class Written:
    """Files a block wrote, each with the identity (device, inode) it had when written."""

    def __init__(self) -> None:
        self.files: dict[Path, tuple[int, int]] = {}

    def append(self, path: Path) -> None:
        info = os.stat(path)
        self.files[Path(path)] = (info.st_dev, info.st_ino)

    def remove_own(self) -> None:
        """Remove each file that is still the one written (a file renamed over it by another is left)."""
        for path, identity in self.files.items():
            try:
                info = os.stat(path)
            except OSError:
                continue
            if (info.st_dev, info.st_ino) == identity:
                path.unlink(missing_ok=True)


@contextmanager
def atomic_path(path: Path, suffix: str = ".part") -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (ending in ``suffix``); rename it over ``path`` only on
    success. An OSError of a file that names no file (a failed ``write()``) or the temporary one is
    given ``path``'s name: the user never chose the temporary name. A network error (a download into
    the file timed out, was reset) is no error of a file and keeps its own words. A symbolic link is
    written through, as ``>`` would: its target is replaced, the link stays."""
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    make_public(tmp)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename in (None, tmp) and not _from_network(exc):
            exc.filename, exc.filename2 = str(path), None  # a failed write() names no file
        raise


def _from_network(exc: OSError) -> bool:
    """Whether ``exc`` is a connection's error (a reset, a timeout; socket's, ssl's or urllib's), not a file's."""
    return isinstance(exc, (ConnectionError, TimeoutError)) or type(exc).__module__ in ("socket", "ssl", "urllib.error")


_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
)


def regular_file(
    path: Path, expected: str, error: type[FashionError] = DataValidationError, missing: str = "no such file"
) -> Path:
    """``path`` if it is a regular file (links followed); else ``error``: ``PATH: is a directory; expected ...``.
    Only ``stat``: a FIFO is never opened (reading one would block)."""
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise error(f"{path}: {missing}; expected {expected}") from None
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror or exc.__class__.__name__}); expected {expected}") from None
    if stat.S_ISDIR(mode):
        raise error(f"{path}: is a directory; expected {expected}")
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _KINDS if test(mode)), "special")
        raise error(f"{path}: not a regular file ({kind}); expected {expected}")
    return path
