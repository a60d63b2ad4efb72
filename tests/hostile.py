"""Build hostile registries on disk: manifests edited, forged, truncated, pointing outside.

Forged manifests get a *consistent* top hash computed by stock quilt3 (not by our code),
so the only thing that can stop them is where fashion looks for the bytes.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from pathlib import Path

from fashion_lib import registry

PACKAGES = Path(".quilt/packages")
POINTERS = Path(".quilt/named_packages")


def manifest_path(reg: str | Path, top_hash: str) -> Path:
    return Path(reg) / PACKAGES / top_hash


def read_lines(reg: str | Path, top_hash: str) -> list[dict]:
    return [json.loads(line) for line in manifest_path(reg, top_hash).read_text().splitlines() if line.strip()]


def chunked(data: bytes) -> str:
    """quilt3's sha2-256-chunked value of small data (one part)."""
    return base64.b64encode(hashlib.sha256(hashlib.sha256(data).digest()).digest()).decode()


def quilt_top_hash(lines: list[dict]) -> str:
    """The top hash stock quilt3 computes for these manifest lines."""
    text = "\n".join(json.dumps(line) for line in lines) + "\n"
    return registry.quilt().Package.load(io.StringIO(text)).top_hash


def forge(reg: str | Path, name: str, lines: list[dict], *, top_hash: str | None = None, stamp: int = 1) -> str:
    """Write ``lines`` as a manifest and point a new version of ``name`` at it; returns its top hash.

    ``top_hash`` defaults to the one quilt3 computes (a consistent forgery); give another
    to make a manifest that does not match its name.
    """
    top_hash = top_hash or quilt_top_hash(lines)
    path = manifest_path(reg, top_hash)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    pointers = Path(reg) / POINTERS / name
    pointers.mkdir(parents=True, exist_ok=True)
    (pointers / str(stamp)).write_text(top_hash)
    (pointers / "latest").write_text(top_hash)
    return top_hash


def entry(key: str, url: str, data: bytes | None = None, *, size: int | None = None, value: str | None = None) -> dict:
    return {
        "logical_key": key,
        "physical_keys": [url],
        "size": len(data) if size is None else size,
        "hash": {"type": "sha2-256-chunked", "value": value or chunked(data or b"")},
        "meta": {},
    }
