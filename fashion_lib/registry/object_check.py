"""Check one object of a registry's store against its manifest entry: there, of its size, holding its bytes
(read never past its declared size), else :class:`DamagedObject` saying how. Fetch, push and verify ask it.

On S3 an entry whose pinned object version is gone is read from the current object (:meth:`.Storage.pin_gone`):
hashed like any, and where it does not hold the entry's bytes the entry has no object, as before."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import IO

from .. import hashing
from ..console import short
from ..errors import IntegrityError
from . import manifest as mf
from .base import OBJECTS, Registry

BLOCK = 1 << 20


class DamagedObject(IntegrityError):
    """The store's object for an entry is missing or does not hold its bytes; ``why`` says how, alone."""

    def __init__(self, reg: Registry, entry: mf.Entry, label: str, why: str, hint: str | None = None) -> None:
        self.why = why  # "does not match its hash": completes "<key> in <version> ..."
        self.hint = hint  # what to do, where it is not "republish" (a file kept outside the registry)
        where = f" in {label}" if label else ""
        super().__init__(
            f"{entry.key}{where} {why} in {reg.describe()}: "
            + (
                hint
                or "the registry's copy is missing, corrupted or was overwritten after publishing; republish the "
                "package or fetch another version"
            )
        )


def kept_outside(reg: Registry, entry: mf.Entry) -> str | None:
    """Where ``entry``'s manifest keeps its file outside the registry (stock quilt3's ``Package.build`` leaves
    files where they were: ``file:///...``; another bucket, another key), which fashion never reads; None for
    an object of the store (``objects/<hex>``, wherever the registry was) or where quilt3 pushed it here."""
    physical = entry.physical_key or ""
    if not physical or reg.foreign_key(entry) or physical.split("?")[0].endswith(f"/objects/{entry.object_name}"):
        return None
    return physical


def outside_error(reg: Registry, entry: mf.Entry, label: str, physical: str) -> DamagedObject:
    return DamagedObject(
        reg,
        entry,
        label,
        f"is kept by its manifest at {physical}, not in the registry's object store",
        "fashion reads a version's files only from its registry (objects/<hex>, or on S3 <owner>/<name>/<file>, "
        "where stock quilt3's Package.push puts them), and stock quilt3's Package.build leaves them where they "
        "were; publish it with fashion (data push, model push), or push it with quilt3 to an S3 registry",
    )


def linked_error(reg: Registry, entry: mf.Entry, label: str, target: str) -> DamagedObject:
    """The store's object is a symbolic link (a registry copied with ``cp -rs``), which is never followed."""
    return DamagedObject(
        reg,
        entry,
        label,
        f"is stored as a symbolic link, {OBJECTS}/{entry.object_name} (to {target}),",
        "fashion reads only regular files from a registry's store, never a link; copy a registry with 'cp -r' or "
        "'cp -a', not 'cp -rs', or replace the link with a copy of its file, or republish the package",
    )


def no_object(reg: Registry, entry: mf.Entry, label: str) -> DamagedObject:
    """The store has none; its manifest's ``objects/<hex>`` in another store (copied from there?) is named."""
    version, foreign, physical = reg.object_version(entry), reg.foreign_key(entry), entry.physical_key or ""
    elsewhere = not foreign and physical.split("?")[0] not in ("", reg.physical_key(entry.object_name).split("?")[0])
    why = f"has no object {short(entry.object_name)}" + (f" version {version}" if version else "")
    return DamagedObject(
        reg,
        entry,
        label,
        why + (f", nor is it at {foreign} (where its manifest says quilt3 pushed it)," if foreign else ""),
        f"its manifest names {physical}, not this registry's store (fashion reads a version's files only from "
        "its own registry); copy the object from there, republish the package or fetch another version"
        if elsewhere
        else None,
    )


def gone_pin(reg: Registry, entry: mf.Entry, label: str) -> DamagedObject:
    """A pinned object version that is gone while the current object holds the entry's bytes (hashed): fashion reads
    it, stock quilt3 reads only the pinned version; ``verify --repair`` pins the current one."""
    return DamagedObject(
        reg,
        entry,
        label,
        f"has no object {short(entry.object_name)} version {reg.object_version(entry)} (the version its manifest "
        "pins, the only one stock quilt3 reads)",
        f"the current {OBJECTS}/{short(entry.object_name)} holds its bytes (hash-checked) and fashion reads it; "
        "'fashion packages verify --repair' pins that version instead",
    )


def wrong_size(reg: Registry, entry: mf.Entry, label: str, size: int, hint: str | None = None) -> DamagedObject:
    """The one sentence for a stored object of another size than its entry says: a fetch refuses it before
    reading a byte (``hint``: its own advice), :func:`check_object` (verify, push) as it is about to read it."""
    return DamagedObject(reg, entry, label, f"is stored as {size} bytes, not the {entry.size} its manifest says,", hint)


def absent(reg: Registry, entry: mf.Entry, label: str, doing: str) -> tuple[int | None, DamagedObject | None]:
    """``entry``'s stored size, or None with the error that says why there is no object: kept outside the
    store by its manifest, a symbolic link, or missing. Every lookup (the size; on S3 where quilt3 would have pushed it) is
    inside ``reg.errors(doing)``: a timeout or refusal there is its one line, never a traceback."""
    with reg.errors(doing):
        size = reg.object_size(entry)
        if size is not None:
            return size, None
        if physical := kept_outside(reg, entry):
            return None, outside_error(reg, entry, label, physical)
        if (target := reg.object_links([entry.object_name]).get(entry.object_name)) is not None:
            return None, linked_error(reg, entry, label, target)
        return None, no_object(reg, entry, label)


def check_object(reg: Registry, entry: mf.Entry, label: str, sink: Callable[[bytes], object] | None = None) -> None:
    """Read ``entry``'s object (at most its declared size), hash it, refuse a mismatch (:class:`DamagedObject`);
    ``sink`` gets every block (a fetch writes them to its staging file in the same pass)."""
    doing = f"reading {entry.key}{f' in {label}' if label else ''}"
    try:
        _check(reg, entry, label, sink, doing)
    except DamagedObject:
        if not reg.pin_gone(entry):
            raise
        with reg.errors(doing):  # the pinned version is gone, and the current object does not hold the bytes
            raise no_object(reg, entry, label) from None


def _check(reg: Registry, entry: mf.Entry, label: str, sink: Callable[[bytes], object] | None, doing: str) -> None:
    def bad(why: str) -> DamagedObject:
        return DamagedObject(reg, entry, label, why)

    size, missing = absent(reg, entry, label, doing)  # S3 refusing (expired token, 403, 500): its line, not a bug
    if missing is not None:
        raise missing
    if size != entry.size:
        raise wrong_size(reg, entry, label, size)
    hasher = hashing.StreamHasher(entry.hash_type, entry.size)
    left = entry.size
    with reg.errors(doing), contextlib.ExitStack() as opened:
        try:
            stream = opened.enter_context(reg.open_object(entry))
        except FileNotFoundError:  # gone since its size was read: S3's GET says so as its HEAD would
            raise no_object(reg, entry, label) from None
        while left:
            block = _read(stream, min(BLOCK, left))
            if not block:
                raise bad(f"ended after {entry.size - left} bytes, not the {entry.size} its manifest says,")
            left -= len(block)
            hasher.update(block)
            if sink is not None:
                sink(block)
        if _read(stream, 1):
            raise bad(f"is longer than the {entry.size} bytes its manifest says,")
    value = hasher.value()
    if value is None:
        raise bad(f"has a hash type fashion cannot check ({entry.hash_type})")
    if value != entry.hash_value:
        raise bad("does not match its hash")


def _read(stream: IO[bytes], n: int) -> bytes:
    return stream.read(n) or b""
