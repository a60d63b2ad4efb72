"""The :class:`Storage` every registry is: the bytes of a store and how its failures read.

Subclasses (:class:`~.local.LocalRegistry`, :class:`~.s3.S3Registry`) implement these primitives and
only move bytes: read, write (atomically), list, and locate objects by hash. What those bytes mean is
:class:`~.base.Registry`'s, built on them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO

from . import manifest as mf
from .records import StoredObject

REMOVE_BATCH = 1000  # S3 DeleteObjects takes at most 1,000 keys a request


class Storage:
    """A registry's store of keys and objects, and its identity (its location); see :class:`~.base.Registry`."""

    location: str  # an absolute folder path or s3://bucket
    named_by = ""  # what named it, where the command line opened it: "--registry" or "FASHION_REGISTRY"

    def read(self, key: str, limit: int) -> bytes | None:
        """The bytes at ``key`` (at most ``limit``), or None if there is nothing there."""
        raise NotImplementedError

    def write(self, key: str, data: bytes) -> None:
        """Replace ``key`` with ``data`` in one step: readers see the old bytes or the new."""
        raise NotImplementedError

    def list_keys(self, prefix: str) -> list[str]:
        """Keys under ``prefix`` (a folder), relative to it."""
        raise NotImplementedError

    def object_size(self, entry: mf.Entry) -> int | None:
        """Size of the store's object for ``entry``, None if the store has none."""
        raise NotImplementedError

    def open_object(self, entry: mf.Entry) -> contextlib.AbstractContextManager[IO[bytes]]:
        """A binary stream of the store's object for ``entry`` (never its physical key)."""
        raise NotImplementedError

    def store_object(self, entry: mf.Entry, source: Path) -> bool:
        """Copy ``source`` into the store as ``entry``'s object, atomically.

        Returns True if the bytes stored were checked against ``entry``'s hash on the way in.
        """
        raise NotImplementedError

    def discard_object(self, entry: mf.Entry) -> None:
        """Remove ``entry``'s object that a failed push stored and no manifest names (with the
        writing lock held). Where no lock serialises writers (S3), another writer may be storing
        the same object at this moment, so the object stays: a later push reuses it."""

    def list_objects(self) -> list[StoredObject]:
        """Every object in the store (``objects/<hex>``), named by a manifest or not."""
        raise NotImplementedError

    def object_links(self, names: Iterable[str] | None = None) -> dict[str, str]:
        """Of the objects ``names`` (else every one), those the store holds as symbolic links (a folder copied with
        ``cp -rs``, or by a dedup tool), each to what it links to: never read, counted or removed as objects."""
        return {}

    def remove_objects(self, names: Sequence[str]) -> None:
        """Delete these objects from the store (``fashion packages gc --delete`` only); at most
        :data:`REMOVE_BATCH` names, which S3 removes in one request."""
        raise NotImplementedError

    def same_bytes(self, entry: mf.Entry, source: Path) -> bool:
        """True if the store's object for ``entry`` surely holds ``source``'s bytes without reading it
        back (S3: its ETag); False means "read it back and hash it"."""
        return False

    def object_version(self, entry: mf.Entry) -> str | None:
        """The version of its object ``entry`` pins, where the store keeps versions (S3), else None."""

    def foreign_key(self, entry: mf.Entry) -> str | None:
        """Where stock quilt3 pushed ``entry`` in this registry (S3), read when the store has no object of it."""

    def pin_gone(self, entry: mf.Entry) -> bool:
        """Whether a read of ``entry``'s object found the version its manifest pins gone and read the current one
        (S3: a bucket moved or restored); never where the store keeps no versions."""
        return False

    def key_elsewhere(self, entry: mf.Entry) -> bool:
        """Whether ``entry``'s physical key names a place outside this store where stock quilt3 would look (S3: a
        ``file://`` path of a local registry synced into the bucket)."""
        return False

    def read_key(self, entry: mf.Entry) -> str | None:
        """The physical key of the object version a read of ``entry`` got in place of its own (S3), else None."""
        return None

    def physical_key(self, name: str) -> str:
        """The physical key written into manifests for object ``name`` (for stock quilt3)."""
        raise NotImplementedError

    @contextlib.contextmanager
    def writing(self, clean: bool = True) -> Iterator[None]:
        """Held while publishing; local registries take an OS lock and (``clean``) remove dead writers' leftovers."""
        yield

    def temporary_leftovers(self) -> list:
        """What :meth:`clean_temporary` would remove now (only a look: live writers may own some)."""
        return []

    def clean_temporary(self) -> list:
        """Remove what dead writers left behind (with the writing lock held); returns what went."""
        return []

    def errors(self, doing: str) -> contextlib.AbstractContextManager[None]:
        """Turn the store's failures into one-line RegistryErrors of the right kind."""
        return contextlib.nullcontext()

    pointers_need_checking = False  # True where no lock serialises writers (S3)

    def describe(self) -> str:
        return self.location

    def where(self, key: str) -> str:
        """``key`` as a person finds it (``REG/key``)."""
        return f"{self.location}/{key}"

    def missing(self) -> bool:
        """Whether the registry is not there at all (a local folder not created yet, or mistyped)."""
        return False

    def __str__(self) -> str:
        return self.location

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.location!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Storage) and other.location == self.location

    def __hash__(self) -> int:
        return hash(self.location)


def links_in(folder: Path, names: Iterable[str] | None = None) -> dict[str, str]:
    """The symbolic links named like an object in ``folder`` (of ``names``, else all), each to what it links to."""
    if names is None:
        names = sorted(os.listdir(folder)) if folder.is_dir() else []
    links = {}
    for name in names:
        if mf.OBJECT_NAME.fullmatch(name):
            with contextlib.suppress(OSError):  # not there, or not a link
                links[name] = os.readlink(folder / name)
    return links


def files_under(folder: Path, walked: set[tuple[int, int]], prefix: str = "") -> Iterator[str]:
    """``prefix`` + the path of every file under ``folder``, through links to folders; ``walked``: the folders
    above it (device, inode), so a link back to one is not followed round. A folder below ``folder`` that is gone
    by the time it is entered was removed while listed (a writer's probe folder, a ``gc``): it held nothing to
    list. Before, a reader listing versions while a push probed its pointers folder failed (CI, stop 26)."""
    try:
        with os.scandir(folder) as found:
            entries = list(found)
    except (FileNotFoundError, NotADirectoryError):
        if not prefix:
            raise
        return
    for entry in entries:
        try:
            info = entry.stat() if entry.is_dir() else None
        except FileNotFoundError:  # removed since listed
            continue
        if info is not None:
            if (info.st_dev, info.st_ino) not in walked:  # a link back to a folder above: a loop
                inner = walked | {(info.st_dev, info.st_ino)}
                yield from files_under(Path(entry.path), inner, f"{prefix}{entry.name}/")
        elif entry.is_file():
            yield prefix + entry.name


def status_of(path: Path) -> os.stat_result | None:
    """``path``'s own status; None if it is gone since its folder was listed (``gc --delete`` removed it: before, a
    verify or gc dry run listing the objects at that moment failed, "No such file or directory")."""
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
