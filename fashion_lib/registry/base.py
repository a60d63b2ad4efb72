"""The :class:`Registry` interface: versions, pointers and verified manifests over a store.

A registry keeps quilt3's layout, so stock quilt3 reads what we write::

    .quilt/named_packages/<owner>/<name>/<unix seconds>   version pointers (a top hash each)
    .quilt/named_packages/<owner>/<name>/latest           the newest version
    .quilt/packages/<top hash>                            manifests (JSON lines)
    objects/<hex of the file's hash>                      the registry's own copy of every file

Subclasses (:class:`~.local.LocalRegistry`, :class:`~.s3.S3Registry`) only move bytes
(:class:`~.storage.Storage`): read, write (atomically), list, and locate objects by hash.
Everything that decides what those bytes mean - which version a prefix names, whether a
manifest is the one its top hash names - lives here, once.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from ..errors import IntegrityError, PackageNotFound, RegistryError
from . import manifest as mf
from .layout import OBJECTS as OBJECTS  # re-exported: the registry's layout, as the modules take it from here
from .layout import PACKAGES, POINTERS
from .lost import absent
from .names import check_name as check_name  # re-exported: publish.py takes it from here
from .names import check_stored_name
from .records import PackageVersion
from .storage import REMOVE_BATCH as REMOVE_BATCH  # re-exported: gc.py takes it from here
from .storage import Storage

SHORT = 7
_NAME_PART = re.compile(r"[\w-]+")  # an owner's or a package's name (names.STORED's parts)
MAX_POINTER_BYTES = 1024


def now() -> int:
    """The clock that names version pointers (tests pin it to make pushes share a second)."""
    return int(time.time())


def stamp_time(stamp: int) -> datetime | None:
    """The time a pointer's stamp names; None past the year 9999 (a pointer made by hand)."""
    try:
        return datetime.fromtimestamp(stamp, UTC)
    except (OverflowError, OSError, ValueError):
        return None


class Registry(Storage):
    """A registry of quilt3 packages; open one with :func:`fashion_lib.registry.open`."""

    def package_names(self) -> list[str]:
        with self.errors("listing packages"):
            keys = [k for k in self.list_keys(POINTERS) if not k.startswith(".")]
        # a file where a package's folder of version pointers belongs (its name could be an owner's or a package's);
        # others, such as Thumbs.db or desktop.ini that a copy made on Windows leaves, are no part of the registry
        misplaced = [k for k in keys if k.count("/") < 2 and all(_NAME_PART.fullmatch(p) for p in k.split("/"))]
        if misplaced:
            raise IntegrityError(
                f"{self.describe()} is damaged: {POINTERS}/{misplaced[0]} is a file, expected a folder of "
                "version pointers (user/package/<stamp>); restore the registry from a good copy"
            )
        return sorted({k.rsplit("/", 1)[0] for k in keys if k.count("/") == 2})

    def bad_pointers(self, name: str, pointers: dict[str, str] | None = None) -> dict[str, str]:
        """Pointer name -> content, for the pointers of ``name`` that do not hold a top hash."""
        pointers = self.pointers(name) if pointers is None else pointers
        return {stamp: value for stamp, value in pointers.items() if not mf.TOP_HASH.fullmatch(value)}

    def damaged_pointers(self, name: str, bad: dict[str, str]) -> IntegrityError:
        shown = ", ".join(f"{stamp} ({value[:20]!r})" for stamp, value in sorted(bad.items())[:3])
        return IntegrityError(
            f"{name} in {self.describe()} is damaged: its version pointer(s) {shown} do not hold a top hash "
            "(emptied or edited); restore them from a good copy ('fashion packages verify' lists them)"
        )

    def pointers(self, name: str) -> dict[str, str]:
        """Pointer name -> its content, stripped (not yet checked)."""
        check_stored_name(name)
        out = {}
        with self.errors(f"reading versions of {name}"):
            for stamp in self.list_keys(f"{POINTERS}/{name}"):
                if "/" in stamp or not (stamp.isdigit() or stamp == "latest"):
                    continue  # temporary names and anything else we did not write
                data = self.read(f"{POINTERS}/{name}/{stamp}", MAX_POINTER_BYTES)
                if data is not None:
                    out[stamp] = data.decode("utf-8", errors="replace").strip()
        return out

    def pointed_hashes(self, name: str, pointers: dict[str, str] | None = None) -> list[str]:
        """Every top hash a pointer of ``name`` holds, ``latest`` included, newest first."""
        pointers = self.pointers(name) if pointers is None else pointers
        hashes = [h for _, h in self.versions(name, pointers)]
        latest = pointers.get("latest", "")
        return hashes + [latest] if mf.TOP_HASH.fullmatch(latest) and latest not in hashes else hashes

    def versions(self, name: str, pointers: dict[str, str] | None = None) -> list[tuple[int, str]]:
        """(timestamp, top hash) of every version of ``name``, newest first, one per hash.

        Pointers whose content is not a top hash are left out (``packages verify`` names them).
        ``pointers``: what :meth:`pointers` gave, if already read.
        """
        newest: dict[str, int] = {}
        for stamp, value in (self.pointers(name) if pointers is None else pointers).items():
            if stamp.isdigit() and mf.TOP_HASH.fullmatch(value):
                newest[value] = max(newest.get(value, 0), int(stamp))
        return sorted(((stamp, h) for h, stamp in newest.items()), reverse=True)

    def not_found(self, name: str) -> PackageNotFound | IntegrityError:
        """:func:`.lost.absent`: not published here, or a registry that lost its manifests or version pointers."""
        return absent(self, name)

    def resolve(self, name: str, top_hash: str | None = None) -> str:
        """The full top hash: the latest version, or the one version a (prefix of a) hash names."""
        check_stored_name(name)
        if top_hash is None:
            pointers = self.pointers(name)
            latest, versions = pointers.get("latest"), self.versions(name, pointers)
            if latest is not None and not mf.TOP_HASH.fullmatch(latest):  # damage; missing: the newest version
                again = "".join(f"; or publish {h[:SHORT]} (the newest version) again" for _, h in versions[:1])
                raise IntegrityError(f"{self.damaged_pointers(name, {f'{POINTERS}/{name}/latest': latest})}{again}")
            if latest or versions:
                return latest or versions[0][1]
            bad = self.bad_pointers(name, pointers)
            raise self.damaged_pointers(name, bad) if bad else self.not_found(name)
        prefix = top_hash.strip().lower()
        if not re.fullmatch(r"[0-9a-f]{1,64}", prefix):
            raise RegistryError(f"{top_hash!r} is not a top hash; expected hexadecimal digits (a prefix will do)")
        known = [h for _, h in self.versions(name)]
        if not known and not self.pointers(name):
            raise self.not_found(name)
        bad = {} if known else self.bad_pointers(name)
        if bad and not (len(prefix) == 64 and self.has_manifest(prefix)):
            raise self.damaged_pointers(name, bad)
        matches = [h for h in known if h.startswith(prefix)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            shown = ", ".join(h[:SHORT] for h in matches[:5])
            raise RegistryError(f"{name}@{prefix} is ambiguous in {self.describe()} ({shown}); give more digits")
        if len(prefix) == 64 and self.has_manifest(prefix):
            return prefix  # a version without a pointer (e.g. made by other tools)
        if len(prefix) == 64 and self.pointers(name).get("latest") == prefix:
            raise IntegrityError(
                f"{name}@{prefix[:SHORT]} is damaged: its latest pointer names it, but its manifest is missing "
                f"from {self.describe()}; restore the registry from a good copy ('fashion packages verify' lists it)"
            )
        shown = ", ".join(h[:SHORT] for h in known[:5]) + (", ..." if len(known) > 5 else "")
        raise PackageNotFound(f"{name} has no version {prefix} in {self.describe()}; known versions: {shown}")

    def has_manifest(self, top_hash: str) -> bool:
        with self.errors("reading a manifest"):
            return self.read(f"{PACKAGES}/{top_hash}", 0) is not None

    def manifest(self, name: str, top_hash: str) -> mf.Manifest:
        """The manifest of ``name@top_hash``, checked against its top hash (IntegrityError if not)."""
        label = f"{name}@{top_hash[:SHORT]}"
        with self.errors(f"reading {label}"):
            data = self.read(f"{PACKAGES}/{top_hash}", mf.MAX_MANIFEST_BYTES + 1)
        if data is None:
            raise IntegrityError(
                f"{label} is damaged: its manifest is missing from {self.describe()}; fetch "
                "another version, or restore the registry from a good copy"
            )
        if len(data) > mf.MAX_MANIFEST_BYTES:
            raise IntegrityError(f"{label} is damaged: its manifest is larger than {mf.MAX_MANIFEST_BYTES} bytes")
        return mf.parse(data, name, top_hash)

    def read_meta(self, name: str, top_hash: str | None = None) -> tuple[str, dict, str | None]:
        """(top hash, user metadata, message) of a version, reading only its (verified) manifest."""
        resolved = self.resolve(name, top_hash)
        found = self.manifest(name, resolved)
        return resolved, found.meta, found.message

    def list_versions(self, name: str | None = None) -> list[PackageVersion]:
        """Every version of every package (or of ``name``), newest first; damaged ones say why."""
        names = [name] if name else self.package_names()
        out = []
        for pkg in names:
            pointers = self.pointers(pkg)
            bad = self.bad_pointers(pkg, pointers)
            if bad:
                out.append(PackageVersion(pkg, "", None, None, damaged=str(self.damaged_pointers(pkg, bad))))
            dated = self.versions(pkg, pointers)
            stamps: list[tuple[int | None, str]] = [*dated]
            stamps += [(None, h) for h in self.pointed_hashes(pkg, pointers) if h not in {v for _, v in dated}]
            for stamp, top_hash in stamps:
                created = stamp_time(stamp) if stamp is not None else None
                try:
                    out.append(PackageVersion(pkg, top_hash, created, self.manifest(pkg, top_hash).message))
                except IntegrityError as exc:
                    out.append(PackageVersion(pkg, top_hash, created, None, damaged=str(exc)))
        epoch = datetime.fromtimestamp(0, UTC)
        return sorted(out, key=lambda v: (v.created or epoch, v.name), reverse=True)
