"""Read a quilt3 manifest and prove it is the one its top hash names.

A manifest is JSON lines: a header (``version``, ``message``, ``user_meta``), then one line
per file (``logical_key``, ``physical_keys``, ``size``, ``hash``, ``meta``). Its name, the
top hash, is quilt3's SHA-256 over the header and each entry's (hash, logical key, meta,
size) in tree order (``quilt3.Package._calculate_top_hash``). Physical keys are not hashed,
so they are never trusted: objects are found by their hash in the registry's own store.

Anything that does not parse, names conflicting keys (``a`` and ``a/b``), or hashes to
another top hash is refused with an :class:`IntegrityError` naming package and version.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..console import short
from ..errors import IntegrityError

# Written into every manifest header we publish (``fashion_schema``); manifests without
# one were written by fashion before schema versions (commit 36d4b36) and read the same.
SCHEMA_VERSION = 1
SCHEMA_FIELD = "fashion_schema"
MAX_MANIFEST_BYTES = 256 << 20
TOP_HASH = re.compile(r"[0-9a-f]{64}")
OBJECT_NAME = re.compile(r"[0-9a-f]{32,}")  # what object_name() gives: the hash in lowercase hex
_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode
_QUILT_ENCODE = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode  # a manifest line as quilt3 writes it


class DamagedManifest(IntegrityError):
    """A manifest that does not parse or does not hash to its name; ``reason`` says which, alone."""

    def __init__(self, label: str, reason: str) -> None:
        self.reason = reason  # "line 3 is not JSON (truncated or edited)": completes "its manifest ..."
        super().__init__(
            f"{label} is damaged: its manifest {reason}; fetch another version, or restore the registry from a good copy"
        )


@dataclass(frozen=True)
class Entry:
    key: str
    size: int
    hash_type: str
    hash_value: str
    meta: dict
    physical_key: str | None  # as written; never opened, but for where stock quilt3 pushed the file (S3Registry)
    package: str = ""  # the package whose manifest names it: a stock quilt3 push's files are under its name

    @property
    def object_name(self) -> str:
        """The name of this entry's object in the store: the hash's bytes in hex."""
        return object_name(self.hash_type, self.hash_value)


@dataclass(frozen=True)
class Manifest:
    name: str
    top_hash: str
    header: dict
    entries: list[Entry] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.name}@{short(self.top_hash)}"

    @property
    def meta(self) -> dict:
        meta = self.header.get("user_meta") or {}
        return dict(meta) if isinstance(meta, dict) else {}

    @property
    def message(self) -> str | None:
        message = self.header.get("message")
        return message if isinstance(message, str) else None

    @property
    def schema(self) -> int:
        """The fashion schema version (0: written before schema versions existed)."""
        value = self.header.get(SCHEMA_FIELD, 0)
        return value if isinstance(value, int) else -1


def object_name(hash_type: str, value: str) -> str:
    """Hex name of an object: base64 hashes (sha2-256-chunked) decoded, hex ones as given."""
    if re.fullmatch(r"[0-9a-fA-F]{64}", value):
        return value.lower()
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) < 16:
        raise ValueError(f"not a usable {hash_type} hash: {value!r}")
    return raw.hex()


def with_physical_keys(data: bytes, keys: Mapping[str, str]) -> bytes:
    """A manifest's bytes with these entries' physical keys (logical key -> URL), every other line as it was.

    Its top hash is the same: physical keys are not hashed.
    """
    lines = data.decode("utf-8").split("\n")  # JSON lines: only "\n" ends one (a message may hold U+2028)
    for number, line in enumerate(lines):
        record = json.loads(line) if line.strip() else None
        if isinstance(record, dict) and record.get("logical_key") in keys:
            record["physical_keys"] = [keys[record["logical_key"]]]
            lines[number] = _QUILT_ENCODE(record)
    return "\n".join(lines).encode("utf-8")


def top_hash_of(header: dict, entries: Iterable[Entry]) -> str:
    """quilt3's top hash of a header and entries (entries in any order)."""
    digest = hashlib.sha256()
    head = {k: v for k, v in header.items() if k != "top_hash"}
    digest.update(_ENCODE(head).encode())
    for entry in sorted(entries, key=lambda e: e.key.split("/")):  # quilt3's tree walk order
        part = {
            "hash": {"type": entry.hash_type, "value": entry.hash_value},
            "logical_key": entry.key,
            "meta": entry.meta,
            "size": entry.size,
        }
        digest.update(_ENCODE(part).encode())
    return digest.hexdigest()


def parse(data: bytes, name: str, top_hash: str) -> Manifest:
    """The manifest of ``name@top_hash`` from its bytes, refused unless it hashes to ``top_hash``."""
    label = f"{name}@{short(top_hash)}"

    def damaged(why: str) -> DamagedManifest:
        return DamagedManifest(label, why)

    lines = data.decode("utf-8", errors="replace").split("\n")  # not splitlines: U+2028 in a message is no line end
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise damaged(f"line {number} is not JSON (truncated or edited)") from None
        if not isinstance(record, dict):
            raise damaged(f"line {number} is not a JSON object")
        records.append(record)
    if not records:
        raise damaged("is empty")
    header, entries, seen, dirs = records[0], [], set(), set()
    if "logical_key" in header:
        raise damaged("has no header line")
    for number, record in enumerate(records[1:], 2):
        key = record.get("logical_key")
        if not record.get("physical_keys") and isinstance(record.get("meta"), dict) and isinstance(key, str):
            continue  # directory-level metadata: quilt3 does not hash it either
        entry = _entry(record, number, damaged, name)
        parts = entry.key.split("/")
        prefixes = {"/".join(parts[:i]) for i in range(1, len(parts))}
        if entry.key in seen or entry.key in dirs or prefixes & seen:
            raise damaged(f"has conflicting logical keys at {entry.key!r} (a file and a folder, or twice)")
        seen.add(entry.key)
        dirs |= prefixes
        entries.append(entry)
    actual = top_hash_of(header, entries)
    if actual != top_hash:
        raise damaged(
            f"hashes to {short(actual)}, not to the top hash that names it (edited or truncated after publishing)"
        )
    return Manifest(name, top_hash, header, entries)


def _entry(record: dict[str, Any], number: int, damaged, package: str) -> Entry:
    key, size, hashed = record.get("logical_key"), record.get("size"), record.get("hash")
    if (
        not isinstance(key, str)
        or not key
        or key.startswith("/")
        or any(part in ("", ".", "..") for part in key.split("/"))
        or "\\" in key
        or "\0" in key
    ):
        raise damaged(f"line {number} has an unsafe logical key {key!r}")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise damaged(f"line {number} ({key}) has no valid size")
    if (
        not isinstance(hashed, dict)
        or not isinstance(hashed.get("type"), str)
        or not isinstance(hashed.get("value"), str)
    ):
        raise damaged(f"line {number} ({key}) has no valid hash")
    try:
        object_name(hashed["type"], hashed["value"])
    except ValueError:
        raise damaged(f"line {number} ({key}) has no valid hash") from None
    meta = record.get("meta") or {}
    keys = record.get("physical_keys")
    physical = keys[0] if isinstance(keys, list) and keys and isinstance(keys[0], str) else None
    return Entry(key, size, hashed["type"], hashed["value"], meta if isinstance(meta, dict) else {}, physical, package)
