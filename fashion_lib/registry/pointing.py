"""A push's version pointers: a new second pointed at its top hash, then ``latest``.

Local writers are serialised by an OS lock. On S3, where no lock reaches, each pointer is read
back after a short random pause and moved to a free earlier second if another writer took the
same one (a bounded number of times), so every version a push printed stays listed; ``latest`` then
goes to the newest version listed, checked the same way, so the writer that finishes last never points
it back at an older version a racing writer superseded.

Ctrl-C (or SIGTERM, where a Python handler takes it: the CLI's) while the two are written waits until
both are (:class:`Interrupted` then names the version published), so ``latest`` never stays behind the
newest version; one that does (a push killed between the two) is pointed at it again by the next push of
that version.
"""

from __future__ import annotations

import contextlib
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from types import FrameType
from typing import Any

from ..console import short
from ..errors import RegistryError
from .base import POINTERS, Registry
from .stamps import next_stamp

POINTER_ATTEMPTS = 20


class Interrupted(KeyboardInterrupt):
    """Ctrl-C after a push wrote its version pointers: the version is published, and the message says which."""


def interrupted_after(name: str, top_hash: str, latest: str | None = None) -> Interrupted:
    """The interrupt after ``name@top_hash`` was published; ``latest``: the version the push left ``latest``
    naming, where a racing writer's newer one took it (S3), else this one."""
    if latest and latest != top_hash:
        where = f"latest names {short(latest)}, a newer version another writer pushed meanwhile"
    else:
        where = "it is the latest version"
    return Interrupted(f"{name}@{top_hash} was published before the push stopped ({where})")


def latest_behind(reg: Registry, name: str, top_hash: str, pointers: Mapping[str, str]) -> bool:
    """``top_hash`` is the newest version of ``name``, but ``latest`` names another (a push stopped between
    the two, or writers racing on S3)."""
    versions = reg.versions(name, dict(pointers))
    return bool(versions) and versions[0][1] == top_hash and pointers.get("latest") != top_hash


def fix_latest(reg: Registry, name: str, top_hash: str, pointers: Mapping[str, str]) -> bool:
    """Point ``latest`` at ``top_hash`` where it is the newest version of ``name`` (:func:`latest_behind`);
    whether it did."""
    if not latest_behind(reg, name, top_hash, pointers):
        return False
    reg.write(f"{POINTERS}/{name}/latest", top_hash.encode())
    return True


def point(reg: Registry, name: str, top_hash: str) -> str:
    """Point a new second at ``top_hash``, then ``latest``: this second, or one after every version
    already listed, so a burst of pushes within one second keeps its order (their stamps run a few
    seconds ahead of the clock instead).

    Where writers are not serialised (S3), two of them may pick the same second: the writer checks
    after a short random pause that its version is still listed, re-pointing it to a free earlier
    second if it was lost, until two checks in a row find it (a bounded number of times); ``latest`` then goes
    to the newest version listed, checked the same way (:func:`_settled`), so the writer that finishes last
    never points it back at an older version a racing writer superseded.

    Returns the version ``latest`` names when it is done: ``top_hash``, or a racing writer's newer one.
    Ctrl-C (or SIGTERM, in the CLI) waits until both are written, then raises :class:`Interrupted`, naming
    the version published (and the newer one ``latest`` names, if any). If writing them fails instead,
    that error is raised and the held signal is dropped: the command stops either way, and the error is
    the line that says what state the pointers were left in (the interrupt would only say that it stopped).
    """
    latest = top_hash
    with _interrupts_held() as held:
        taken = reg.pointers(name)
        stamp = next_stamp(reg, name, taken)
        reg.write(f"{POINTERS}/{name}/{stamp}", top_hash.encode())

        def listed(taken: Mapping[str, str]) -> bool:  # else re-pointed to a free earlier second
            if top_hash in {v for k, v in taken.items() if k.isdigit()}:
                return True
            reg.write(f"{POINTERS}/{name}/{_free_before(taken, stamp)}", top_hash.encode())
            return False

        def latest_is_newest(taken: Mapping[str, str]) -> bool:  # else pointed at the newest listed
            nonlocal latest
            newest = latest = ([h for _, h in reg.versions(name, dict(taken))] or [top_hash])[0]
            if taken.get("latest") == newest:
                return True
            reg.write(f"{POINTERS}/{name}/latest", newest.encode())
            return False

        if reg.pointers_need_checking and not _settled(reg, name, listed):
            raise RegistryError(
                f"publishing {name}@{short(top_hash)}: other writers kept replacing its version "
                f"pointer in {reg.describe()}; publish again"
            )
        reg.write(f"{POINTERS}/{name}/latest", top_hash.encode())
        if reg.pointers_need_checking:  # a racing writer may have taken a later second: latest goes to it
            _settled(reg, name, latest_is_newest)  # still behind after that: verify notes it
    try:
        held.deliver()
    except KeyboardInterrupt:
        raise interrupted_after(name, top_hash, latest) from None
    return latest


def _settled(reg: Registry, name: str, holds: Callable[[Mapping[str, str]], bool]) -> bool:
    """Where writers are not serialised (S3): read ``name``'s pointers after a short random pause (so writers
    racing this one land) until ``holds`` finds them right at two reads in a row, a bounded number of times
    (``holds`` mends what it finds wrong); whether it did."""
    confirmed = 0
    for _ in range(POINTER_ATTEMPTS):
        time.sleep(random.uniform(0.05, 0.3))
        confirmed = confirmed + 1 if holds(reg.pointers(name)) else 0
        if confirmed == 2:
            return True
    return False


_HELD = (signal.SIGINT, signal.SIGTERM)  # Ctrl-C, and SIGTERM where a Python handler takes it (the CLI's)


class _Held:
    """Ctrl-C (SIGINT) or SIGTERM held back while a block runs, then delivered to the handler it was meant for."""

    def __init__(self) -> None:
        self.caught: list[tuple[int, FrameType | None]] = []
        self.handlers: dict[int, Any] = {}

    def deliver(self) -> None:
        if self.caught:
            signum, frame = self.caught[0]
            self.handlers[signum](signum, frame)  # Python's own raises KeyboardInterrupt


@contextlib.contextmanager
def _interrupts_held() -> Iterator[_Held]:
    """Ctrl-C and SIGTERM inside the block are held until :meth:`_Held.deliver`. Only those with a Python
    handler in place, in the main thread (elsewhere, as in a thread or for a signal ignored or left to its
    default action, nothing changes)."""
    held = _Held()
    if threading.current_thread() is threading.main_thread():
        for signum in _HELD:
            if callable(signal.getsignal(signum)):
                held.handlers[signum] = signal.signal(signum, lambda signum, frame: held.caught.append((signum, frame)))
    try:
        yield held
    finally:
        for signum, handler in held.handlers.items():
            signal.signal(signum, handler)


def _free_before(taken: Mapping[str, str], stamp: int) -> int:
    earlier = stamp - 1
    while str(earlier) in taken:
        earlier -= 1
    return earlier
