"""Publish files as a new version: objects first, then the manifest, then the pointers.

A reader therefore never sees a pointer to a manifest that is not there, nor a manifest
whose objects are not there. Local writers are serialised by an OS lock; on S3, where no
lock reaches, each pointer is read back (:mod:`.pointing`), and the push then checks that its
objects are still there (``fashion packages gc`` may remove an old object the push reused
before its manifest named it) and stores any that is gone again.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import hashing
from ..errors import IntegrityError, RegistryError
from ..scratch import scratch_folder
from . import manifest as mf
from .base import PACKAGES, POINTERS, Registry, check_name
from .lost import check_manifests_kept
from .pointing import fix_latest, interrupted_after, latest_behind, point
from .quilt import quilt

HASH_TYPE = hashing.SHA256_CHUNKED


@dataclasses.dataclass(frozen=True)
class Published:
    """What a push did. ``added``: a version pointer, so ``top_hash`` is the latest version now (new,
    or an older one again); else it already was. ``written``: files stored (objects, the manifest);
    for a version already there, those that were missing or damaged in the store, written again."""

    top_hash: str
    added: bool
    written: int


def publish(
    reg: Registry,
    name: str,
    files: Mapping[str, Path],
    *,
    meta: dict | None = None,
    message: str | None = None,
    readme: str | None = None,
) -> Published:
    """Publish ``files`` (logical key -> path) as a new version of ``name``.

    ``readme`` becomes ``README.md``, written to a scratch folder (:func:`~fashion_lib.scratch.scratch_folder`:
    one a push killed outright leaves is removed by the next). An unchanged re-push copies nothing, adds no
    version and returns the same top hash; it repairs objects whose bytes no longer match their hash.
    """
    check_name(name)
    with scratch_folder("fashion-push-") as scratch:
        files = dict(files)
        meta, message, readme = utf8_safe(meta), utf8_safe(message), utf8_safe(readme)
        if readme is not None:
            (Path(scratch) / "README.md").write_text(readme, encoding="utf-8")
            files["README.md"] = Path(scratch) / "README.md"
        entries = _entries(files)
        with reg.errors(f"publishing {name}"):
            planned = mf.parse(*_manifest_bytes(reg, entries, meta, message, name))
        with reg.errors(f"publishing {name}"), reg.writing():
            refuse_unwritable_under_lock(reg, f"publishing {name}", name)
            lost = check_manifests_kept(reg, "nothing was published", in_flight=True)
            if lost:  # a version pushed here would be its only manifest: gc would take the rest
                raise lost
            created: list[mf.Entry] = []  # objects this push added: taken back if it fails
            try:
                written = sum(_store(reg, entry, entries[entry.key][0], created) for entry in planned.entries)
                data = _manifest_bytes(reg, entries, meta, message, name)[0]  # physical keys of what is stored now
                stored = mf.parse(data, name, planned.top_hash)  # what readers will check
                top_hash = stored.top_hash
                if not _has_good_manifest(reg, stored, entries):
                    reg.write(f"{PACKAGES}/{top_hash}", data)
                    written += 1
            except BaseException:  # a full disk, Ctrl-C: no manifest names them, so nothing is left
                for entry in created:
                    reg.discard_object(entry)
                raise
            pointers = reg.pointers(name)
            fixed = fix_latest(reg, name, top_hash, pointers)  # the newest version already; latest named another
            added = not fixed and pointers.get("latest") != top_hash
            latest = point(reg, name, top_hash) if added else top_hash  # Ctrl-C in there waits for both pointers
            try:
                written += fixed + (_put_back_removed(reg, stored, entries) if reg.pointers_need_checking else 0)
            except KeyboardInterrupt:
                if added:
                    raise interrupted_after(name, top_hash, latest) from None
                raise
    return Published(top_hash, added, written)


def repair(reg: Registry, name: str, top_hash: str, sources: Sequence[Path]) -> list[str]:
    """Store again, from ``sources``, the objects of ``name@top_hash`` that are missing or damaged;
    returns their keys (none: the version is intact and nothing was written).

    Sizes first, then hashes (where the store can tell without reading the object back, S3's
    ETag, against the source with the entry's bytes). A source counts only if its bytes hash to
    the entry's hash. IntegrityError, nothing written, if a damaged object's bytes are in no source.

    On a versioned bucket a manifest pins object versions: one deleted since (or never uploaded whole) is
    stored again, or found stored again by a later push, and the manifest rewritten to pin that one (same
    top hash: physical keys are not hashed), as is a key outside the bucket (``file://``). ``latest`` naming
    another version while this one is the newest (a push stopped between the two) is pointed at it, its key
    returned with the files'.
    """
    found = reg.manifest(name, top_hash)
    hashes: dict[Path, str] = {}

    def source_of(entry: mf.Entry) -> Path | None:
        for path in sources:
            if path.stat().st_size == entry.size:
                hashes.setdefault(path, hashing.file_hash(path, entry.hash_type))
                if hashes[path] == entry.hash_value:
                    return path
        return None

    damaged: dict[str, tuple[mf.Entry, Path]] = {}
    with reg.errors(f"checking {found.label}"):
        for entry in found.entries:
            if reg.object_size(entry) == entry.size and not (reg.pin_gone(entry) or reg.key_elsewhere(entry)):
                source = source_of(entry) if type(reg).same_bytes is not Registry.same_bytes else None
                if _holds(reg, entry, source):
                    continue
            source = source_of(entry)
            if source is None:
                raise IntegrityError(
                    f"{entry.key} in {found.label} is damaged in {reg.describe()}, and no file given holds its bytes"
                )
            damaged[entry.key] = (entry, source)
        behind = latest_behind(reg, name, top_hash, reg.pointers(name))
    if not damaged and not behind:
        return []
    written = sorted(damaged)
    with reg.errors(f"repairing {found.label}"), reg.writing():
        refuse_unwritable_under_lock(reg, f"repairing {found.label}", name)
        for entry, source in damaged.values():
            _store(reg, _current(reg, entry), source, [])  # a manifest names it: never taken back
        moved = {
            entry.key: now.physical_key
            for entry, _ in damaged.values()
            if (
                reg.object_version(now := _current(reg, entry)) != reg.object_version(entry) or reg.key_elsewhere(entry)
            )
            and now.physical_key
        }
        if moved:
            _repin(reg, found, moved)
        if fix_latest(reg, name, top_hash, reg.pointers(name)):
            written.append(f"{POINTERS}/{name}/latest")
    return written


def refuse_unwritable_under_lock(reg: Registry, doing: str, name: str, keys: Sequence[str] = ()) -> None:
    """Once a local registry's writers' lock is held, raise the access-denied error the writer would end in
    half-way, before it writes anything (:meth:`.LocalRegistry.write_problem` of ``name``, or of those folders of
    ``keys`` that are there): a package folder another member of a shared registry made without group write, or
    a lock file that opened only to read. A few empty folders made and removed (well under a
    millisecond each); before, a lock taken to write was not probed, and such a push left objects and a manifest
    no version named (review 91)."""
    from .local import LocalRegistry

    if not isinstance(reg, LocalRegistry):
        return
    there = [key for key in keys if (reg.root / key).is_dir()]
    if (there or not keys) and (problem := reg.write_problem(doing, name, there)):
        raise problem


def _repin(reg: Registry, found: mf.Manifest, keys: Mapping[str, str]) -> None:
    """Write ``found``'s manifest again with these entries' physical keys (logical key -> URL), every other line
    as it was: the same top hash (checked), pinning the object versions stored now."""
    where = f"{PACKAGES}/{found.top_hash}"
    data = mf.with_physical_keys(reg.read(where, mf.MAX_MANIFEST_BYTES + 1) or b"", keys)
    mf.parse(data, found.name, found.top_hash)
    reg.write(where, data)


def _put_back_removed(reg: Registry, stored: mf.Manifest, entries: Mapping[str, tuple[Path, int, str]]) -> int:
    """Store again any object that is gone now: on S3 a push may reuse an old object that no
    manifest named yet, which ``fashion packages gc --delete`` running at that moment removes; how many."""
    gone = [entry for entry in stored.entries if reg.object_size(entry) is None]
    return sum(_store(reg, entry, entries[entry.key][0], []) for entry in gone)


def _entries(files: Mapping[str, Path]) -> dict[str, tuple[Path, int, str]]:
    """logical key -> (source, size, hash), refusing missing sources with a clear message."""
    entries = {}
    for key, source in files.items():
        source = Path(source)
        if not source.is_file():
            raise RegistryError(f"cannot publish {key!r}: {source} is not a file")
        entries[key] = (source, source.stat().st_size, hashing.file_hash(source, HASH_TYPE))
    return entries


def _has_good_manifest(reg: Registry, stored: mf.Manifest, entries: Mapping[str, tuple[Path, int, str]]) -> bool:
    """The registry has ``stored``'s version, and every object version its manifest pins holds the entry's
    bytes: one pinning versions that are gone (deleted on a versioned bucket), or naming files outside the bucket
    (``file://`` keys of a local registry synced into it), is written again, pinning those stored now (the same
    top hash: physical keys are not hashed)."""
    try:
        found = reg.manifest(stored.name, stored.top_hash)
    except IntegrityError:
        return False  # missing or damaged: written (again)
    now = {entry.key: reg.object_version(entry) for entry in stored.entries}
    return all(
        not reg.key_elsewhere(entry)
        and (
            reg.object_version(entry) == now.get(entry.key)  # the one _store checked
            or (
                reg.object_size(entry) == entry.size
                and not reg.pin_gone(entry)
                and _holds(reg, entry, entries[entry.key][0])
            )
        )
        for entry in found.entries
    )


def utf8_safe(value: Any) -> Any:
    """``value`` with every text in it writable as UTF-8 (a manifest, a README): the bytes of a path that are
    not UTF-8 (a folder named in Latin-1), which Python keeps as lone surrogates, become ``\\xNN`` escapes."""
    if isinstance(value, str):
        try:
            return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:  # a surrogate no file name gives (from JSON, say): escaped as is
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, Mapping):
        return {utf8_safe(k): utf8_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [utf8_safe(v) for v in value]
    return value


def _manifest_bytes(
    reg: Registry, entries: Mapping[str, tuple[Path, int, str]], meta: dict | None, message: str | None, name: str
) -> tuple[bytes, str, str]:
    """The manifest exactly as quilt3 writes it (so stock quilt3 reads it), and its top hash."""
    q = quilt()
    pkg = q.Package()
    for key, (_, size, value) in sorted(entries.items()):
        location = q.util.PhysicalKey.from_url(reg.physical_key(mf.object_name(HASH_TYPE, value)))
        pkg.set(key, q.packages.PackageEntry(location, size, {"type": HASH_TYPE, "value": value}, None))
    pkg.set_meta(dict(meta or {}))
    pkg._set_commit_message(message)
    pkg._meta[mf.SCHEMA_FIELD] = mf.SCHEMA_VERSION
    out = io.StringIO()
    pkg._dump(out)
    return out.getvalue().encode("utf-8"), name, pkg.top_hash


def _store(reg: Registry, entry: mf.Entry, source: Path, created: list[mf.Entry]) -> bool:
    """Copy ``source`` in unless the store has an object with this hash (hashes compared, not sizes);
    whether it was copied. An object that was not there at all is added to ``created``."""
    size = reg.object_size(entry)
    if size == entry.size and _holds(reg, entry, source):
        return False
    before = source.stat()
    if size is None:  # noted first: an interrupt just after the object lands still takes it back
        created.append(entry)
    stored_ok = reg.store_object(entry, source)  # True: the bytes stored were hashed on the way in
    after = source.stat()
    changed = (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns)
    if changed or not (stored_ok or _holds(reg, _current(reg, entry), source)):  # the version just stored
        raise RegistryError(f"{source} changed while it was being published as {entry.key!r}; publish again")
    return True


def _current(reg: Registry, entry: mf.Entry) -> mf.Entry:
    """``entry`` pinning the version of its object stored now (where the store keeps versions), not one a
    manifest pinned before."""
    return dataclasses.replace(entry, physical_key=reg.physical_key(entry.object_name))


def _holds(reg: Registry, entry: mf.Entry, source: Path | None) -> bool:
    """The store's object for ``entry`` holds its bytes: told by S3's ETag against ``source`` where it
    can, else read back and hashed."""
    return (source is not None and reg.same_bytes(entry, source)) or _object_matches(reg, entry)


def _object_matches(reg: Registry, entry: mf.Entry) -> bool:
    from .object_check import check_object

    try:
        check_object(reg, entry, "")
        return True
    except IntegrityError:
        return False
