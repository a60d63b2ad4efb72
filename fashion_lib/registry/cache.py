"""The cache of fetched versions, ``<data dir>/packages/NAME__X/<short hash>``, as a stand-in for a registry
that cannot be reached.

A fetch into the cache ends by writing :data:`RECORD` into the copy (atomically, after every file is in
place): the version's manifest, its full top hash, the registry it came from and when. A copy holding one
was complete when it was written, so when the registry is unreachable (or its folder or bucket is gone) a
version can be served from it, once the manifest is proved against its top hash (quilt3's rule,
:func:`.manifest.parse`) and every file against the manifest. Copies without a record (fetched before
records existed, or half-written) are never used.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import IO

from .. import scratch, settings
from ..console import SHORT_HASH, short
from ..console import stderr as _stderr
from ..errors import (
    BucketNotFound,
    DestinationError,
    FashionError,
    IntegrityError,
    PackageNotFound,
    RegistryError,
    RegistryUnreachable,
)
from ..fsutil import atomic_path
from ..scratch import MKDTEMP_RANDOM
from . import manifest as mf
from .base import Registry
from .records import Fetched

RECORD = ".fashion-fetched.json"  # in the copy's folder; no logical key of ours starts with a dot


def _package_folder(name: str) -> Path:
    """The cache's folder for the versions of ``name``."""
    return settings.data_dir() / "packages" / name.replace("/", "__")


def folder(name: str, top_hash: str) -> Path:
    """The cache's folder for ``name@top_hash``; the package's folder is swept first (:func:`sweep`, this module's)."""
    sweep(name)
    return _package_folder(name) / short(top_hash)


def unwritable(exc: DestinationError) -> DestinationError:
    """``exc`` (a fetch into the cache could not write) saying that folder is the cache and naming the setting
    that places it: the culprit is the data folder chosen, not the fetch."""
    if os.environ.get("FASHION_DATA_DIR", "").strip():
        where, fix = "FASHION_DATA_DIR", "set it"
    else:
        where = "FASHION_HOME's data folder" if os.environ.get("FASHION_HOME", "").strip() else "the home folder's data"
        fix = "set FASHION_HOME or FASHION_DATA_DIR"
    return DestinationError(
        f"{exc} (the cache of fetched versions, in {where}, {settings.data_dir()}: {fix} to a folder you can write)"
    )


def sweep(name: str) -> None:
    """Remove the staging folders in the cache's folder for ``name`` (``.HASH.*.fetching``, any version's) that a
    fetch killed outright left (:func:`.download._sweep`'s rule): a live fetch's stay. Never raises."""
    from .download import STAGED

    with contextlib.suppress(OSError, FashionError):  # no cache, or a data folder setting that names none
        pattern = rf"\.[0-9a-f]{{{SHORT_HASH}}}\.{MKDTEMP_RANDOM}{re.escape(STAGED)}"
        scratch.sweep(_package_folder(name), pattern)


def keep(reg: Registry, found: mf.Manifest, dest: Path) -> None:
    """Record ``found`` in its complete copy ``dest``: left as it is when already there (a read-only cache
    is not written), else written atomically. A record that cannot be written only leaves the copy
    unusable offline, so that is no error."""
    if any(entry.key.split("/")[0] == RECORD for entry in found.entries):
        return
    target = dest / RECORD
    with contextlib.suppress(OSError, ValueError):
        if _load(target, found.name).top_hash == found.top_hash:
            return
    record = {
        "name": found.name,
        "top_hash": found.top_hash,
        "registry": reg.location,
        "fetched": datetime.now(UTC).isoformat(timespec="seconds"),
        "manifest": [found.header, *map(_line, found.entries)],
    }
    with contextlib.suppress(OSError), atomic_path(target) as tmp:
        tmp.write_text(json.dumps(record), encoding="utf-8")


def _line(entry: mf.Entry) -> dict:
    """A manifest line for ``entry``, as quilt3 writes one (the physical key is not hashed)."""
    key = entry.physical_key or f"objects/{entry.object_name}"
    hashed = {"type": entry.hash_type, "value": entry.hash_value}
    return {"logical_key": entry.key, "physical_keys": [key], "size": entry.size, "hash": hashed, "meta": entry.meta}


@dataclass(frozen=True)
class Copy:
    """A cached copy with a record; :meth:`verified` proves it."""

    path: Path
    name: str
    top_hash: str
    registry: str
    fetched: datetime
    lines: list

    @cached_property
    def manifest(self) -> mf.Manifest:
        """The recorded manifest, proved against the top hash (DamagedManifest if not); proved once."""
        data = "".join(json.dumps(line) + "\n" for line in self.lines).encode("utf-8")
        return mf.parse(data, self.name, self.top_hash)

    def damage(self) -> str | None:
        """Why this copy cannot stand in for its version, in words; None if manifest and files are intact."""
        from .download import _unchanged

        try:
            found = self.manifest
        except IntegrityError as exc:
            return f"its recorded manifest {getattr(exc, 'reason', 'does not match its top hash')}"
        bad = [e.key for e in found.entries if e.key not in _unchanged(self.path, found, refuse=False)]
        if bad:
            return f"{', '.join(bad)} {'differs' if len(bad) == 1 else 'differ'} from its manifest (changed or removed)"
        return None


def _load(path: Path, name: str) -> Copy:
    """The record at ``path`` (OSError, ValueError if unreadable or not one)."""
    record = json.loads(path.read_text(encoding="utf-8"))
    top_hash, lines = record.get("top_hash"), record.get("manifest")
    if record.get("name") != name or not isinstance(top_hash, str) or not mf.TOP_HASH.fullmatch(top_hash):
        raise ValueError("not a record of this package")
    if path.parent.name != short(top_hash) or not isinstance(lines, list):
        raise ValueError("not this folder's record")
    fetched = datetime.fromisoformat(str(record.get("fetched"))).astimezone(UTC)
    return Copy(path.parent, name, top_hash, str(record.get("registry")), fetched, lines)


def copies(name: str) -> list[Copy]:
    """The cached copies of ``name`` that hold a record, newest fetch first (killed fetches' leftovers swept)."""
    sweep(name)
    try:
        base = _package_folder(name)
        found = []
        for path in base.glob(f"*/{RECORD}"):
            with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
                found.append(_load(path, name))
    except (OSError, FashionError):  # no cache, or a data folder setting that names none
        return []
    return sorted(found, key=lambda c: c.fetched, reverse=True)


def unreachable(reg: Registry, exc: RegistryError) -> str | None:
    """Why ``reg`` did not answer (``exc`` being what it raised), in words; None where it answered."""
    if isinstance(exc, PackageNotFound):
        return "no such folder" if reg.missing() else None
    if isinstance(exc, BucketNotFound):
        return "the bucket does not exist"
    if isinstance(exc, RegistryUnreachable):
        return " ".join(str(exc.__context__ or "it did not answer").split())
    return None


def stand_in(reg: Registry, name: str, top_hash: str | None, exc: RegistryError) -> CachedVersion | None:
    """The cached copy of ``name`` (``top_hash``, a prefix unique among cached copies, or the newest fetched
    from ``reg``) to use while ``reg`` cannot be reached, verified; None where ``exc`` stands (the registry
    answered, or no copy). A damaged copy is ``exc`` with a word about the copy."""
    reason = unreachable(reg, exc)
    if reason is None:
        return None
    held = copies(name)
    if top_hash is None:
        held = [c for c in held if c.registry == reg.location][:1]
    else:
        held = [c for c in held if c.top_hash.startswith(top_hash.strip().lower())]
    if len(held) != 1:
        return None
    copy = held[0]
    damage = copy.damage()
    if damage:
        raise type(exc)(
            f"{exc}; the cached copy of {name}@{short(copy.top_hash)} ({copy.path}) cannot stand in: {damage}; "
            "fetch it again once the registry can be reached"
        ) from None
    where = reg.describe()
    what = where if "registry" in where else f"registry {where}"
    when = copy.fetched.strftime("%Y-%m-%d %H:%M UTC")
    latest = ", which may not be the latest version" if top_hash is None else ""
    note = f"note: {what} cannot be reached ({reason}); using {name}@{short(copy.top_hash)} from the cache, "
    return CachedVersion(copy, copy.manifest, f"{note}fetched {when}{latest}")


def manifest_or_stand_in(reg: Registry, name: str, top_hash: str | None) -> tuple[mf.Manifest, CachedVersion | None]:
    """The verified manifest of ``name@top_hash`` (the latest if None) from ``reg``, or, where ``reg`` cannot
    be reached, from the cached copy that stands in for it (:func:`stand_in`), with that copy."""
    try:
        return reg.manifest(name, reg.resolve(name, top_hash)), None
    except RegistryError as exc:
        found = stand_in(reg, name, top_hash, exc)
        if found is None:
            raise
        return found.found, found


@dataclass(frozen=True)
class CachedVersion:
    """A verified cached copy and the note its use prints."""

    copy: Copy
    found: mf.Manifest
    note: str

    def use(self, dest: Path | None = None, *, overwrite: bool = True) -> Fetched:
        """Say so on stderr; the copy itself, or (``dest``) a fetch of it into ``dest`` with
        :func:`.download.fetch`'s checks (all files or none, ``overwrite``)."""
        from .download import fetch

        _stderr(self.note)
        found, path = self.found, self.copy.path
        if dest is None or Path(dest).absolute() == path.absolute():
            files = {e.key: path / e.key for e in found.entries}
            return Fetched(found.name, found.top_hash, found.meta, found.message, files, path)
        return fetch(_CopyStore(path, found), found.name, Path(dest), found.top_hash, overwrite=overwrite)


class _CopyStore(Registry):
    """A cached copy read as a registry holding its one version (the source of a fetch into a folder)."""

    def __init__(self, path: Path, found: mf.Manifest) -> None:
        self.root = path  # download refuses a destination inside it
        self.location = str(path)
        self.found = found

    def describe(self) -> str:
        return f"the cached copy {settings.display_path(self.root)}"

    def resolve(self, name: str, top_hash: str | None = None) -> str:
        return self.found.top_hash

    def manifest(self, name: str, top_hash: str) -> mf.Manifest:
        return self.found

    def object_size(self, entry: mf.Entry) -> int | None:
        path = self.root / entry.key
        return path.stat().st_size if path.is_file() and not path.is_symlink() else None

    def physical_key(self, name: str) -> str:
        """Where the version's manifest says object ``name`` is (a copy keeps its files by their logical keys)."""
        return next((e.physical_key or "" for e in self.found.entries if e.object_name == name), "")

    @contextlib.contextmanager
    def open_object(self, entry: mf.Entry) -> Iterator[IO[bytes]]:
        with open(self.root / entry.key, "rb") as fh:
            yield fh

    @contextlib.contextmanager
    def errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            raise IntegrityError(f"{doing}: {self.describe()}: {exc.strerror or exc}") from None
