"""A registry in a folder: found wherever the folder is now (moved, copied, mounted).

Objects are read from ``<folder>/objects/<hex>`` only, and only if that is a regular
file (no links, devices or FIFOs); ``objects`` itself may be a link to another disk.
Writers hold ``<folder>/.fashion.lock``, and a push also ``<folder>/.fashion-push.lock`` (there only
while one is held); their temporary files live in ``<folder>/.fashion-tmp``
(objects': hidden ``objects/.<hex>.*`` files) and are renamed into place, and the next writer
removes what a dead one left there.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO

from .. import hashing, settings
from ..errors import FashionError, IntegrityError, RegistryAccessDenied, RegistryError
from ..fsutil import access_denied, disk_full, make_folders, make_public, shared_folder
from . import lock, lost
from . import manifest as mf
from .base import OBJECTS, PACKAGES, POINTERS, Registry
from .layout import TMP as TMP  # re-exported: check.py and tests take it from here
from .records import PackageVersion, StoredObject
from .storage import files_under, links_in, status_of

LOCK = ".fashion.lock"
PUSH_LOCK = ".fashion-push.lock"  # held, with LOCK, by a push only: lost.writer_active asks about it

COPY_BLOCK = 1 << 20


class LocalRegistry(Registry):
    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.root = Path(folder).expanduser().absolute()
        self.push_lock = self.root / PUSH_LOCK  # held by a push only: lost.writer_active asks about it
        self.location = str(self.root)
        if (outer := _registry_around(self.root)) is not None:
            raise RegistryError(
                f"{self.describe()} is inside a registry, not one (its {self.root.relative_to(outer)} folder); "
                f"give the registry folder itself, {settings.display_path(outer)}, instead "
                "(--registry or FASHION_REGISTRY)"
            )
        if why := _not_a_folder(self.root):
            raise RegistryError(
                f"{self.describe()} {why}; give a registry folder (--registry or FASHION_REGISTRY), "
                "or an S3 bucket as s3://BUCKET"
            )

    def describe(self) -> str:
        return f"local registry {settings.display_path(self.root)}"

    def where(self, key: str) -> str:
        return settings.display_path(self.root / key)

    def missing(self) -> bool:
        return not os.path.lexists(self.root)

    @contextlib.contextmanager
    def errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except FashionError:
            raise
        except OSError as exc:
            where = f"{doing}: {self.describe()}"
            file = f" ({exc.filename})" if exc.filename else ""  # a failed write() names no file
            if isinstance(exc, lock.LockDenied):  # the one file in the way, not the whole registry
                raise RegistryAccessDenied(f"{where}: {exc.reason()}") from None
            if access_denied(exc):
                raise _denied(where, exc) from None
            if disk_full(exc):
                raise RegistryError(
                    f"{where}: the disk holding it is full{file}; free some "
                    "space and publish again (nothing was half-written)"
                ) from None
            raise RegistryError(f"{where}: {exc.strerror or exc}{file}") from None

    def list_versions(self, name: str | None = None) -> list[PackageVersion]:
        return super().list_versions(name) or lost.note_inner(self)  # empty: a registry inside it is noted

    def write_problem(self, doing: str, name: str, keys: Sequence[str] = ()) -> RegistryError | None:
        """The access-denied error a push of ``name`` would end in, found by making and removing at once a folder where
        it would write first: the registry folder and those of its objects, manifests and ``name``'s pointers (or
        ``keys`` only), or the nearest folder above each that exists. None where every one can be written."""
        for key in keys or ("", OBJECTS, PACKAGES, f"{POINTERS}/{name}", TMP):
            target = self.root / key
            here = next(p for p in (target, *target.parents) if os.path.lexists(p))
            try:
                os.rmdir(tempfile.mkdtemp(prefix=".fashion-probe-", dir=here))
            except OSError as exc:
                if access_denied(exc):  # named as the push names it: the first folder it cannot make or write in
                    made = target if here == target else here / target.relative_to(here).parts[0]
                    return _denied(f"{doing}: {self.describe()}", OSError(exc.errno, exc.strerror, str(made)))
        return None

    # --- primitives -------------------------------------------------------------------
    def read(self, key: str, limit: int) -> bytes | None:
        try:
            with open(self.root / key, "rb") as fh:
                if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                    return None
                return fh.read(limit)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def write(self, key: str, data: bytes) -> None:
        target = self.root / key
        make_folders(target.parent, group=shared_folder(self.root))
        tmp = self._temp(target.name)
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.replace(tmp, target)
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
                raise RegistryError(
                    f"{self.describe()}: its {target.parent.relative_to(self.root)} folder is on another filesystem "
                    f"than its {TMP} folder, where files are written before they are moved in; keep .quilt and "
                    f"{TMP} on the registry folder's filesystem (only {OBJECTS} may be a link to another disk)"
                ) from None
        finally:
            tmp.unlink(missing_ok=True)

    def list_keys(self, prefix: str) -> list[str]:
        """Files under ``prefix``, through links to folders (not round a loop of them); a folder that can't be
        read is an OSError naming it (access denied, in :meth:`errors`), never a folder with nothing in it."""
        base = self.root / prefix
        try:
            info = os.stat(base)
        except (FileNotFoundError, NotADirectoryError):
            info = None
        except PermissionError as exc:  # name the folder that can't be entered, not the one looked for in it
            shut = next((p.parent for p in (*base.parents[::-1], base) if not os.access(p, os.F_OK)), base)
            raise PermissionError(exc.errno, exc.strerror, str(shut)) from None
        if info is None or not stat.S_ISDIR(info.st_mode):
            self._no_file_in_the_way(base)
            return []
        return sorted(files_under(base, {(info.st_dev, info.st_ino)}))

    def _no_file_in_the_way(self, folder: Path) -> None:
        """A registry folder (``.quilt``, ``.quilt/packages``, ...) that is missing is empty; one
        that is a file is damage, not emptiness: a collection must never read it as "no manifests"."""
        for path in (folder, *folder.parents):
            if path == self.root:
                return
            if os.path.lexists(path):
                if not path.is_dir():
                    raise IntegrityError(
                        f"{self.describe()} is damaged: {path.relative_to(self.root)} is a file, expected a "
                        "folder; restore the registry from a good copy"
                    )
                return

    def _object_path(self, entry: mf.Entry) -> Path:
        return self.root / OBJECTS / entry.object_name

    def object_size(self, entry: mf.Entry) -> int | None:
        try:
            info = os.lstat(self._object_path(entry))
        except (FileNotFoundError, NotADirectoryError):
            return None
        return info.st_size if stat.S_ISREG(info.st_mode) else None

    def discard_object(self, entry: mf.Entry) -> None:
        self._object_path(entry).unlink(missing_ok=True)

    def list_objects(self) -> list[StoredObject]:
        """Regular files named like an object; writers' temporaries (``objects/.*``) are not objects."""
        folder = self.root / OBJECTS
        if not folder.is_dir():
            self._no_file_in_the_way(folder)
            return []
        infos = [(p.name, status_of(p)) for p in folder.iterdir() if mf.OBJECT_NAME.fullmatch(p.name)]
        found = [StoredObject(name, i.st_size, i.st_mtime) for name, i in infos if i and stat.S_ISREG(i.st_mode)]
        return sorted(found, key=lambda o: o.name)

    def object_links(self, names: Iterable[str] | None = None) -> dict[str, str]:
        return links_in(self.root / OBJECTS, names)

    def remove_objects(self, names: Sequence[str]) -> None:
        for name in names:
            (self.root / OBJECTS / name).unlink(missing_ok=True)

    @contextlib.contextmanager
    def open_object(self, entry: mf.Entry) -> Iterator[IO[bytes]]:
        fd = os.open(self._object_path(entry), os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise FileNotFoundError(errno.ENOENT, "not a regular file", str(self._object_path(entry)))
            yield fh

    def store_object(self, entry: mf.Entry, source: Path) -> bool:
        """Copy and hash in one pass; only bytes that match the entry's hash are renamed into place."""
        target = self._object_path(entry)
        tmp = self._temp(f".{target.name}", target.parent)  # beside it: objects/ may be a link to another disk
        try:
            hasher = hashing.StreamHasher(entry.hash_type, entry.size)
            with open(source, "rb") as src, open(tmp, "wb") as dst:
                while block := src.read(COPY_BLOCK):
                    hasher.update(block)
                    dst.write(block)
            if hasher.value() != entry.hash_value:
                return False  # the source changed since it was hashed: nothing is renamed into place
            os.replace(tmp, target)
            return True
        finally:
            tmp.unlink(missing_ok=True)

    def physical_key(self, name: str) -> str:
        return (self.root / OBJECTS / name).as_uri()

    # --- writers ----------------------------------------------------------------------
    def _temp(self, name: str, folder: Path | None = None) -> Path:
        """A new empty file to write and rename to ``name`` in ``folder`` (``.fashion-tmp`` by default)."""
        folder = self.root / TMP if folder is None else folder
        make_folders(folder, group=shared_folder(self.root))  # a folder a group shares: all made group-writable
        fd, tmp = tempfile.mkstemp(prefix=f"{name}.", dir=folder)
        os.close(fd)
        make_public(tmp, group=shared_folder(self.root))
        return Path(tmp)

    @contextlib.contextmanager
    def writing(self, clean: bool = True) -> Iterator[None]:
        """Hold the writers' lock (:data:`LOCK`, :func:`.lock.exclusive`). A writing that cleans is a push's
        (publish, repair of a version): it also holds :data:`PUSH_LOCK`, so a push in flight is told from
        ``gc --delete``, ``verify --repair`` (``clean=False``), which take the writers' lock only."""
        self.root.mkdir(parents=True, exist_ok=True)
        with lock.exclusive(self.root / LOCK):
            if not clean:
                yield
                return
            with lock.exclusive(self.push_lock, remove=True):  # locked under LOCK only: safe to remove
                self.clean_temporary()
                yield

    def temporary_leftovers(self) -> list[Path]:
        """What :meth:`clean_temporary` would remove now (writers alive may own some: only a look)."""
        leftovers = list((self.root / TMP).glob("*")) if (self.root / TMP).is_dir() else []
        if (self.root / OBJECTS).is_dir():
            leftovers += [p for p in (self.root / OBJECTS).glob(".*") if p.is_file()]
        return leftovers

    def clean_temporary(self) -> list[Path]:
        """Remove what dead writers left (call with the lock held, so no writer is alive to own any): ours in
        ``.fashion-tmp``, and every staged ``objects/.*`` file (:meth:`temporary_leftovers`)."""
        leftovers = self.temporary_leftovers()
        for path in leftovers:
            if path.is_dir() and not path.is_symlink():  # a probe folder (:meth:`write_problem`) a killed writer left
                with contextlib.suppress(OSError):
                    path.rmdir()
            else:
                path.unlink(missing_ok=True)
        return leftovers


def _denied(where: str, exc: OSError) -> RegistryAccessDenied:
    return RegistryAccessDenied(
        f"{where} is not writable or readable by you "
        f"({exc.strerror}{f': {exc.filename}' if exc.filename else ''}); check its permissions, "
        "or choose another registry with --registry"
    )


def _not_a_folder(root: Path) -> str | None:
    """Why ``root`` can be neither a registry folder nor made into one; None if it can."""
    if os.path.lexists(root) and not root.exists():
        return f"is a broken symbolic link (to {os.readlink(root)})"
    if root.exists():
        return None if root.is_dir() else "is a file, not a folder"
    for parent in root.parents:
        if parent.exists():
            return None if parent.is_dir() else f"cannot be a folder: {parent} is a file"
        if os.path.lexists(parent):
            return f"cannot be a folder: {parent} is a broken symbolic link"
    return None


def _registry_around(root: Path) -> Path | None:
    """The registry folder ``root`` lies inside (its ``.quilt`` or ``objects`` folder, or below), if any."""
    for folder in (root, *root.parents):
        if folder.name == ".quilt" and any((folder / sub).is_dir() for sub in ("packages", "named_packages")):
            return folder.parent
        if folder.name == OBJECTS and folder == root and (folder.parent / ".quilt").is_dir():
            return folder.parent
    return None
