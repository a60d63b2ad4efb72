"""An exclusive OS lock on a file (``flock``): released by the kernel when its holder dies.

A ``kill -9`` in the middle of a push therefore never blocks the next writer, which
then cleans up what the dead one left behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def exclusive(path: Path, *, remove: bool = False) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) for the ``with`` block.

    ``remove``: delete ``path`` before releasing it, so it is there only while held (or left by a holder
    that died). Only for a file every holder locks while holding another lock first: else a second
    holder could wait on the file just removed while a third locks a new one.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        if remove:
            with contextlib.suppress(OSError):  # one left behind is only a file no one holds
                path.unlink()
        os.close(fd)  # closing the last descriptor releases the lock


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
