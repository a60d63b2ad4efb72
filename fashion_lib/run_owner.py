"""Which live process owns a run folder's unfinished run, and the debris of runs whose process was killed.

A run marks its folder with ``.fashion-run.lock``, held with an exclusive ``flock`` (the kernel releases it when
the process dies, however it dies) while the run is unfinished; the mark goes once ``clf.keras`` is written or
the folder is given back. A folder whose mark is there and free, with no model, holding nothing but a run's
files, was left by a run that was killed (``kill -9``, papermill stopped with SIGTERM: its kernel ends with
``os._exit``): :func:`clear_dead` removes those files. A folder without the mark, or with anything else in it,
is never touched; nor is one whose mark a live process holds. Where hard links are missing (some network file
systems), no folder is marked, so none is removed.

A free mark is proof of a dead owner only where every machine that sees the folder shares its locks: a file system
that keeps ``flock`` per machine (NFS mounted ``nolock``, some FUSE mounts, a folder synced between machines) shows
a live run elsewhere as free. So a run's folder beside a new run is removed only once nothing in it has changed for
:data:`SWEEP_AFTER_S` (a live run writes its history every epoch; and a killed run's history stays that long, as
evidence of how far it got), and an ``output_dir`` named again is used at once only if its mark names this machine's
boot (the run lived here, and is gone), else after that same quiet time.
"""

from __future__ import annotations

import fcntl
import os
import stat
import tempfile
from collections.abc import Callable
from contextlib import suppress
from fnmatch import fnmatchcase
from pathlib import Path

from .errors import DestinationError
from .scratch import same_file, stale

LOCK_FILE = ".fashion-run.lock"
LEFT_BY_KILLED = "left unfinished by a run that was killed (no clf.keras)"  # what a note says of such files
# folders this process owns (absolute) -> the descriptor holding the flock on each one's lock file
_HELD: dict[Path, int] = {}
SWEEP_AFTER_S = 24 * 3600  # a killed run's folder unchanged this long is removed beside a new run


def _boot() -> bytes:
    """This machine's boot, as Linux names it (a mark holds it: the run lived in this boot); b"" elsewhere."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_bytes().strip()
    except OSError:
        return b""


_BOOT = _boot()


def own(folder: Path) -> None:
    """Mark ``folder`` (made if missing) as this process's unfinished run, until :func:`disown` or the process
    ends. The lock file is made already locked (a temporary, locked, then linked): no one ever sees it free
    while its owner lives. A mark left by a killed run is taken over. Best effort: where none can be made, the
    folder stays unmarked. DestinationError naming the folder if a live run in another process holds it."""
    key = folder.absolute()
    if _mine(key):
        return
    try:
        key.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f"{LOCK_FILE}.", suffix=".part", dir=key)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a new file: no one else has it
        os.write(fd, _BOOT)
        os.link(tmp, key / LOCK_FILE)  # never replaces one that is there
    except FileExistsError:
        os.close(fd)
        fd = _take_or_refuse(key)
        if fd is not None:  # a killed run's mark, taken over: it names this boot now
            with suppress(OSError):
                os.ftruncate(fd, 0)
                os.pwrite(fd, _BOOT, 0)
    except OSError:  # no hard links here: left unmarked
        os.close(fd)
        fd = None
    finally:
        with suppress(OSError):
            os.unlink(tmp)
    if fd is not None:
        _HELD[key] = fd


def disown(folder: Path) -> None:
    """Remove this process's mark from ``folder`` (the run finished, failed, or gave the folder back)."""
    fd = _HELD.pop(folder.absolute(), None)
    if fd is None:
        return
    if same_file(fd, folder.absolute() / LOCK_FILE):  # never another run's mark, made since
        with suppress(OSError):
            os.unlink(folder.absolute() / LOCK_FILE)
    os.close(fd)  # the lock goes with the last descriptor


def refuse_held(folder: Path) -> None:
    """DestinationError naming ``folder`` if a live run in another process holds its mark."""
    if not _mine(folder.absolute()):
        fd = _take_or_refuse(folder.absolute())
        if fd is not None:
            os.close(fd)


def clear_dead(folder: Path, names: tuple[str, ...], model: str, *, named: bool = False) -> str | None:
    """Remove the files of a killed run from ``folder`` (its mark last), if that is what the folder holds: the
    mark, free, and nothing but a run's files (``names``, but not ``model``) and their temporary copies; and nothing
    changed in it for :data:`SWEEP_AFTER_S`, or (``named``: an output_dir named again) its mark names this boot.
    Returns "" when removed, None when the folder is not such a one (left as it is), else why the removal failed."""
    if _mine(folder.absolute()):
        return None
    try:
        fd = _take(folder.absolute())
    except BlockingIOError:
        return None
    if fd is None:
        return None
    try:
        here = named and bool(_BOOT) and os.pread(fd, 256, 0).strip() == _BOOT
        if not (here or stale(folder, SWEEP_AFTER_S)):
            return None  # maybe a live run on a machine whose locks this one does not see
        files = _leftovers(folder, names, model)
        if files is None:
            return None
        for name in sorted(files, key=lambda name: name == LOCK_FILE):  # the mark last
            os.unlink(folder / name)
        return ""
    except OSError as exc:
        return exc.strerror or exc.__class__.__name__
    finally:
        os.close(fd)


def sweep(parent: Path, mine: Path, names: tuple[str, ...], model: str, log: Callable[[str], None]) -> None:
    """Remove the folders in ``parent`` (but ``mine``) that killed runs left (see :func:`clear_dead`), each said
    through ``log`` in one note line."""
    try:
        entries = [entry for entry in os.scandir(parent) if entry.is_dir(follow_symlinks=False)]
    except OSError:
        return
    for entry in entries:
        folder = Path(entry.path)
        if folder.absolute() == mine.absolute() or not os.path.lexists(folder / LOCK_FILE):
            continue
        why = clear_dead(folder, names, model)
        if why == "":
            with suppress(OSError):
                folder.rmdir()
            log(f"note: removed run folder {folder}, {LEFT_BY_KILLED}")
        elif why is not None:
            log(f"note: run folder {folder} was {LEFT_BY_KILLED}; could not remove it: {why}")


def _mine(key: Path) -> bool:
    """Whether this process holds ``key``'s mark (still the one linked there: a folder removed and made
    again under it is no longer held)."""
    fd = _HELD.get(key)
    if fd is not None and not same_file(fd, key / LOCK_FILE):
        del _HELD[key]
        os.close(fd)
        return False
    return fd is not None


def _take(folder: Path) -> int | None:
    """A descriptor holding the lock on ``folder``'s mark, free (its owner is dead) and still the one linked
    there; None if there is none or it can't be opened. BlockingIOError: a live process holds it."""
    path = folder / LOCK_FILE
    flags = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # a FIFO put there is never waited on
    try:
        fd = os.open(path, os.O_RDWR | flags)
    except PermissionError:  # another user's: a read-only descriptor locks too (not on NFS: left alone)
        try:
            fd = os.open(path, os.O_RDONLY | flags)
        except OSError:
            return None
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if stat.S_ISREG(os.fstat(fd).st_mode) and same_file(fd, path):
            return fd
    except BlockingIOError:
        os.close(fd)
        raise
    except OSError:
        pass
    os.close(fd)
    return None


def _take_or_refuse(key: Path) -> int | None:
    """:func:`_take` for :func:`own`: a mark held by a live run in another process is a DestinationError."""
    try:
        return _take(key)
    except BlockingIOError:
        raise DestinationError(
            f"run folder {key}: a run in another process is writing it ({LOCK_FILE} is held); choose another output_dir"
        ) from None


def _leftovers(folder: Path, names: tuple[str, ...], model: str) -> list[str] | None:
    """The entries of ``folder`` if each is a regular file a run writes (``names`` but ``model``, the mark, and
    the temporary copies of those and of ``model``); else None."""
    patterns = [LOCK_FILE, f"{LOCK_FILE}.*.part", *(name for name in names if name != model)]
    for name in names:
        patterns += [f".{name}.*part", f".{name}.*part{Path(name).suffix}"]
    try:
        entries = os.listdir(folder)
    except OSError:
        return None
    for name in entries:
        try:
            regular = stat.S_ISREG(os.lstat(folder / name).st_mode)
        except OSError:
            return None
        if not regular or name == model or not any(fnmatchcase(name, pattern) for pattern in patterns):
            return None
    return entries
