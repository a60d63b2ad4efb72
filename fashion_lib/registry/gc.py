"""Find, and on request remove, objects that no manifest names (``fashion packages gc``).

A push stores its files' objects first and writes the manifest that names them last. A push
that fails on a local registry takes its objects back; one killed outright, or one that
fails on S3 (where no lock keeps another writer from storing the same object at that
moment), leaves complete objects that no manifest names. They are harmless (a later push
reuses them) but take space. Rules:

* an object is removed only if no manifest in the registry names it, a damaged one
  included: a manifest that can't be read stops the whole collection, nothing removed;
* only objects older than a grace period go: on S3 a push may still be storing objects
  whose manifest it has not written yet, so the grace must outlast the longest push;
  a local registry is locked while collecting, so no push is in flight there
  (:func:`.lost.in_flight` applies the same two rules to manifests no version pointer names yet, and
  :func:`.lost.first_push_in_flight` to objects in a registry with no manifest yet);
* the manifests are listed again just before each removal (of up to 1,000 objects, one
  request on S3), and an object a new one names stays; an S3 push that reused an object
  checks, after publishing, that it is still there;
* objects stored as symbolic links (a registry copied with ``cp -rs``) are never read, counted or removed,
  but named in a note.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..console import Log, short, stderr
from ..errors import IntegrityError
from . import manifest as mf
from .base import OBJECTS, PACKAGES, REMOVE_BATCH, Registry
from .lost import DEFAULT_GRACE_HOURS, lost_manifests, writer_active
from .publish import refuse_unwritable_under_lock
from .records import StoredObject


@dataclass
class Collection:
    """What ``collect`` found: objects named by a manifest, unnamed ones old enough to go, young ones."""

    named: int = 0
    unnamed: list[StoredObject] = field(default_factory=list)  # older than the grace period
    young: list[StoredObject] = field(default_factory=list)  # unnamed, but inside the grace period
    removed: list[StoredObject] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)  # objects stored as symbolic links -> what they link to

    @property
    def unnamed_bytes(self) -> int:
        return sum(o.size for o in self.unnamed)


def named_objects(reg: Registry, known: dict[str, set[str]] | None = None) -> set[str]:
    """The object names every manifest in the registry names (IntegrityError on one it can't read).

    ``known`` (top hash -> its object names) caches manifests already read: a call with it lists
    the manifests again but reads only the new ones.
    """
    known = {} if known is None else known
    with reg.errors("listing manifests"):
        keys = [k for k in reg.list_keys(PACKAGES) if mf.TOP_HASH.fullmatch(k) and k not in known]
    for top_hash in keys:
        with reg.errors(f"reading manifest {short(top_hash)}"):
            data = reg.read(f"{PACKAGES}/{top_hash}", mf.MAX_MANIFEST_BYTES + 1)
        if data is None:
            continue  # removed since it was listed: it names nothing any more
        if len(data) > mf.MAX_MANIFEST_BYTES:
            raise _unreadable(reg, top_hash, f"is larger than {mf.MAX_MANIFEST_BYTES} bytes")
        try:
            found = mf.parse(data, "manifest", top_hash)
        except mf.DamagedManifest as exc:
            raise _unreadable(reg, top_hash, exc.reason) from None
        known[top_hash] = {entry.object_name for entry in found.entries}
    return set().union(*known.values())


def _unreadable(reg: Registry, top_hash: str, why: str) -> IntegrityError:
    return IntegrityError(
        f"version {short(top_hash)} in {reg.describe()} is damaged: its manifest {why}; nothing was removed, "
        "since the objects it names can't be known: restore or delete that manifest "
        "('fashion packages verify' lists the damage)"
    )


def _survey(
    reg: Registry, grace_hours: float, known: dict[str, set[str]] | None = None, *, locked: bool = False
) -> Collection:
    """Objects listed first, then the manifests: a dry run takes no lock, and a push that stores objects, then a
    manifest, then its pointers meanwhile leaves no object listed here unnamed that a manifest listed below names.
    ``locked``: the registry's writing lock is held (``gc --delete``), so no push is in flight."""
    result = Collection()
    known = {} if known is None else known
    with reg.errors("listing objects"):
        stored = reg.list_objects()
        result.links = reg.object_links()
    named_objects(reg, known)
    _every_version_read(reg, known)
    cutoff = time.time() - grace_hours * 3600
    if stored and not known:
        _check_manifests_lost(reg, stored, cutoff, known, locked)
    named = set().union(*known.values())
    for obj in stored:
        if obj.name in named:
            result.named += 1
        elif obj.modified <= cutoff:
            result.unnamed.append(obj)
        else:
            result.young.append(obj)
    return result


def _check_manifests_lost(
    reg: Registry, stored: list[StoredObject], cutoff: float, known: dict[str, set[str]], locked: bool
) -> None:
    """Objects but no manifest at all: damage (:func:`.lost.lost_manifests`), unless a first push may be storing
    them now (on S3, where no lock reaches, the young ones; locally, every one while a push holds its push lock,
    :func:`.lost.writer_active`, asked only without the writing lock) or has written its manifest since (listed
    again, once that was asked). Before, a dry run beside a first push said the registry had lost its manifests
    (exit 3). Under ``gc --delete``'s lock no push is in flight: a push lock file this user can't open (a killed
    push's, another user's, mode 0600) counts as held, and took every object for a push's (review 95)."""
    if reg.pointers_need_checking:
        old = [o for o in stored if o.modified <= cutoff]
    else:
        old = stored if locked or not writer_active(reg) else []
    if old:
        named_objects(reg, known)
    if old and not known:
        raise lost_manifests(reg, len(old), "nothing was removed")


def _every_version_read(reg: Registry, known: dict[str, set[str]]) -> None:
    """Stop if a version pointer holds no top hash, or names a manifest that was not read (missing,
    or not a file): the objects of that version can't be told from garbage. The manifests are listed again
    first: a push that wrote its manifest, then its pointers, after they were listed (a dry run takes no lock)
    is no damage; before, its version was called damaged, "its manifest is missing" (exit 3)."""
    for name in reg.package_names():
        pointers = reg.pointers(name)
        bad = reg.bad_pointers(name, pointers)
        if bad:
            raise IntegrityError(f"nothing was removed: {reg.damaged_pointers(name, bad)}")
        unread = [h for h in reg.pointed_hashes(name, pointers) if h not in known]
        if unread:
            named_objects(reg, known)
        for top_hash in unread:
            if top_hash not in known:
                raise IntegrityError(
                    f"version {short(top_hash)} of {name} in {reg.describe()} is damaged: its manifest is missing "
                    "(or not a file); nothing was removed, since the objects it names can't be known: restore "
                    "the manifest from a good copy ('fashion packages verify' lists the damage)"
                )


def collect(
    reg: Registry, *, grace_hours: float = DEFAULT_GRACE_HOURS, delete: bool = False, log: Log = stderr
) -> Collection:
    """Objects no manifest names and older than ``grace_hours``; removed when ``delete``.

    A dry run writes nothing. Removing surveys again with the registry's writing lock held
    (local registries), and lists the manifests again just before each removal of up to
    :data:`REMOVE_BATCH` objects (reading only the new ones): the moment between that look and
    the removal is one request, and an S3 push checks its objects after publishing its
    pointers, which takes longer, so it puts back one removed in that moment (:mod:`.publish`). Objects
    stored as symbolic links are named in a note (``log``).
    """
    if grace_hours < 0:
        raise ValueError("grace_hours must be >= 0")
    result = _survey(reg, grace_hours)
    if not delete or not result.unnamed:
        return _note_links(reg, result, log)
    with reg.errors("locking the registry"), reg.writing(clean=False):
        refuse_unwritable_under_lock(reg, "removing unnamed objects", "", [OBJECTS])  # before the survey
        known: dict[str, set[str]] = {}
        result = _survey(reg, grace_hours, known, locked=True)
        for start in range(0, len(result.unnamed), REMOVE_BATCH):
            named = named_objects(reg, known)  # a manifest written meanwhile keeps its objects
            batch = [o for o in result.unnamed[start : start + REMOVE_BATCH] if o.name not in named]
            with reg.errors(f"removing {len(batch)} object(s)"):
                reg.remove_objects([o.name for o in batch])
            result.removed.extend(batch)
    return _note_links(reg, result, log)


def _note_links(reg: Registry, result: Collection, log: Log) -> Collection:
    """One note naming the objects stored as symbolic links (the first three), if any."""
    if result.links:
        shown = [f"{OBJECTS}/{short(name)} (to {to})" for name, to in sorted(result.links.items())[:3]]
        more = f" and {len(result.links) - 3} more" if len(result.links) > 3 else ""
        log(
            f"note: {reg.describe()} holds {len(result.links)} object(s) as symbolic links, which fashion never "
            f"reads, counts or removes: {', '.join(shown)}{more}; copy a registry with 'cp -r' or 'cp -a', not "
            "'cp -rs' ('fashion packages verify' names the versions they break)"
        )
    return result
