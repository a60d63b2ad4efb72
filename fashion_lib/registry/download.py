"""Fetch a version into a folder: all of it, checked, or nothing.

Every object is located by its hash in the registry's own store (refused before anything
is read if one is missing or of the wrong size), copied into a hidden staging folder inside
the destination (beside it, where it does not exist yet) while it is hashed, and only when
every file matches are the files moved into place; the staging folder is then removed. Into
an existing folder, files being replaced are set aside first and put back if any move
fails, so the folder never holds a mix of old and new. Files the folder already holds with
the version's bytes (hashed) stay as they are: a complete copy is only read, so a read-only
cache serves as well as a writable one. Files whose pinned object versions an S3 registry no longer has are
read from its current objects, hashed like any, and the fetch says so in one note.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..console import stderr
from ..errors import DestinationError
from ..fsutil import access_denied, looked_up, make_public, why_failed
from ..hashing import file_hash
from ..scratch import MKDTEMP_RANDOM, held, sweep
from ..scratch import STALE_S as STALE_S  # a staging folder's age, swept
from . import manifest as mf
from .base import Registry
from .object_check import absent, check_object, no_object, wrong_size
from .records import Fetched

STAGED = ".fetching"  # the end of a staging folder's name: ``DEST/.fashion-*.fetching`` or ``.DEST.*.fetching``


def fetch(
    reg: Registry,
    name: str,
    dest: Path,
    top_hash: str | None = None,
    *,
    overwrite: bool = True,
    found: mf.Manifest | None = None,
) -> Fetched:
    """Download a version into ``dest`` after checking every file against the verified manifest
    (``found``, where the caller already read it for this version).

    Files already in ``dest`` with the version's bytes (hashed) are not fetched again, so a
    complete ``dest`` is not written to at all (it may be read-only). ``overwrite=False``: refuse
    (DestinationError) if ``dest`` holds a file of the same name with other bytes."""
    resolved = reg.resolve(name, top_hash) if found is None else found.top_hash
    found = found or reg.manifest(name, resolved)
    _check_located(reg, found)
    dest = Path(dest).expanduser().absolute()
    _check_dest(dest, found)
    _check_outside(reg, dest, found)
    _sweep(dest)  # also when nothing is staged: a killed fetch's leftovers beside a complete copy go too
    same = _unchanged(dest, found, refuse=not overwrite)
    wanted = [entry for entry in found.entries if entry.key not in same]
    fetched = Fetched(name, resolved, found.meta, found.message, {e.key: dest / e.key for e in found.entries}, dest)
    if not wanted:
        return fetched
    with contextlib.ExitStack() as held_open:
        with _dest_errors(dest):
            staging = held_open.enter_context(held(lambda: _stage(dest)))  # removed on leaving
        for entry in wanted:
            target = staging / "new" / entry.key
            with _dest_errors(dest):
                target.parent.mkdir(parents=True, exist_ok=True)
                fh = open(target, "wb")
            try:
                check_object(reg, entry, found.label, sink=lambda block, fh=fh: _write(fh, block, dest))
                with _dest_errors(dest):
                    fh.close()  # flushes: a full disk can show only here
            finally:
                with contextlib.suppress(OSError):
                    fh.close()  # after a failure (already named): the staged copy is thrown away
            make_public(target)
        _move_into_place(staging, dest, [e.key for e in wanted], lambda: _unchanged(dest, found, refuse=not overwrite))
    if unpinned := sum(reg.pin_gone(entry) for entry in wanted):
        stderr(
            f"note: {unpinned} file(s) of {found.label} pin object versions {reg.describe()} no longer has; read "
            "from its current objects (same bytes, hash-checked); 'fashion packages verify --repair' pins them again"
        )
    return fetched


def _stage(dest: Path) -> Path:
    """A new hidden staging folder (``new/`` in it to fill) on the filesystem the files will be placed on:
    inside an existing ``dest`` (its parent may be unwritable, or another filesystem where ``dest`` is a
    mount point), else beside it, to be renamed into place whole."""
    if dest.is_dir():
        staging = Path(tempfile.mkdtemp(prefix=".fashion-", suffix=STAGED, dir=dest))
    else:
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=STAGED, dir=dest.parent))
    make_public(staging, directory=True)
    (staging / "new").mkdir()
    return staging


def _sweep(dest: Path) -> None:
    """Remove the staging folders of ``dest`` (inside it and beside it, named exactly as :func:`_stage` names
    them) that a fetch killed outright (SIGKILL, the OOM killer) left, at once; a live fetch's stay
    (:func:`.scratch.sweep`). One an older fashion made, without a lock file, goes once nothing was written
    in it for :data:`STALE_S`."""
    sweep(dest, rf"\.fashion-{MKDTEMP_RANDOM}{re.escape(STAGED)}")
    sweep(dest.parent, rf"\.{re.escape(dest.name)}\.{MKDTEMP_RANDOM}{re.escape(STAGED)}")


def _staged(path: Path, dest: Path) -> bool:
    """Whether ``path`` lies in a staging folder of ``dest`` (a name that means nothing to a reader)."""
    for base in (dest, dest.parent):
        if base in path.parents:
            top = path.relative_to(base).parts[0]
            if top.startswith(".") and top.endswith(STAGED):
                return True
    return False


def _write(fh, block: bytes, dest: Path) -> None:
    with _dest_errors(dest):
        fh.write(block)


def _check_located(reg: Registry, found: mf.Manifest) -> None:
    """Refuse, before reading a byte, any entry the store has no object of the right size for."""
    for entry in found.entries:
        size, missing = absent(reg, entry, found.label, f"fetching {found.label}")
        if missing is not None:
            raise missing  # as verify says it
        if size != entry.size and reg.pin_gone(entry):  # the pinned version is gone, the current one is no good
            with reg.errors(f"fetching {found.label}"):
                raise no_object(reg, entry, found.label)
        if size != entry.size:
            raise wrong_size(
                reg,
                entry,
                found.label,
                size,
                "the registry is incomplete or damaged: republish the package or fetch another version",
            )


def _check_dest(dest: Path, found: mf.Manifest) -> None:
    """Name the file in ``dest`` that would stop a file from being placed, before fetching anything."""
    try:
        os.stat(dest)
    except (FileNotFoundError, NotADirectoryError):
        pass
    except OSError as exc:  # a name too long, a loop of symbolic links
        raise DestinationError(f"cannot fetch {found.label} into {dest}: the path {looked_up(exc)}") from None
    if dest.exists() and not dest.is_dir():
        raise DestinationError(f"cannot fetch {found.label} into {dest}: it is a file, not a folder")
    for entry in found.entries:
        target = dest / entry.key
        for parent in list(target.parents)[::-1]:
            if parent in dest.parents or parent == dest.parent:
                continue
            if parent.exists() and not parent.is_dir():
                raise DestinationError(f"cannot fetch {entry.key} into {dest}: {parent} is a file, not a folder")
        if target.is_dir():
            raise DestinationError(f"cannot fetch {entry.key} into {dest}: {target} is a folder")


def _check_outside(reg: Registry, dest: Path, found: mf.Manifest) -> None:
    """Refuse a destination in a local registry's own folder (its store and manifests live there)."""
    root = getattr(reg, "root", None)
    if root is None:
        return
    real_root, real_dest = Path(os.path.realpath(root)), Path(os.path.realpath(dest))
    if real_dest == real_root or real_root in real_dest.parents:
        raise DestinationError(
            f"cannot fetch {found.label} into {dest}: it is inside the registry folder {root}; "
            "choose a destination outside it"
        )


def _unchanged(dest: Path, found: mf.Manifest, *, refuse: bool) -> set[str]:
    """The keys whose file in ``dest`` already holds the version's bytes; with ``refuse``, DestinationError
    naming the files there that differ (nothing is replaced without ``overwrite``)."""
    same, differ = set(), []
    for entry in found.entries:
        target = dest / entry.key
        if not os.path.lexists(target):
            continue
        try:
            identical = (
                target.is_file()
                and target.stat().st_size == entry.size
                and file_hash(target, entry.hash_type) == entry.hash_value
            )
        except (OSError, ValueError):  # unreadable, or a hash type we cannot compute: not known to match
            identical = False
        if identical:
            same.add(entry.key)
        else:
            differ.append(entry.key)
    if differ and refuse:
        them = "it" if len(differ) == 1 else "them"
        raise DestinationError(
            f"cannot fetch {found.label} into {dest}: it already holds {', '.join(differ)} with other content; "
            f"pass --overwrite to replace {them}, or choose another --dest"
        )
    return same


class _dest_errors:
    """OSErrors while writing the destination name the destination, not the registry."""

    def __init__(self, dest: Path) -> None:
        self.dest = dest

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> bool:
        if isinstance(exc, OSError):
            why = why_failed(exc)
            named = Path(exc.filename) if exc.filename else self.dest
            file = "" if named == self.dest or _staged(named, self.dest) else f" ({named})"
            if access_denied(exc) and not os.path.lexists(self.dest):
                above = next((p for p in self.dest.parents if os.path.lexists(p)), self.dest.parent)
                file = f" in {above}, where it would be made"  # the folder that refused is the one above
            raise DestinationError(f"cannot write into {self.dest}: {why}{file}; nothing was changed there") from None
        return False


def _move_into_place(staging: Path, dest: Path, keys: list[str], unchanged: Callable[[], set[str]]) -> dict[str, Path]:
    """Rename the staged folder to ``dest``; into an existing ``dest``, replace all files or none. Another fetch
    into the same folder (two into one cache) may place its copy, or set a file aside, at the same moment. A
    ``dest`` made since it was looked at is looked at again (``unchanged``: the keys already holding the
    version's bytes, refusing other bytes where the fetch may not overwrite), and only the other files are
    replaced, one by one; a file gone since it was seen is no file to set aside. Before, either failed the
    fetch ('Directory not empty', 'No such file or directory'); review 95: without that second look, two
    fetches of two versions into one new ``--dest`` both succeeded and left a mix."""
    new, old = staging / "new", staging / "old"
    with _dest_errors(dest):
        if not dest.exists():
            try:
                os.replace(new, dest)
                return {key: dest / key for key in keys}
            except OSError as exc:  # another fetch's copy placed since
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST) or not dest.is_dir():
                    raise
            same = unchanged()
            keys = [key for key in keys if key not in same]
    moved: list[tuple[str, bool]] = []  # (key, had an old file)
    try:
        for key in keys:
            target = dest / key
            had = target.exists()
            if had:
                (old / key).parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.replace(target, old / key)
                except FileNotFoundError:  # another fetch set it aside meanwhile
                    had = False
            moved.append((key, had))
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(new / key, target)
    except OSError as exc:
        for key, had in reversed(moved):  # put everything back as it was
            with contextlib.suppress(OSError):
                if (dest / key).exists() and not (new / key).exists():
                    os.replace(dest / key, new / key)
                if had:
                    os.replace(old / key, dest / key)
        with _dest_errors(dest):
            raise exc
    return {key: dest / key for key in keys}
