"""A registry that lost its manifests: objects stored, but no manifest to name them (a copy made with
``cp -r REG/*``, which leaves the hidden ``.quilt`` out), and whether a first push may still be storing them;
and an empty registry folder that holds a registry one folder down (``cp -r REG existing/``).

Below :mod:`.base` (which asks it when a package is not found) and :mod:`.gc` (which stops at it): so it
knows a registry only by the few methods it calls (:class:`Store`).
"""

from __future__ import annotations

import contextlib
import shlex
import time
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from .. import settings
from ..console import Log, stderr
from ..errors import IntegrityError, PackageNotFound
from . import manifest as mf
from .layout import PACKAGES, POINTERS
from .lock import held
from .records import StoredObject

DEFAULT_GRACE_HOURS = 24.0


class Store(Protocol):
    """What this module asks of a registry (:class:`.base.Registry` has it all)."""

    pointers_need_checking: bool
    named_by: str

    def describe(self) -> str: ...

    def errors(self, doing: str) -> AbstractContextManager[None]: ...

    def list_keys(self, prefix: str) -> Iterable[str]: ...

    def list_objects(self) -> list[StoredObject]: ...

    def package_names(self) -> list[str]: ...

    def missing(self) -> bool: ...


def lost_manifests(reg: Store, count: int, outcome: str) -> IntegrityError:
    """The one answer (gc, verify, push) for a registry that holds ``count`` objects but no manifest.

    Its ``.quilt`` folder was lost (``cp -r REG/*`` leaves it out): a version pushed into it would
    be its only manifest, and gc would then take every file of the lost versions. ``outcome`` says
    what the caller did not do.
    """
    return IntegrityError(
        f"{reg.describe()} holds {count} object(s) but no manifest at all, so its hidden .quilt folder "
        f"(manifests and version pointers) is missing; {outcome}: restore .quilt from the original "
        "(copy a registry with 'cp -a REG COPY' or 'cp -r REG/. COPY/'; 'cp -r REG/*' leaves it out), "
        "or, if this registry never held a version (a first push killed while storing its files), "
        "remove its objects folder"
    )


def check_manifests_kept(reg: Store, outcome: str, *, in_flight: bool = False) -> IntegrityError | None:
    """:func:`lost_manifests` if the registry holds objects but no manifest, else None.

    Cheap where manifests exist (one listing). ``in_flight``: pass over objects younger than the
    grace period where no lock serialises writers (S3): a first push may be storing them now.
    """
    return _objects_lost(reg, objects_without_manifests(reg), outcome, in_flight=in_flight)


def _objects_lost(reg: Store, stored: list[StoredObject], outcome: str, *, in_flight: bool) -> IntegrityError | None:
    """:func:`lost_manifests` for ``stored``, objects of a registry without manifests (see :func:`check_manifests_kept`)."""
    if in_flight and reg.pointers_need_checking:
        cutoff = grace_cutoff()
        stored = [o for o in stored if o.modified <= cutoff]
    return lost_manifests(reg, len(stored), outcome) if stored else None


def objects_without_manifests(reg: Store) -> list[StoredObject]:
    """Every object the registry holds if it holds no manifest at all, else none (one listing)."""
    return [] if _manifests(reg) else _objects(reg)


def _manifests(reg: Store) -> list[str]:
    """The top hashes of the manifests the registry holds."""
    with reg.errors("listing manifests"):
        return [k for k in reg.list_keys(PACKAGES) if mf.TOP_HASH.fullmatch(k)]


def _objects(reg: Store) -> list[StoredObject]:
    with reg.errors("listing objects"):
        return reg.list_objects()


def first_push_in_flight(reg: Store, stored: Sequence[StoredObject]) -> list[StoredObject]:
    """Of the objects a registry without manifests holds, those a first push may still be storing (it
    writes its manifest after its objects): every one while a push holds a local registry's push lock
    (:func:`writer_active`), on S3 those younger than :func:`grace_cutoff`. Ask from outside a push: it reads as one."""
    if not stored:
        return []
    if not reg.pointers_need_checking:
        return list(stored) if writer_active(reg) else []
    cutoff = grace_cutoff()
    return [o for o in stored if o.modified > cutoff]


def in_flight(reg: Store, top_hashes: Sequence[str]) -> list[str]:
    """Of these manifests no version pointer names, those a push may still be writing the pointers of
    (a push writes its manifest, then its pointers): every one while a push holds a local registry's
    push lock (:func:`writer_active`; it holds it from its first object to its last pointer), on S3 those
    younger than :func:`grace_cutoff`."""
    if not top_hashes:
        return []
    if not reg.pointers_need_checking:
        return list(top_hashes) if writer_active(reg) else []
    cutoff = grace_cutoff()
    with reg.errors("reading manifest dates"):
        written_at = reg.written_at  # type: ignore[attr-defined]  # pointers_need_checking: an S3Registry
        return [h for h in top_hashes if written_at(f"{PACKAGES}/{h}") > cutoff]


OUTCOME = "no version of it can be read"  # what a reader did not do, in the damage lines


def absent(reg: Store, name: str) -> PackageNotFound | IntegrityError:
    """Why ``name`` is not in the registry: not published there (:class:`PackageNotFound`, naming what it holds),
    or, in a registry with no package at all, damage: objects but no manifest (``.quilt`` lost) or manifests
    but no version pointer (``.quilt/named_packages`` lost), each unless a push may be storing them now (asked
    again once none is: one that finished meanwhile has written the rest)."""
    names, gone = reg.package_names(), reg.missing()

    def not_there(holds: str) -> PackageNotFound:
        return PackageNotFound(
            f"package {name} is not in {reg.describe()} ({holds}); publish it first, or point FASHION_REGISTRY at "
            "the registry that has it"
        )

    if names or gone:
        return not_there(f"it holds {', '.join(names)}" if names else "no such folder")
    return (_damage(reg) and not writer_active(reg) and _damage(reg)) or not_there(
        f"{unnamed_contents(reg)}{_inner(reg)}"
    )


def unnamed_contents(reg: Store) -> str:
    """What a registry without packages holds, in words: "it is empty", or the objects no manifest names yet (a
    first push storing them, or a copy that left out ``.quilt``, as ``aws s3 sync --exclude '.*'`` does)."""
    stored = objects_without_manifests(reg)
    if not stored:
        return "it is empty"
    return (
        f"it holds no package, only {len(stored)} object(s) no manifest names: a first push may be storing them, "
        "or the registry was copied without its .quilt folder"
    )


def note_inner(reg: Store, log: Log = stderr) -> list:
    """Say in a note (``log``) that ``reg`` holds no package but a folder inside it is a registry (``packages list``
    of the folder a registry was copied into); returns no versions, for ``list_versions() or note_inner(reg)``."""
    if not reg.package_names() and (inner := _inner(reg)):
        log(f"note: {reg.describe()} is empty{inner}")
    return []


def _inner(reg: Store) -> str:
    """The hint "; DIR inside it is a registry: did you mean --registry DIR?" where folders inside a local registry's
    folder are registries themselves (``cp -r REG existing/`` then ``--registry existing``), else ""."""
    root: Path | None = getattr(reg, "root", None)  # a LocalRegistry's folder; S3 has none
    entries: list[Path] = []
    with contextlib.suppress(OSError):  # a folder that can't be listed: no hint, the line as it was
        entries = list(root.iterdir()) if root else []
    inner = sorted(settings.display_path(p) for p in entries if _is_registry(p))
    if not inner:
        return ""
    shown = ", ".join(inner[:3]) + (f" and {len(inner) - 3} more" if len(inner) > 3 else "")
    option = "FASHION_REGISTRY=" if reg.named_by == "FASHION_REGISTRY" else "--registry "
    verb = "is a registry" if len(inner) == 1 else "are registries"
    return f"; {shown} inside it {verb}: did you mean {option}{shlex.quote(inner[0])}?"


def _is_registry(folder: Path) -> bool:
    """Whether ``folder`` holds a registry: manifests or version pointers in its ``.quilt`` folder. One that can't
    be looked into (a root-owned ``lost+found``: ``is_dir`` raises on Python 3.11) is not, and hides no other."""
    with contextlib.suppress(OSError):
        return any((folder / ".quilt" / sub).is_dir() for sub in ("packages", "named_packages"))
    return False


def _damage(reg: Store) -> IntegrityError | None:
    """In a registry with no package: manifests but no version pointer, or objects but no manifest (each unless a
    push may still be writing them); the manifests are listed once."""
    manifests = _manifests(reg)
    if manifests:
        return _manifests_without_pointers(reg, manifests)
    return _objects_lost(reg, _objects(reg), OUTCOME, in_flight=True)


def _manifests_without_pointers(reg: Store, manifests: list[str]) -> IntegrityError | None:
    """Damage if the registry holds ``manifests`` (that no push may still be pointing) and no version pointer."""
    if reg.package_names():  # pointers since written: by a push that has finished
        return None
    if reg.pointers_need_checking and len(in_flight(reg, manifests)) == len(manifests):
        return None
    return IntegrityError(
        f"{reg.describe()} holds {len(manifests)} manifest(s) but no version pointer, so its version pointers "
        f"({POINTERS}) are missing; {OUTCOME}: restore them from the original (copy a registry with "
        "'cp -a REG COPY'); 'fashion packages verify' lists the manifests"
    )


def grace_cutoff() -> float:
    """Unix seconds: where no lock serialises writers (S3), what was written after this may be a push's
    still in flight (the default grace, which must outlast the longest push)."""
    return time.time() - DEFAULT_GRACE_HOURS * 3600


def writer_active(reg: Store) -> bool:
    """Whether a push may be in flight in a local registry now (False elsewhere): whether one holds its push lock
    (:data:`.local.PUSH_LOCK`, :func:`.lock.held`). ``gc --delete`` and ``verify --repair`` hold only the writers'
    lock, so beside them lost manifests are still damage. The push lock's file is there only while held (or left
    by a killed push): none, no push (as in a registry last written by an older version). One this user can't
    open (another user's, unreadable to others) counts as held: a note that a push may be in flight, not damage."""
    push_lock = getattr(reg, "push_lock", None)  # a LocalRegistry's; S3 has no lock
    return push_lock is not None and held(push_lock)
