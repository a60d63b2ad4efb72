"""What a registry answers with: package versions, stored objects, fetched packages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class PackageVersion:
    name: str
    top_hash: str  # "" for a package whose version pointers are damaged
    created: datetime | None
    message: str | None
    damaged: str | None = None  # why this version cannot be used, or None


@dataclass(frozen=True)
class StoredObject:
    """An object in a registry's store, whether or not a manifest names it."""

    name: str  # the hex of its hash: objects/<name>
    size: int
    modified: float  # unix seconds (S3: the server's LastModified)


@dataclass(frozen=True)
class Fetched:
    name: str
    top_hash: str
    meta: dict
    message: str | None
    files: dict[str, Path]  # logical key -> local path
    dest: Path
