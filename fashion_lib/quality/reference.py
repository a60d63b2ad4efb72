"""The data-quality reference: which published profile new data is compared with.

By default the newest version of the same package whose report passed without an override,
else the official profile that ships with the library; :func:`find_published` finds the
version whose report is about exactly some data.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from ..console import short
from ..errors import IntegrityError, PackageNotFound, RegistryError
from .profile import Profile, official

META_KEY = "quality"  # the package metadata key holding a version's quality summary


def _versions(name: str, registry: str | None) -> Iterator[tuple[str, dict]]:
    """(top hash, metadata) of the versions of ``name``, newest first, each manifest read only when
    the caller asks for it (callers stop at the first that serves); damaged versions are passed over,
    and a registry without the package has none."""
    from .. import registry as reg

    store = reg.open(registry)
    try:  # only "no such package" means no reference: an unreachable registry is an error
        stamped = store.versions(name)
    except PackageNotFound:
        return
    for _, top_hash in stamped:
        try:
            meta = store.read_meta(name, top_hash)[1]
        except IntegrityError:
            continue  # `fashion packages verify` names it
        yield top_hash, meta


def _profile_of(name: str, top_hash: str, meta: dict) -> Profile | None:
    quality = meta.get(META_KEY) or {}
    if not quality.get("profile"):
        return None
    try:
        return dataclasses.replace(Profile.from_dict(quality["profile"]), source=f"{name}@{short(top_hash)}")
    except (KeyError, TypeError, ValueError):
        return None


def reference_profile(
    name: str, *, registry: str | None = None, top_hash: str | None = None, exclude: str | None = None
) -> Profile:
    """The profile to compare with: ``top_hash``'s, else the newest version that passed
    without an override (other than ``exclude``), else the official profile."""
    from .. import registry as reg

    if top_hash:
        resolved, meta, _ = reg.read_meta(name, registry=registry, top_hash=top_hash)
        profile = _profile_of(name, resolved, meta)
        if profile is None:
            raise RegistryError(
                f"{name}@{short(resolved)} has no quality profile (published before the data-quality "
                "check, or around it); choose another --reference or leave it out"
            )
        return profile
    for version, meta in _versions(name, registry):
        quality = meta.get(META_KEY) or {}
        if version != exclude and quality.get("verdict") in ("pass", "warn") and not quality.get("accepted"):
            profile = _profile_of(name, version, meta)
            if profile is not None:
                return profile
    return official()


def find_published(name: str, registry: str | None, shas: dict[str, str]) -> str | None:
    """The version of ``name`` whose report is about exactly this data, if any."""
    for version, meta in _versions(name, registry):
        candidate = (meta.get(META_KEY) or {}).get("candidate") or {}
        if candidate and all(candidate.get(s, {}).get("sha256") == sha for s, sha in shas.items()):
            return version
    return None
