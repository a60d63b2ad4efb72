"""Registries of data and model packages: a local folder or an ``s3://`` bucket, in quilt3's layout.

Open one once and pass it around::

    from fashion_lib import registry
    reg = registry.open()            # --registry value, FASHION_REGISTRY, or <home>/registry
    reg.list_versions()
    registry.fetch("fashion-mnist/data", "out", registry=reg)

What a registry guarantees (and how):

* **A top hash means its bytes.** Every manifest read (fetch, list, lineage, reproduce) is
  hashed with quilt3's algorithm and refused unless it matches the top hash that names it
  (:mod:`.manifest`); every file is hashed while it is copied and refused unless it matches.
* **Files come from the registry's own store**, located by their hash:
  ``<folder>/objects/<hex>`` or ``s3://bucket/objects/<hex>``; a manifest's physical key is
  never opened, so a folder can be moved, copied, archived or mounted elsewhere, and an
  entry pointing outside the registry is refused before anything is read.
* **Writers don't lose each other's versions**: an OS lock for folders, checked pointers
  on S3, every file renamed into place (:mod:`.publish`).
* **Fetches are all-or-nothing** (:mod:`.download`); ``fashion packages verify`` re-checks
  everything (:mod:`.check`); ``fashion packages gc`` removes objects no manifest names
  (:mod:`.gc`).

Errors say which of "no such package/version" (:class:`PackageNotFound`) and "unreachable,
denied, missing bucket, damaged" it is; only the first may lead to preparing or training.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Union

from .. import settings
from ..console import short
from ..errors import ConfigError, DestinationError, PackageNotFound, RegistryAccessDenied, RegistryError
from . import manifest
from .base import OBJECTS, Registry
from .check import Report
from .local import LocalRegistry
from .quilt import _quilt_environment, quilt, settings_problem
from .records import Fetched, PackageVersion

if TYPE_CHECKING:
    from .cache import CachedVersion

RegistryLike = Union[Registry, str, "os.PathLike[str]", None]

__all__ = [
    "OBJECTS",
    "Fetched",
    "PackageNotFound",
    "PackageVersion",
    "Registry",
    "Report",
    "collect_garbage",
    "describe",
    "fetch",
    "fetch_checked",
    "fetch_to_cache",
    "list_versions",
    "manifest",
    "open",
    "push",
    "quilt",
    "read_meta",
    "refuse_unwritable",
    "repaired_line",
    "resolve_top_hash",
    "verify",
    "versions_frame",
    "_quilt_environment",
]


def open(registry: RegistryLike = None) -> Registry:  # noqa: A001 - registry.open() reads well
    """The registry: a :class:`Registry` as given, else ``--registry`` value, ``FASHION_REGISTRY``,
    or the embedded local one."""
    if isinstance(registry, Registry):
        return registry
    where = settings.registry(registry)
    if where.startswith("s3://"):
        from .s3 import S3Registry

        settings.s3_endpoint()  # a blank or malformed AWS_ENDPOINT_URL is named here, not by boto3

        return S3Registry(where)
    return LocalRegistry(where)


def refuse_unwritable(reg: Registry, name: str, *, unless_published: bool = False) -> None:
    """Raise now, before any work, the error a push of ``name`` to ``reg`` would end in: quilt3's unreadable or
    malformed settings file (:func:`.quilt.settings_problem`, any registry), or access denied: a
    local folder is probed (:meth:`LocalRegistry.write_problem`, its lock files too); an S3 bucket can't be asked without
    writing. ``unless_published``: not while ``reg`` holds a version of ``name``, which the data may be
    (publishing it again writes nothing)."""
    problem = settings_problem()  # quilt3 writes every manifest: its import, which reads its settings file, must work
    if isinstance(reg, LocalRegistry):
        problem = problem or _lock_denied(reg, f"publishing {name}") or reg.write_problem(f"publishing {name}", name)
    if problem and not (unless_published and reg.versions(name)):
        raise problem


def _lock_denied(reg: LocalRegistry, doing: str) -> RegistryAccessDenied | None:
    """The line a writer of ``reg`` would end in at its lock, where a lock file is there that this user can open
    neither to write nor to read (another user's, ``0600``): the lock file named (:meth:`.lock.LockDenied.reason`)."""
    from . import lock
    from .local import LOCK

    for path in (reg.root / LOCK, reg.push_lock):
        if denied := lock.denied(path):
            return RegistryAccessDenied(f"{doing}: {reg.describe()}: {denied.reason()}")
    return None


def describe(registry: RegistryLike = None) -> str:
    """The registry in words: ``local registry /path`` or ``s3://bucket (endpoint URL)``."""
    return open(registry).describe()


def repaired_line(label: str, written: int, registry: RegistryLike = None) -> str:
    """What a push of the latest version that wrote ``written`` damaged files of it again says, the
    registry named by :func:`describe` (S3 with its endpoint): ``fashion model push`` and ``fashion data
    push | prepare`` alike."""
    noun = "file" if written == 1 else "files"
    return f"Repaired {label}: {written} {noun} written again in {describe(registry)}"


def push(
    name: str,
    files: Mapping[str, Path],
    *,
    registry: RegistryLike = None,
    meta: dict | None = None,
    message: str | None = None,
    readme: str | None = None,
) -> str:
    """Publish ``files`` (logical key -> path) as a new version of ``name``; returns its top hash.

    A version that already was the latest, whose files (or pointers) were damaged in the registry and
    written again, says so on stderr: ``Repaired NAME@HASH: N files written again in REGISTRY``; one that
    was already the latest and whole says ``Already published: NAME@HASH in REGISTRY``."""
    from ..console import stderr
    from .publish import publish

    reg = open(registry)
    done = publish(reg, name, files, meta=meta, message=message, readme=readme)
    label = f"{name}@{short(done.top_hash)}"
    if done.written and not done.added:
        stderr(repaired_line(label, done.written, reg))
    elif not done.added:
        stderr(f"Already published: {label} in {reg.describe()}")
    return done.top_hash


def fetch(
    name: str, dest: Path, *, registry: RegistryLike = None, top_hash: str | None = None, overwrite: bool = True
) -> Fetched:
    """Fetch a version into ``dest``: every file checked, all of them or nothing. ``overwrite=False``
    refuses to replace a file there whose content differs (``--overwrite`` not given)."""
    from .download import fetch as _fetch

    return _fetch(open(registry), name, Path(dest), top_hash, overwrite=overwrite)


def fetch_to_cache(
    name: str,
    *,
    registry: RegistryLike = None,
    top_hash: str | None = None,
    dest: Path | None = None,
    overwrite: bool = True,
    found: manifest.Manifest | None = None,
) -> Fetched:
    """Fetch a version into ``dest``, by default a folder of its own under the data folder (a cache:
    it repairs its own copies, so ``overwrite`` matters only for a ``dest`` a person chose). ``found``: the
    version's verified manifest, where the caller has read it already (not asked of the registry again).

    A fetch into the cache ends by recording the version's manifest there (:mod:`.cache`). A registry that
    cannot be reached, or whose folder or bucket is gone, is stood in for by a complete cached copy of the
    version (``top_hash``, else the newest fetched from it), verified, with a note on stderr."""
    from . import cache
    from .download import fetch as _fetch

    reg = open(registry)
    try:
        if found is None:
            found = reg.manifest(name, reg.resolve(name, top_hash))
        resolved = found.top_hash
        fetched = _fetch(
            reg, name, Path(dest or cache.folder(name, resolved)), resolved, overwrite=overwrite, found=found
        )
    except RegistryError as exc:
        stand_in = cache.stand_in(reg, name, top_hash, exc)
        if stand_in is None:
            raise
        return stand_in.use(dest, overwrite=overwrite)
    except DestinationError as exc:
        raise cache.unwritable(exc) if dest is None else exc from None
    if dest is None:
        cache.keep(reg, found, fetched.dest)
    return fetched


def fetch_checked(
    reg: Registry,
    name: str,
    top_hash: str | None,
    check: Callable[[manifest.Manifest], None],
    dest: Path | None = None,
    overwrite: bool = True,
    *,
    offline: CachedVersion | None = None,
) -> Fetched:
    """Fetch ``name@top_hash`` (the latest if None) as :func:`fetch_to_cache` does, once ``check`` (which
    raises) has passed its verified manifest: what kind of version it is is said before a byte is fetched.
    The manifest comes from ``reg``, or, where ``reg`` cannot be reached, from the cached copy standing in
    for it (:func:`.cache.manifest_or_stand_in`), which is then used; ``offline``: that copy, already found."""
    from . import cache

    if offline is None:
        found, stand_in = cache.manifest_or_stand_in(reg, name, top_hash)
    else:
        found, stand_in = offline.found, offline
    check(found)
    if stand_in is not None:
        return stand_in.use(dest, overwrite=overwrite)
    return fetch_to_cache(name, registry=reg, dest=dest, overwrite=overwrite, found=found)


def resolve_top_hash(name: str, top_hash: str | None, *, registry: RegistryLike = None) -> str:
    """The full top hash: the latest version, or the one version a (prefix of a) hash names."""
    return open(registry).resolve(name, top_hash)


def read_meta(name: str, *, registry: RegistryLike = None, top_hash: str | None = None) -> tuple[str, dict, str | None]:
    """(top hash, user metadata, message) of a version, from its verified manifest."""
    return open(registry).read_meta(name, top_hash)


def list_versions(*, registry: RegistryLike = None, name: str | None = None) -> builtins.list[PackageVersion]:
    """Every version of every package (or of ``name``), newest first; damaged ones marked."""
    return open(registry).list_versions(name)


def versions_frame(versions: Iterable[PackageVersion]):
    """Package versions (``list_versions``' answer) as a pandas DataFrame, newest first."""
    import pandas as pd

    columns = ["name", "top_hash", "created", "message", "damaged"]
    return pd.DataFrame([{c: getattr(v, c) for c in columns} for v in versions], columns=columns)


def verify(
    *,
    registry: RegistryLike = None,
    name: str | None = None,
    top_hash: str | None = None,
    repair: bool = False,
    progress=None,
) -> Report:
    """Re-check manifests and objects (``fashion packages verify``)."""
    from .check import verify as _verify

    if top_hash and not name:
        raise ConfigError("--top-hash needs --name: which package is the version of?")
    return _verify(open(registry), name, top_hash, repair=repair, progress=progress)


def collect_garbage(*, registry: RegistryLike = None, grace_hours: float | None = None, delete: bool = False):
    """Objects no manifest names, older than ``grace_hours`` (default 24); removed if ``delete``
    (``fashion packages gc``); returns a :class:`~.gc.Collection`."""
    from .gc import DEFAULT_GRACE_HOURS, collect

    return collect(
        open(registry), grace_hours=DEFAULT_GRACE_HOURS if grace_hours is None else grace_hours, delete=delete
    )
